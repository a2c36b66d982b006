// RunSync: the life of one cp/sync run. Streams both listings through plan::MergeListings,
// filters and decides per key (plan::Decide), hands copies to the TransferEngine as they are
// found (listing and copying overlap), and spools deletes to a temporary file so that they run
// only after every copy succeeded (a failed or partial run never deletes). Memory stays
// bounded regardless of the object count: one listing page per side, a bounded task queue, the
// byte budget, and a spool on disk.
//
// Thread-safety: one call per thread. The run is one TransferEngine session on `executor`, which
// other runs may share (its budgets are shared; Cancel via `stop` stops this run only).
#pragma once

#include <stop_token>

#include "base/clock.h"
#include "plan/decide.h"
#include "plan/filter.h"
#include "storage/backend.h"
#include "transfer/engine.h"
#include "transfer/stats.h"

namespace ferry::transfer {

struct SyncOptions {
  plan::Filter filter;        // the objects (of both sides) the run considers; default: all
  TransferOptions transfer;
  ExecutorOptions executor;   // only for the RunSync that makes its own executor
  bool delete_extra = false;  // sync --delete
  bool progress = false;      // live progress line on stderr
  std::string src_prefix;     // sub-prefix of the source backend to list ("" = all)
  // Times the run (SyncResult::seconds, the progress line). Null: SystemClock::Default().
  Clock* clock = nullptr;
};

struct SyncResult {
  Status status;  // non-OK when listing failed or the run was cancelled (per-object failures
                  // are in Stats)
  double seconds = 0;
  uint64_t peak_buffer_bytes = 0;  // the executor's peak so far
  bool deletes_skipped = false;  // deletes were due but skipped because something failed
};

SyncResult RunSync(Executor& executor, storage::Backend& src, storage::Backend& dst,
                   const SyncOptions& options, Stats& stats, std::stop_token stop);
// The same on a private executor made from options.executor (tests).
SyncResult RunSync(storage::Backend& src, storage::Backend& dst, const SyncOptions& options,
                   Stats& stats, std::stop_token stop);

}  // namespace ferry::transfer
