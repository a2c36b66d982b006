// A warm request planned without acting (warm_plan.h).
#include "cache/warm_plan.h"

#include <unordered_map>

namespace ferry::cache {

int64_t SourceMtimeNs(const storage::ObjectInfo& o) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(o.mtime.time_since_epoch()).count();
}

bool CachedUnchanged(const Entry& e, const storage::ObjectInfo& o) {
  if (e.size != o.size) return false;
  if (!o.etag.empty() || !e.source_etag.empty()) return e.source_etag == o.etag;
  return e.source_mtime_ns == SourceMtimeNs(o);
}

Result<WarmPlan> PlanWarm(const WarmRequest& request, storage::Backend& source,
                          CacheIndex& index, std::stop_token stop) {
  if (request.prefixes.empty()) return Status::InvalidArgument("cache warm: no prefixes");
  if (request.ttl.count() <= 0) return Status::InvalidArgument("cache warm: TTL must be positive");
  WarmPlan plan;
  plan.prefixes = NormalizePrefixes(request.prefixes);
  for (const std::string& prefix : plan.prefixes) {
    FERRY_ASSIGN_OR_RETURN(std::vector<Entry> entries, index.EntriesUnder(prefix));
    std::unordered_map<std::string, Entry> by_key;
    by_key.reserve(entries.size());
    for (Entry& e : entries) by_key.emplace(e.key, std::move(e));
    FERRY_ASSIGN_OR_RETURN(auto cursor, source.List(prefix));
    for (;;) {
      if (stop.stop_requested()) return Status::Cancelled("interrupted");
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
      if (o == nullptr) break;
      if (o->not_followed) continue;  // as Warm: nothing of a linked folder is warmed
      ++plan.listed;
      auto it = by_key.find(o->key);
      if (request.force || it == by_key.end() || it->second.expiring ||
          !CachedUnchanged(it->second, *o)) {
        ++plan.to_copy;
        plan.bytes_to_copy += o->size;
      } else {
        ++plan.cached;
      }
    }
  }
  return plan;
}

}  // namespace ferry::cache
