// The continuous replication run of one source (ferry serve, docs/design/serve.md): found again
// at each start of the service, or created with its first scan; the same run as `ferry
// replicate` makes, except that when its work drains it starts over after an interval.
// Thread-safety: one call per thread.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>

#include "jobs/job_store.h"
#include "replicate/payload.h"

namespace ferry::app {

struct ContinuousRunRequest {
  const replicate::DurablePass* pass = nullptr;  // the source, rules and options served
  std::string destination;                       // the run's destination (its first one)
  std::chrono::seconds scan_interval{3600};
  // A scan of the whole source at once when the run is found again (the process starts after
  // a time nobody served it: the events of that time are lost). Off for a config reload of a
  // running process: nothing was missed.
  bool scan_now = true;
};

// Finds the continuous run of the request's pass or creates it with its first scan job. A
// continuous run of the source with other rules or options (the config changed) is ended and a
// new one starts (what the old one recorded stays in the status store: nothing is written
// twice). An unfinished `ferry replicate` pass of the source is refused: two runs would scan one
// source.
Result<jobs::RunId> ContinuousRun(jobs::JobStore& store, const ContinuousRunRequest& request,
                                  std::stop_token stop);

}  // namespace ferry::app
