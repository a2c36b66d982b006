// EventRecorder: what every intake of `ferry serve` (POST /events: intake.h; SQS: sqs_poller.h)
// does with the events of a notification it accepted: each event that may change what a
// destination holds (created, removed, delete marker, tagging, lifecycle expiration) of a key
// under a served source's bucket and prefix becomes a replicate-event job of that source's run,
// {"k":key, "t":event time}, coalesced per key (JobSpec::coalesce_key: while a job of the key
// waits to be claimed, later events of the key add nothing). The caller acknowledges the
// notification only once Record returned OK: then it is durable.
//
// The commit is on disk when Record returns (JobStore::Enqueue is durable: synchronous=FULL for
// it on SQLite), so that the acknowledgement survives a crash of the host.
//
// The run of a source: when the run a source was given has ended (another `ferry serve` on the
// same store reloaded a changed config first, and abandoned it), the events go to the run that
// serves the same source and destination now (the newest continuous one in progress), and the
// source is given that run from then on; when none does, nothing is recorded (kUnavailable:
// the caller does not acknowledge, the sender delivers again later).
//
// A bound on waiting jobs: past `max_waiting` queued replicate-event jobs in a run (a burst of
// millions of new keys), an event of that run is not enqueued but left to the scan: counted,
// and acknowledged. Nothing is lost: a continuous run always has a next scan of its whole key
// space that starts after this moment (its next round's, due scan_interval after the round
// under way; AdvanceRun), and a scan replicates whatever the destinations miss. The count of
// waiting jobs is read from the store at most once a second (on the clock given) and grows
// with the jobs enqueued in between: this recorder never goes past the bound (two recorders,
// the HTTP and the SQS intakes', by at most what the other enqueued within that second).
//
// Answers: the number of jobs enqueued (0 when no event was for a served source or of a kind
// worth replicating: counted as ignored; or left to the scan); or the store's error, when
// nothing was enqueued (all of a call's jobs go in one transaction) and nothing was counted:
// the caller does not acknowledge, the sender delivers again.
//
// Counters (in the registry given; the same families as the HTTP intake's):
//   ferry_events_received_total{store,kind}   events of recorded calls (enqueued or ignored)
//   ferry_events_recorded_total               replicate-event jobs enqueued (coalesced ones too)
//   ferry_events_ignored_total{reason}        no_source | kind_<kind>
//   ferry_events_left_to_scan_total           events not enqueued: their run had max_waiting
//                                             jobs waiting; its next scan covers their keys
//
// Thread-safety: Record may be called from any thread; SetSources swaps the served sources.
#pragma once

#include <cstddef>
#include <map>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "base/clock.h"
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

// Waiting replicate-event jobs per run past which events are left to the scan.
inline constexpr uint64_t kDefaultMaxWaitingEvents = 100'000;

class EventRecorder {
 public:
  // `clock` times the counts of waiting jobs; it must outlive the recorder.
  explicit EventRecorder(jobs::JobStore& store, obs::Registry& registry = obs::DefaultRegistry(),
                         Clock& clock = SystemClock::Default());

  void SetSources(std::vector<IntakeSource> sources);
  // The bound on waiting event jobs per run (kDefaultMaxWaitingEvents until set); 0: none.
  void SetMaxWaiting(uint64_t per_run);

  // One notification's events: the jobs enqueued, or the store's error.
  Result<size_t> Record(const std::vector<events::Event>& events);
  // Several notifications' events in one transaction: the jobs enqueued for each, in order.
  Result<std::vector<size_t>> RecordAll(std::span<const std::vector<events::Event>> bodies);

 private:
  // What is known of a run's waiting event jobs.
  struct Waiting {
    uint64_t jobs = 0;          // as counted at `counted`, plus those enqueued since
    jobs::TimePoint counted{};  // epoch: never counted
  };

  // The specs of `bodies` for the served sources (`per_body`: how many of each body's);
  // `ignored`: the reasons of events that need nothing.
  std::vector<jobs::JobSpec> Specs(std::span<const std::vector<events::Event>> bodies,
                                   std::vector<size_t>& body_of,
                                   std::vector<std::string>& ignored) const;
  // Drops the specs of runs that have max_waiting jobs waiting; returns how many it dropped.
  Result<size_t> KeepWithinBound(std::vector<jobs::JobSpec>& specs, std::vector<size_t>& body_of);
  // The sources whose run in `specs` has ended are given the run that serves their source and
  // destination now; kUnavailable when there is none.
  Status FollowEndedRuns(const std::vector<jobs::JobSpec>& specs);

  jobs::JobStore& store_;
  Clock& clock_;
  obs::FamilyRef<obs::Counter> received_;
  obs::FamilyRef<obs::Counter> recorded_;
  obs::FamilyRef<obs::Counter> ignored_;
  obs::FamilyRef<obs::Counter> left_to_scan_;
  mutable std::mutex mu_;
  std::vector<IntakeSource> sources_;  // GUARDED_BY(mu_)
  std::mutex waiting_mu_;  // taken before store calls: never with mu_
  uint64_t max_waiting_ = kDefaultMaxWaitingEvents;  // GUARDED_BY(waiting_mu_)
  std::map<jobs::RunId, Waiting> waiting_;           // GUARDED_BY(waiting_mu_)
};

}  // namespace ferry::serve
