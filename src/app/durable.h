// Durable runs: `ferry cp/sync --state URL` and `ferry worker`. The run is recorded in a
// JobStore; running the same command again (same source, destination and state) resumes it
// instead of starting over; `--detach` only enqueues; workers anywhere do the work.
// Thread-safety: one call per thread.
#pragma once

#include <stop_token>
#include <string>

#include "app/wiring.h"
#include "jobs/job_store.h"
#include "jobs/payload.h"
#include "jobs/worker.h"
#include "transfer/stats.h"

namespace ferry::app {

struct DurableRunRequest {
  std::string source;       // location text
  std::string destination;  // location text
  jobs::RunOptions options;
  jobs::WorkerOptions worker;
  bool detach = false;
};

struct DurableRunResult {
  jobs::RunId run = 0;
  bool resumed = false;
  jobs::RunProgress progress = jobs::RunProgress::kWorking;
  jobs::RunCounts counts;
  double seconds = 0;
};

// Finds the unfinished run of (source, destination) or creates one with its first scan job,
// then (unless detached) works on it until it is done or blocked on dead jobs.
Result<DurableRunResult> RunDurable(jobs::JobStore& store, Wiring& wiring,
                                    const DurableRunRequest& request, transfer::Stats& stats,
                                    std::stop_token stop);

// Aborts the unfinished uploads under `dst` that started before `before` (work that a killed
// run abandoned and no journal will resume). Returns how many were aborted.
Result<uint64_t> AbortAbandonedUploads(storage::Backend& dst, jobs::TimePoint before,
                                       std::stop_token stop);

// The BackendOpener workers use: parses the stored location text and opens it through `wiring`.
jobs::BackendOpener OpenerFor(Wiring& wiring);

}  // namespace ferry::app
