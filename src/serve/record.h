// EventRecorder: what every intake of `ferry serve` (POST /events: intake.h; SQS: sqs_poller.h)
// does with the events of a notification it accepted: each event that may change what a
// destination holds (created, removed, delete marker, tagging, lifecycle expiration) of a key
// under a served source's bucket and prefix becomes a replicate-event job of that source's run,
// {"k":key, "t":event time}, coalesced per key (JobSpec::coalesce_key: while a job of the key
// waits to be claimed, later events of the key add nothing). The caller acknowledges the
// notification only once Record returned OK: then it is durable.
//
// Answers: the number of jobs enqueued (0 when no event was for a served source or of a kind
// worth replicating: counted as ignored); or the store's error, when nothing was enqueued (all
// of a call's jobs go in one transaction) and nothing was counted: the caller does not
// acknowledge, the sender delivers again.
//
// Counters (in the registry given; the same families as the HTTP intake's):
//   ferry_events_received_total{store,kind}   events of recorded calls (enqueued or ignored)
//   ferry_events_recorded_total               replicate-event jobs enqueued (coalesced ones too)
//   ferry_events_ignored_total{reason}        no_source | kind_<kind>
//
// Thread-safety: Record may be called from any thread; SetSources swaps the served sources.
#pragma once

#include <cstddef>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "events/event.h"
#include "jobs/job_store.h"
#include "obs/metrics.h"

namespace ferry::serve {

// A source location served by a continuous replication run.
struct IntakeSource {
  std::string name;    // its location name, e.g. "ra:photos/" (logs)
  std::string bucket;  // events of this bucket ...
  std::string prefix;  // ... whose key starts with this
  jobs::RunId run = 0;
};

class EventRecorder {
 public:
  explicit EventRecorder(jobs::JobStore& store, obs::Registry& registry = obs::DefaultRegistry());

  void SetSources(std::vector<IntakeSource> sources);

  // One notification's events: the jobs enqueued, or the store's error.
  Result<size_t> Record(const std::vector<events::Event>& events);
  // Several notifications' events in one transaction: the jobs enqueued for each, in order.
  Result<std::vector<size_t>> RecordAll(std::span<const std::vector<events::Event>> bodies);

 private:
  jobs::JobStore& store_;
  obs::FamilyRef<obs::Counter> received_;
  obs::FamilyRef<obs::Counter> recorded_;
  obs::FamilyRef<obs::Counter> ignored_;
  mutable std::mutex mu_;
  std::vector<IntakeSource> sources_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::serve
