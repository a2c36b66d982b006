// `ferry jobs redrive`: the dead jobs of a failed run queued again (JobStore::Redrive), and
// the jobs that ran when it failed (its report's summary: JobHandler::runs_when_failed) armed
// again, parked in their phase, so that the run's end writes its summary anew rather than
// leaving the one that said it failed. docs/design/report.md.
//
// Thread-safety: as the store's; other workers may serve the run meanwhile (the new jobs are
// enqueued in the transaction that queues the dead ones again, so the run cannot end between
// the two).
#pragma once

#include <cstdint>

#include "base/status.h"
#include "jobs/job_store.h"
#include "jobs/kinds/registry.h"

namespace ferry::jobs {

// Redrives run `run` (0: every run) and returns how many dead jobs were queued again.
Result<uint64_t> RedriveRun(JobStore& store, RunId run, const KindRegistry& kinds);

}  // namespace ferry::jobs
