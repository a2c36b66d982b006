// Warm: one `ferry cache warm` request. Lists the source under each prefix, skips (and renews)
// what the index says is cached and unchanged, copies the rest into the cache through a
// TransferEngine session on the process's Executor, and records each copy in the index.
//
// Under the request's prefix lock (locks.h), held for the whole request and renewed every
// third of its TTL: an overlapping request in any process waits until this one released it
// (then finds its copies in the index: skipped, and counted as `joined`), or until its lease
// ran out (then takes over and copies what is left). So no object is copied twice while the
// holders are alive. A holder that loses its lock (another request took it over after its
// lease ran out) cancels its copies in flight and fails with kFailedPrecondition.
//
// Unchanged means: same size, and the same ETag (or, for sources without ETags, the same
// modification time) as when it was copied. `force` recopies everything under the prefixes
// and forgets the failures reported on them before.
//
// Errors (the request as a whole): kInvalidArgument (no prefixes, TTL <= 0), kCancelled
// (stopped), kFailedPrecondition (lock lost), the index's or the source listing's errors.
// Failures of single objects are part of the result, recorded in the index for later requests.
// Thread-safety: one call per thread; the index, locks and executor may be shared.
#pragma once

#include <chrono>
#include <cstdint>
#include <stop_token>
#include <string>
#include <vector>

#include "cache/index.h"
#include "cache/locks.h"
#include "storage/backend.h"
#include "transfer/engine.h"
#include "transfer/executor.h"

namespace ferry::cache {

struct WarmRequest {
  std::vector<std::string> prefixes;  // "" = the whole bucket
  std::chrono::seconds ttl{0};
  bool force = false;
};

struct WarmOptions {
  std::string owner;  // unique per request (host, process): who holds the lock
  std::chrono::milliseconds lock_ttl{30'000};
  // How often a waiting request looks again (overlapping lock, expiring entry).
  std::chrono::milliseconds poll{500};
  transfer::TransferOptions transfer;
  size_t renew_batch = 500;  // keys renewed per transaction
};

struct WarmResult {
  uint64_t listed = 0;   // source objects under the prefixes
  uint64_t copied = 0;   // copied into the cache by this request
  uint64_t skipped = 0;  // cached and unchanged: expiry extended
  // Of the skipped, those an overlapping request copied while this one waited for it.
  uint64_t joined = 0;
  uint64_t failed = 0;
  uint64_t bytes = 0;  // bytes copied
  double seconds = 0;
  std::vector<KeyFailure> failures;  // this request's
  // Failures that other requests reported on these prefixes since the last --force (the last
  // one of each key).
  std::vector<KeyFailure> earlier_failures;
  std::vector<std::string> waited_for;  // owners of overlapping requests waited for
  std::vector<std::string> taken_over;  // owners of dead requests whose locks were taken over
  std::vector<std::string> prefixes;    // as locked (normalized)
};

struct WarmContext {
  storage::Backend& source;
  storage::Backend& cache;
  CacheIndex& index;
  PrefixLocks& locks;
  transfer::Executor& executor;
};

Result<WarmResult> Warm(const WarmRequest& request, const WarmContext& ctx,
                        const WarmOptions& options, std::stop_token stop);

}  // namespace ferry::cache
