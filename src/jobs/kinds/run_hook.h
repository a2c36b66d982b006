// RunHook: what a capability adds to the runs it serves beside its job kinds, so that jobs
// names no capability. jobs' own scan plans every run; a compressed run (src/transport) needs
// more than jobs knows: its staging location and stores opened with the run, its copies batched
// into pack jobs, its deletes per region, and (a backup) its source compared with a catalog.
// The composition root registers the hooks with the kinds (KindRegistry::AddRunHook,
// src/app/kinds.cc); the worker offers each run it opens to them in turn (OpenRunContext), and
// the first that takes it serves it (RunContext::hook): its ChunkPlan plans every chunk of the
// run's scans (scan.cc). A run no hook takes is planned into transfer and delete jobs.
//
// Thread-safety: a hook is shared by every run and worker: Open and PlanChunk are called
// concurrently and keep nothing in the hook (per run state goes to RunContext::kind_state). A
// ChunkPlan is used by the one scan that made it, on one thread.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobs/job_store.h"
#include "jobs/key_range.h"
#include "jobs/worker.h"
#include "storage/backend.h"
#include "transfer/engine.h"
#include "transfer/stats.h"

namespace ferry::jobs {

struct RunContext;  // run_context.h

// What a hook gets when a worker opens a run.
struct RunOpening {
  JobStore& store;               // the run's store (its SQL session: JobStore::session())
  const WorkerOptions& options;  // the worker's (its clock)
  // The run's locations were checked by this process just before (WorkerOptions::
  // only_run_checked): a hook does not check its own again.
  bool checked = false;
};

// The chunk a scan plans, as its plan sees it.
struct ChunkListing {
  // The job's range as it is now: its end moves down when a split hands the high part on, its
  // start up when the jobs found so far are handed on.
  const KeyRange& range;
  // Once the chunk's source listing ended: how far it covered the key space (the key it was cut
  // after, or, not cut, the range's end as it is then; nullopt: to the end of the key space).
  std::function<std::optional<std::string>()> covered_to;
};

// How one chunk of a scan of a run served by a hook is planned. The scan merges the source and
// destination listings through the usual planner (transfer/planner.h); the plan decides what
// the merge reads and where the planned copies go. In order: ListsDestination, Source (once,
// before the merge), Copy and Flush (as the merge goes), Merged (once, after it), DeleteRegions
// (any time).
class ChunkPlan {
 public:
  virtual ~ChunkPlan() = default;
  // Whether the merge reads the destination's listing; false: an empty destination (a backup
  // compares its source with its catalog, not with the archives at its location).
  virtual bool ListsDestination() const { return true; }
  // The source listing the merge reads: `listed` (the chunk's source keys, in order) or a
  // cursor over it that the plan owns and that leaves keys out (a backup: those its catalog
  // holds unchanged). Valid until the plan is destroyed.
  virtual storage::ListingCursor& Source(storage::ListingCursor& listed,
                                         const ChunkListing& chunk) {
    (void)chunk;
    return listed;
  }
  // The merge ended (whatever its status): counts into `stats` what Source left out.
  virtual void Merged(transfer::Stats& stats) { (void)stats; }
  // A copy the planner decided: it becomes part of the plan's jobs, appended to `out` once
  // complete (a full batch).
  virtual void Copy(transfer::CopyRequest request, std::vector<JobSpec>& out) = 0;
  // The copies taken so far become jobs, appended to `out`. `listing_ended`: the chunk listed
  // its range to the end (it was not cut).
  virtual void Flush(bool listing_ended, std::vector<JobSpec>& out) = 0;
  // The regions a batch of deletes is enqueued in, one parked delete job each ("" = a job of
  // no region).
  virtual std::vector<std::string> DeleteRegions() const { return {std::string()}; }
};

class RunHook {
 public:
  virtual ~RunHook() = default;
  // Whether this hook serves `run` (its options say so), and if it does, opens what the
  // capability keeps for it on this worker (into run.kind_state), after both sides are open
  // and checked. false: not its run, nothing opened. An error fails the opening of the run, as
  // a side that cannot be opened does.
  virtual Result<bool> Open(RunContext& run, const RunOpening& opening) const = 0;
  // The plan of one chunk of a scan of a run this hook serves (`options`: the scanning
  // worker's).
  virtual std::unique_ptr<ChunkPlan> PlanChunk(RunContext& run,
                                               const WorkerOptions& options) const = 0;
};

}  // namespace ferry::jobs
