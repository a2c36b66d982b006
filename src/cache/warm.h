// Warm: one `ferry cache warm` request. Lists the source under each prefix, skips (and renews)
// what the index says is cached and unchanged, copies the rest into the cache through a
// TransferEngine session on the process's Executor, and records the copies in the index.
//
// The request holds its prefixes (locks.h) for its whole life, renewed every third of the
// lease, and never waits to start: overlapping requests run side by side and share the work
// per key. Before copying a key the request claims it (CacheIndex::Claim, in batches, just
// ahead of the copies): a key another live request claimed is waited for, alone — when that
// request recorded it, it is skipped and counted as `joined`; when it failed it, this request
// reports that failure (the holder's); when its lease ran out, the claim is taken over and
// the key copied. So no object is copied twice while the holders are alive. Copies are
// recorded in batches (record_batch copies or record_interval, whichever comes first, and
// always before the request reports or releases its hold): a request that dies loses at most
// its unrecorded batch, which the next request copies again. A holder that loses its hold
// (another request took it over after its lease ran out) cancels its copies in flight and
// fails with kFailedPrecondition.
//
// Unchanged means: same size, and the same ETag (or, for sources without ETags, the same
// modification time) as when it was copied. `force` recopies everything under the prefixes
// (but not what an overlapping request copied after this one started) and forgets the
// failures reported on them before.
//
// Errors (the request as a whole): kInvalidArgument (no prefixes, TTL <= 0), kCancelled
// (stopped), kFailedPrecondition (hold lost), the index's or the source listing's errors.
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
#include "report/row.h"
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
  // How often a request waiting for keys looks again (claimed by another request, expiring).
  std::chrono::milliseconds poll{500};
  transfer::TransferOptions transfer;
  size_t renew_batch = 500;  // keys renewed per transaction
  size_t claim_batch = 100;  // keys claimed per transaction (also how far claims run ahead)
  // Copies recorded per transaction, and the longest a finished copy waits unrecorded (on the
  // index's clock; also how long listed keys wait to be claimed short of claim_batch).
  size_t record_batch = 200;
  std::chrono::milliseconds record_interval{100};
  // The request's per-object report (`ferry cache warm --report`, docs/design/report.md), or
  // null: one row per object listed, once its outcome is settled (warm_rows.h). Added
  // from the request's threads and the copies' tasks. Not owned. (`transfer.report` stays
  // null: the engine's rows of the copies are taken here and given once recorded.)
  report::RowSink* report = nullptr;
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
  // Transactions the state database committed during the request (claims, records, renewals,
  // the hold; in a process that runs only this request: all of them are its own).
  uint64_t index_transactions = 0;
  std::vector<KeyFailure> failures;  // this request's
  // Failures that other requests reported on these prefixes since the last --force (the last
  // one of each key).
  std::vector<KeyFailure> earlier_failures;
  // Owners of overlapping requests in flight when this one started.
  std::vector<std::string> overlapping;
  std::vector<std::string> waited_for;  // owners of requests whose keys this one waited for
  std::vector<std::string> taken_over;  // owners of dead requests whose work was taken over
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
