// Verify: compares the index of a cache with the objects in the cache location and mends both
// ways: an entry whose object is gone is dropped (compare-and-delete on its generation, so a
// copy recorded meanwhile stays); an object the index does not know is adopted (when the
// source still holds the same bytes: same size and ETag, or the same ferry CRC32C) or deleted,
// unless a live warm request claims its key (its copy is not recorded yet: left alone).
// The cache listing's order is not assumed (a directory bucket lists out of order).
// Guards: objects under a nested cache of the same state store (one whose location lies inside
// this one's) are that cache's, never unknown here; and a state store that knows nothing of
// the cache (no warm ran on it with this store, no entry) is no authority on what is unknown:
// adopting or deleting is refused then (kFailedPrecondition), reporting still works.
//
// Errors: the index's and the listings'; per-object failures are part of the result.
// Thread-safety: one call per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <vector>

#include "cache/index.h"
#include "storage/backend.h"

namespace ferry::cache {

enum class UnknownObjects {
  kReport,  // count them, change nothing
  kAdopt,   // adopt those the source proves; delete the rest
  kDelete,  // delete them all
};

struct VerifyOptions {
  UnknownObjects unknown = UnknownObjects::kReport;
  std::chrono::seconds adopt_ttl{24 * 3600};  // expiry of adopted objects
  std::string request = "verify";             // recorded as who copied an adopted object
};

struct VerifyResult {
  uint64_t objects = 0;  // in the cache location
  uint64_t entries = 0;  // in the index
  uint64_t dropped = 0;  // entries whose object was gone
  uint64_t unknown = 0;  // objects the index did not know
  uint64_t nested = 0;   // objects of nested caches: left to them, not counted as unknown
  uint64_t adopted = 0;
  uint64_t deleted = 0;
  std::vector<KeyFailure> failures;
};

// `source` may be null unless unknown == kAdopt.
Result<VerifyResult> Verify(CacheIndex& index, storage::Backend& cache, storage::Backend* source,
                            const VerifyOptions& options, std::stop_token stop);

}  // namespace ferry::cache
