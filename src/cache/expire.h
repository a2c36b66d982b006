// Expire: deletes cached objects past their TTL together with their index rows, exactly (every
// expired entry goes in the pass that finds it, unless renewed) and safely against concurrent
// warms. Per entry, in this order (docs/design/cache.md, "Expiry"):
//   1. read the expired rows (Expired);
//   2. mark the row expiring, compare-and-swap on the generation read in 1 (MarkExpiring): a
//      warm that renewed or recopied it after 1 bumped the generation, so the mark fails and
//      the object is kept; from now on a warm treats the key as not cached and waits;
//   3. check the mark is still ours and extend it (HoldMark), right before
//   4. deleting the object from the cache, then
//   5. deleting the row if it still carries our mark (DeleteMarked).
// The row goes only after its object: a pass that dies between 4 and 5 leaves a marked row
// without object, never an object without row; the next pass (or a warm) takes the mark over
// once its lease ran out. A warm never renews a marked row, so an object renewed after step 2
// cannot be deleted under it, and nothing stale is served: a recopy happens only once the
// row is gone or taken over.
//
// Serve runs passes every `interval` on the index's clock until stopped.
// Errors: the index's (the pass stops); failed object deletes are per-entry failures (the row
// keeps its mark and is retried when the mark's lease ran out).
// Thread-safety: one pass per call; passes in several processes are safe (the CAS decides).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <vector>

#include "cache/index.h"
#include "storage/backend.h"

namespace ferry::cache {

struct ExpireOptions {
  std::chrono::milliseconds mark_lease{60'000};  // time to delete one object
  int batch = 1000;                              // rows read per query
  // Test hook: called between steps 1 and 2 for each entry (a renew racing the expiry).
  std::function<void(const Entry&)> before_mark;
  // When set, called once before the pass deletes anything, with the entries expired now
  // (CountExpired) and those the cache holds (Totals): its error ends the pass with nothing
  // deleted (`--max-delete`, plan/delete_limit.h).
  std::function<Status(uint64_t expired, uint64_t held)> approve;
};

struct ExpireResult {
  uint64_t expired = 0;  // objects and rows deleted
  uint64_t kept = 0;     // renewed or taken over after they were read: not deleted
  uint64_t failed = 0;
  uint64_t bytes = 0;  // size of the expired objects
  std::vector<KeyFailure> failures;
};

Result<ExpireResult> ExpirePass(CacheIndex& index, storage::Backend& cache,
                                const ExpireOptions& options, std::stop_token stop);

// Runs ExpirePass every `interval` (on the index's clock) until `stop`; `on_pass` sees each
// pass's result or error (an error does not end the loop: the database may come back).
void Serve(CacheIndex& index, storage::Backend& cache, const ExpireOptions& options,
           std::chrono::milliseconds interval,
           const std::function<void(const Result<ExpireResult>&)>& on_pass, std::stop_token stop);

}  // namespace ferry::cache
