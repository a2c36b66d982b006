// What a warm request would do, decided without holding, claiming or copying anything: `ferry
// cache warm --dry-run` (docs/design/cost.md). The source is listed under the request's
// prefixes (real LIST requests) and each object compared with the index as Warm compares it
// (CachedUnchanged): what is not cached, marked by an expiry pass, changed at the source, or
// every object under `force`, would be copied; the rest renewed. Keys another request holds
// are counted by the index's word now (a live request may copy them first).
//
// Thread-safety: one call per thread; the index may be shared.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "cache/index.h"
#include "cache/warm.h"
#include "storage/backend.h"

namespace ferry::cache {

// An object's modification time as the index records it (Entry::source_mtime_ns).
int64_t SourceMtimeNs(const storage::ObjectInfo& o);

// Whether the cached entry `e` still holds the source object `o`: the same size, and the same
// ETag (or, for sources without ETags, the same modification time) as when it was copied.
bool CachedUnchanged(const Entry& e, const storage::ObjectInfo& o);

struct WarmPlan {
  std::vector<std::string> prefixes;  // as a request would lock them (normalized)
  uint64_t listed = 0;                // source objects under the prefixes
  uint64_t to_copy = 0;               // would be copied
  uint64_t bytes_to_copy = 0;         // their bytes
  uint64_t cached = 0;                // cached and unchanged: would be renewed
};

// kInvalidArgument for a request Warm refuses (no prefixes, TTL <= 0); the index's and the
// listing's errors; kCancelled when stopped.
Result<WarmPlan> PlanWarm(const WarmRequest& request, storage::Backend& source,
                          CacheIndex& index, std::stop_token stop);

}  // namespace ferry::cache
