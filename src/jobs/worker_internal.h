// Internals of jobs::Worker shared by worker.cc, scan.cc, delete_job.cc and the handlers of
// jobs' own kinds (kinds/). What other modules' handlers use is public: run_context.h (the
// run), scan.h (a scan chunk), kinds/handler.h, kinds/lease_fence.h, kinds/run_hook.h.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "jobs/payload.h"
#include "jobs/run_context.h"
#include "jobs/scan.h"
#include "jobs/worker.h"
#include "transfer/engine.h"
#include "jobs/journal.h"
#include "transfer/journal.h"

namespace ferry::jobs {

// A delete job of ctx's run (delete_job.cc): deletes those of `keys` that the source lacks
// now. Each key is checked against the source right before (one listing of the keys' range,
// or a Stat per key when there are few): a key the source has now, whatever the run's filter
// says of it, is kept and counted in stats.deletes_kept; the others count as deleted.
// With `rows` (--report), a row per key deleted.
Status RunDeleteJob(RunContext& ctx, std::vector<std::string> keys, transfer::Stats& stats,
                    std::stop_token stop, report::RowSink* rows = nullptr);

// Plans two ordered listings of ctx's run (each side's objects of some keys) with the run's
// planner into transfer and parked delete jobs appended to `more`, as a scan chunk does
// (scan.cc): what a list-scan job does once it looked its keys up (list_scan.cc). Not for a
// run served by a RunHook.
Status PlanObjects(const ScanContext& scan, storage::ListingCursor& src,
                   storage::ListingCursor& dst, std::vector<JobSpec>& more);

// How an attempt ends given the statuses of its objects.
bool IsTransient(const Status& s);

}  // namespace ferry::jobs
