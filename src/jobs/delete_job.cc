// Delete jobs: the keys a scan planned as destination-only, deleted once the run reached its
// delete phase. That can be long after the scan (a redrive days later), so each key is checked
// against the source again right before: a key the source has now is kept.
#include <algorithm>

#include "jobs/worker_internal.h"

namespace ferry::jobs {
namespace {

// Batches up to this many keys are checked with one Stat (HEAD) per key; larger ones with a
// listing of their key range.
constexpr size_t kStatAtMost = 2;
// Keys a listing page holds (S3 ListObjectsV2): what one listing request covers.
constexpr size_t kKeysPerPage = 1000;

// A string just below `key` (so that a listing that starts after it includes `key`), as close
// as a valid UTF-8 string can cheaply be: `key` without its last character c, plus the
// character before c and U+10FFFF when c is ASCII. Only keys that start with that are listed
// needlessly.
std::string JustBefore(std::string_view key) {
  size_t cut = key.size();
  while (cut > 0 && (static_cast<unsigned char>(key[cut - 1]) & 0xC0) == 0x80) --cut;
  if (cut > 0) --cut;
  std::string out(key.substr(0, cut));
  const auto last = static_cast<unsigned char>(key.empty() ? 0 : key.back());
  if (key.size() - cut == 1 && last > 0x01 && last < 0x80) {
    out.push_back(static_cast<char>(last - 1));
    out.append(kMaxCharacter);
  }
  return out;
}

// Sets present[i] for each of `keys` (sorted, unique) that `src` has now. One listing of the
// keys' range while it stays cheaper than a Stat per key left, then a Stat per key.
Status FindOnSource(storage::Backend& src, const std::vector<std::string>& keys,
                    std::vector<bool>& present, std::stop_token stop) {
  size_t next = 0;  // keys[next..] are not decided yet
  // The listing is merged with the sorted keys: only a source that lists in byte order (a
  // directory bucket does not) is listed; otherwise each key is asked for.
  if (keys.size() > kStatAtMost && src.features().sorted_listing) {
    const KeyRange range{JustBefore(keys.front()), keys.back()};
    FERRY_ASSIGN_OR_RETURN(auto cursor, src.ListFrom(range.SharedPrefix(), range.start_after));
    size_t listed = 0;
    while (next < keys.size()) {
      if (stop.stop_requested()) return Status::Cancelled("stopped");
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
      if (o == nullptr || o->key > keys.back()) {
        next = keys.size();  // the source has none of the rest
        break;
      }
      while (next < keys.size() && keys[next] < o->key) ++next;  // absent
      if (next < keys.size() && keys[next] == o->key) present[next++] = true;
      if (o->not_followed || (!o->unreadable.empty() && o->key.ends_with('/'))) {
        // A folder not entered or not readable: what is under it is unknown, kept.
        while (next < keys.size() && keys[next].starts_with(o->key)) present[next++] = true;
      }
      // Far more source keys than batch keys in the range: a Stat of each key left is cheaper.
      if (++listed >= kKeysPerPage * (keys.size() - next)) break;
    }
  }
  for (; next < keys.size(); ++next) {
    auto info = src.Stat(keys[next], /*with_tags=*/false, stop);
    if (info.ok()) {
      present[next] = true;
    } else if (info.status().code() != ErrorCode::kNotFound &&
               info.status().code() != ErrorCode::kInvalidArgument) {  // a key it cannot hold
      return info.status().WithContext("source");
    }
  }
  return Status::Ok();
}

}  // namespace

Status RunDeleteJob(RunContext& ctx, std::vector<std::string> keys, transfer::Stats& stats,
                    std::stop_token stop) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<bool> present(keys.size(), false);
  FERRY_RETURN_IF_ERROR(FindOnSource(*ctx.src, keys, present, stop));
  std::vector<std::string> gone;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!present[i]) gone.push_back(std::move(keys[i]));
  }
  if (!gone.empty()) FERRY_RETURN_IF_ERROR(ctx.dst->DeleteMany(gone, stop));
  stats.objects_deleted += gone.size();
  stats.deletes_kept += keys.size() - gone.size();
  return Status::Ok();
}

}  // namespace ferry::jobs
