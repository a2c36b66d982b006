// Verify: index against cache location, both ways (see verify.h).
#include "cache/verify.h"

#include <unordered_map>
#include <unordered_set>

namespace ferry::cache {
namespace {

int64_t VerifiedMtimeNs(const storage::ObjectInfo& o) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(o.mtime.time_since_epoch()).count();
}

// Whether the cached object provably holds the bytes of the source object: same size, and a
// digest both stores computed that agrees: the same plain MD5 ETag, the same multipart ETag
// ("<md5>-N": the same part MD5s), or the same full-object x-amz-checksum-*. Equal ferry
// CRC32Cs are not enough: each is a writer's claim, which a tool that changed the bytes may
// have kept (docs/design/integrity.md §8). An object not proven is deleted, not adopted: the
// cache warms it again when asked.
Result<bool> SameBytes(storage::Backend& cache, storage::Backend& source,
                       const storage::ObjectInfo& cached, storage::ObjectInfo& src,
                       std::stop_token stop) {
  if (cached.size != src.size) return false;
  const bool opaque = cached.etag_opaque || src.etag_opaque;
  const bool digest_etag = src.etag_is_md5() || src.etag.find('-') == 32;
  if (!cached.etag.empty() && cached.etag == src.etag && digest_etag && !opaque) return true;
  FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo c, cache.Stat(cached.key, false, stop));
  if (!src.has_details) {
    FERRY_ASSIGN_OR_RETURN(src, source.Stat(src.key, false, stop));
  }
  if (c.etag_opaque || src.etag_opaque) return false;
  const auto& a = c.checksum;
  const auto& b = src.checksum;
  return a && b && a->full_object() && b->full_object() && a->algorithm == b->algorithm &&
         a->value == b->value;
}

}  // namespace

Result<VerifyResult> Verify(CacheIndex& index, storage::Backend& cache, storage::Backend* source,
                            const VerifyOptions& options, std::stop_token stop) {
  if (options.unknown == UnknownObjects::kAdopt && source == nullptr) {
    return Status::InvalidArgument("cache verify: adopting needs the source");
  }
  VerifyResult result;
  // Entries first, then the listing: an entry recorded after this read has its object already
  // (a copy is recorded after it was written), so an object listed without entry is unknown
  // only if the index still does not know it when we act (checked again below).
  FERRY_ASSIGN_OR_RETURN(std::vector<Entry> entries, index.EntriesUnder(""));
  result.entries = entries.size();
  std::unordered_map<std::string, Entry> by_key;
  for (Entry& e : entries) by_key.emplace(e.key, std::move(e));
  entries.clear();
  std::vector<std::string> nested;  // key prefixes of the nested caches
  FERRY_ASSIGN_OR_RETURN(std::vector<std::string> nested_caches, index.NestedCaches());
  for (const std::string& name : nested_caches) nested.push_back(name.substr(index.cache().size()));
  auto in_nested = [&nested](const std::string& key) {
    for (const std::string& p : nested) {
      if (key.compare(0, p.size(), p) == 0) return true;
    }
    return false;
  };
  std::unordered_set<std::string> present;
  std::vector<storage::ObjectInfo> unknown;
  FERRY_ASSIGN_OR_RETURN(auto cursor, cache.List(""));
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("interrupted");
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (o->not_followed) continue;  // a symbolic link to a folder: not the cache's object
    result.objects++;
    present.insert(o->key);
    if (by_key.contains(o->key)) continue;
    if (in_nested(o->key)) {
      result.nested++;
      continue;
    }
    unknown.push_back(*o);
  }
  auto fail = [&](const std::string& key, const Status& s) {
    result.failures.push_back(KeyFailure{
        .key = key, .error = s.message(), .request = options.request, .at_ms = index.NowMs()});
  };
  for (const auto& [key, e] : by_key) {
    if (present.contains(key) || e.expiring) continue;  // an expiring row is the expirer's
    FERRY_ASSIGN_OR_RETURN(bool dropped, index.DropEntry(e));
    if (dropped) result.dropped++;
  }
  result.unknown = unknown.size();
  if (options.unknown == UnknownObjects::kReport || unknown.empty()) return result;
  FERRY_ASSIGN_OR_RETURN(bool known, index.Known());
  if (!known) {
    return Status::FailedPrecondition(
        "cache verify: this state store knows nothing of the cache " + index.cache() +
        " (no warm ran on it with this --state): refusing to adopt or delete its " +
        std::to_string(unknown.size()) + " unknown objects; give the cache's own --state");
  }
  for (const storage::ObjectInfo& o : unknown) {
    FERRY_ASSIGN_OR_RETURN(std::optional<Entry> now, index.Get(o.key));
    if (now) continue;  // recorded since the index was read
    // A warm request claims it: its copy is in flight or not recorded yet (copies are
    // recorded in batches). Left alone; a later verify decides if it stays unknown.
    FERRY_ASSIGN_OR_RETURN(bool in_flight, index.ClaimedLive(o.key));
    if (in_flight) continue;
    if (options.unknown == UnknownObjects::kAdopt) {
      Result<storage::ObjectInfo> src = source->Stat(o.key, false, stop);
      if (!src.ok() && src.status().code() != ErrorCode::kNotFound) {
        fail(o.key, src.status());
        continue;
      }
      if (src.ok()) {
        Result<bool> same = SameBytes(cache, *source, o, *src, stop);
        if (!same.ok()) {
          fail(o.key, same.status());
          continue;
        }
        if (*same) {
          FERRY_RETURN_IF_ERROR(index.Record(Copied{.key = o.key,
                                                    .source_etag = src->etag,
                                                    .source_version = src->version_id,
                                                    .source_mtime_ns = VerifiedMtimeNs(*src),
                                                    .size = src->size},
                                             options.adopt_ttl, options.request));
          result.adopted++;
          continue;
        }
      }
    }
    if (Status s = cache.Delete(o.key, stop); !s.ok() && s.code() != ErrorCode::kNotFound) {
      fail(o.key, s);
      continue;
    }
    result.deleted++;
  }
  return result;
}

}  // namespace ferry::cache
