// RunSync: the life of one cp/sync run. Streams both listings through plan::MergeListings,
// filters and decides per key (plan::Decide), hands copies to the TransferEngine as they are
// found (listing and copying overlap), and spools deletes to a temporary file so that they run
// only after every copy succeeded (a failed or partial run never deletes). Memory stays
// bounded regardless of the object count: one listing page per side, a bounded task queue, the
// byte budget, and a spool on disk. Copies are written with deferred durability and made
// durable together by the destination's Backend::Sync once the last copy ended, before RunSync
// returns (and so before the caller prints a summary) and before a move deletes a source; a
// failed Sync fails the run.
//
// Thread-safety: one call per thread. The run is one TransferEngine session on `executor`, which
// other runs may share (its budgets are shared; Cancel via `stop` stops this run only).
#pragma once

#include <functional>
#include <stop_token>

#include "base/clock.h"
#include "plan/decide.h"
#include "plan/delete_limit.h"
#include "plan/filter.h"
#include "plan/merge.h"
#include "storage/backend.h"
#include "transfer/backup_dir.h"
#include "transfer/cutoff.h"
#include "transfer/engine.h"
#include "transfer/stats.h"

namespace ferry::transfer {

class Executor;

// What a run considers, when not both full listings: feeds `planner` the keys of both sides
// in ascending order through plan::MergeListings (as many merges as it likes, each after the
// last: the planner sees one ordered stream), on the calling thread, and returns OK only when
// every key it was to consider was seen (otherwise the run deletes nothing). `executor` is
// the run's, for lookups it sends as tasks. `--files-from` (app/files_from.h).
using ListingDriver =
    std::function<Status(Executor& executor, storage::Backend& src, storage::Backend& dst,
                         plan::ListingVisitor& planner, std::stop_token stop)>;

struct SyncOptions {
  plan::Filter filter;        // the objects (of both sides) the run considers; default: all
  TransferOptions transfer;
  // Settings for the caller that makes an executor for the run (the CLI's --concurrency and
  // --memory, tests that measure a run's budget): RunSync reads none of them, it runs on the
  // executor it is given.
  ExecutorOptions executor;
  bool delete_extra = false;  // sync --delete
  // --max-delete: checked on the spool's count before the first delete; past it no delete is
  // made (nor reported, in a dry run) and the result says why (delete_limit_tripped).
  plan::DeleteLimit max_delete;
  // --max-transfer, --max-duration, --cutoff-mode (transfer/cutoff.h): past a limit no copy
  // starts (hard: those in flight are cancelled), no delete is made, and the result says why
  // (SyncResult::cutoff) and what is left. A rerun copies the rest.
  CutoffOptions cutoff;
  // ferry move (transfer/move_source.h): after every copy ended, the source objects the
  // destination proved (a verified copy, or found the same by a byte proof) are deleted from
  // the source in batches; the others stay and are failures. `max_delete` then guards these
  // source deletes (its percentage of the source objects in scope). Not with delete_extra.
  bool move = false;
  // --backup-dir, --suffix (transfer/backup_dir.h): each destination object the run replaces
  // or deletes is first copied into the backup location; a failed backup leaves it untouched.
  BackupDirOptions backup;
  bool progress = false;      // live progress line on stderr
  std::string src_prefix;     // sub-prefix of the source backend to list ("" = all)
  // Set: replaces the two listings (src_prefix then unused). Empty: both sides listed in full.
  ListingDriver listing;
  // Times the run (SyncResult::seconds, the progress line). Null: SystemClock::Default().
  Clock* clock = nullptr;
};

struct SyncResult {
  Status status;  // non-OK when listing failed or the run was cancelled (per-object failures
                  // are in Stats)
  double seconds = 0;
  uint64_t peak_buffer_bytes = 0;  // the executor's peak so far
  // deletes were due but skipped because something failed (ferry move: the source deletes,
  // skipped when the run was cut, interrupted or its listing failed)
  bool deletes_skipped = false;
  // The deletes planned were past --max-delete: none was made, and `status` is the one
  // kFailedPrecondition line that says so (plan::DeleteLimitRefusal).
  bool delete_limit_tripped = false;
  // The run was cut by --max-transfer or --max-duration: `status` is the kCancelled line that
  // says which and what is left (Cutoff::Describe); deletes were skipped.
  CutoffReason cutoff = CutoffReason::kNone;
  uint64_t objects_left = 0;  // copies not made because of the cut
  uint64_t bytes_left = 0;
};

// Runs the sync as one session on `executor` (which must outlive the call): there is no run
// without the process's executor (tests: testing::TestExecutor() or one of their own).
SyncResult RunSync(Executor& executor, storage::Backend& src, storage::Backend& dst,
                   const SyncOptions& options, Stats& stats, std::stop_token stop);

}  // namespace ferry::transfer
