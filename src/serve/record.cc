// EventRecorder (record.h): events to replicate-event jobs, enqueued in one transaction.
#include "serve/record.h"

#include <chrono>
#include <map>
#include <optional>
#include <utility>

#include "obs/log.h"
#include "replicate/payload.h"

namespace ferry::serve {
namespace {

// Events that may change what a destination must hold: bytes, versions, delete markers, tags.
bool Replicable(events::EventKind kind) {
  switch (kind) {
    case events::EventKind::kCreated:
    case events::EventKind::kRemoved:
    case events::EventKind::kDeleteMarkerCreated:
    case events::EventKind::kTagging:
    case events::EventKind::kLifecycleExpiration:
      return true;
    default:
      return false;
  }
}

// Attempts of an event's job: as many as a transfer job gets, and a few more (an event is
// the fast path: the next scan may be an hour away).
constexpr int kEventMaxAttempts = 10;

int64_t Ns(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

}  // namespace

EventRecorder::EventRecorder(jobs::JobStore& store, obs::Registry& registry, Clock& clock)
    : store_(store),
      clock_(clock),
      received_(registry.AddCounter("ferry_events_received_total",
                                    "Bucket notification events accepted, by store and kind",
                                    {"store", "kind"})),
      recorded_(registry.AddCounter("ferry_events_recorded_total",
                                    "replicate-event jobs enqueued for accepted events")),
      ignored_(registry.AddCounter("ferry_events_ignored_total",
                                   "Accepted events that need no replication, by reason",
                                   {"reason"})),
      left_to_scan_(registry.AddCounter(
          "ferry_events_left_to_scan_total",
          "Accepted events not enqueued because their run had its bound of waiting event jobs: "
          "the run's next scan covers their keys")) {}

void EventRecorder::SetSources(std::vector<IntakeSource> sources) {
  std::lock_guard lock(mu_);
  sources_ = std::move(sources);
}

void EventRecorder::SetMaxWaiting(uint64_t per_run) {
  std::lock_guard lock(waiting_mu_);
  max_waiting_ = per_run;
}

Result<size_t> EventRecorder::Record(const std::vector<events::Event>& events) {
  FERRY_ASSIGN_OR_RETURN(std::vector<size_t> jobs,
                         RecordAll(std::span<const std::vector<events::Event>>(&events, 1)));
  return jobs.front();
}

std::vector<jobs::JobSpec> EventRecorder::Specs(std::span<const std::vector<events::Event>> bodies,
                                                std::vector<size_t>& body_of,
                                                std::vector<std::string>& ignored) const {
  std::vector<jobs::JobSpec> specs;
  body_of.clear();
  ignored.clear();
  std::lock_guard lock(mu_);
  for (size_t b = 0; b < bodies.size(); ++b) {
    for (const events::Event& e : bodies[b]) {
      if (!Replicable(e.kind)) {
        ignored.push_back("kind_" + std::string(events::EventKindName(e.kind)));
        continue;
      }
      bool served = false;
      for (const IntakeSource& s : sources_) {
        if (s.bucket != e.bucket || e.key.compare(0, s.prefix.size(), s.prefix) != 0) continue;
        served = true;
        jobs::JobSpec spec;
        spec.run = s.run;
        spec.kind = replicate::kReplicateEventKind;
        spec.payload = replicate::EncodeEventWork(
            {.key = e.key, .first_event_ns = e.time ? Ns(*e.time) : 0, .events = 1});
        spec.objects = 1;
        // Real failures only: waiting for a key another job holds uses no attempt
        // (jobs::Outcome::kWait). A job that dies leaves its key to the run's next scan.
        spec.max_attempts = kEventMaxAttempts;
        spec.coalesce_key = e.key;
        specs.push_back(std::move(spec));
        body_of.push_back(b);
      }
      if (!served) ignored.push_back("no_source");
    }
  }
  return specs;
}

Result<size_t> EventRecorder::KeepWithinBound(std::vector<jobs::JobSpec>& specs,
                                              std::vector<size_t>& body_of) {
  std::lock_guard lock(waiting_mu_);
  if (max_waiting_ == 0 || specs.empty()) return size_t{0};
  const jobs::TimePoint now = clock_.Now();
  std::map<jobs::RunId, uint64_t> room;
  for (const jobs::JobSpec& spec : specs) {
    if (room.count(spec.run) > 0) continue;
    Waiting& w = waiting_[spec.run];
    if (w.counted == jobs::TimePoint{} || now - w.counted >= std::chrono::seconds(1)) {
      FERRY_ASSIGN_OR_RETURN(jobs::RunCounts counts, store_.CountJobs(spec.run));
      w.jobs = counts.of(replicate::kReplicateEventKind).of(jobs::JobState::kQueued);
      w.counted = now;
    }
    room[spec.run] = w.jobs >= max_waiting_ ? 0 : max_waiting_ - w.jobs;
  }
  size_t kept = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t& left = room[specs[i].run];
    if (left == 0) continue;
    --left;
    // counted as waiting from now on (a coalesced one too: the bound errs on the safe side)
    ++waiting_[specs[i].run].jobs;
    if (kept != i) {
      specs[kept] = std::move(specs[i]);
      body_of[kept] = body_of[i];
    }
    ++kept;
  }
  const size_t dropped = specs.size() - kept;
  specs.resize(kept);
  body_of.resize(kept);
  return dropped;
}

Status EventRecorder::FollowEndedRuns(const std::vector<jobs::JobSpec>& specs) {
  std::map<jobs::RunId, jobs::RunId> moved;  // ended run -> the run serving its source now
  for (const jobs::JobSpec& spec : specs) {
    if (moved.count(spec.run) > 0) continue;
    FERRY_ASSIGN_OR_RETURN(jobs::Run run, store_.GetRun(spec.run));
    if (run.state == jobs::RunState::kRunning) continue;
    FERRY_ASSIGN_OR_RETURN(std::optional<jobs::Run> now,
                           store_.FindUnfinishedRun(run.spec.source, run.spec.destination));
    if (!now || !now->spec.continuous) {
      return Status::Unavailable("run " + std::to_string(run.id) + " of " + run.spec.source +
                                 " has ended and no `ferry serve` run serves it now");
    }
    moved[run.id] = now->id;
    obs::Log(obs::Level::kWarn,
             "run " + std::to_string(run.id) + " has ended (another ferry serve reloaded a "
             "changed config?): its events go to run " + std::to_string(now->id),
             {{"source", run.spec.source}});
  }
  std::lock_guard lock(mu_);
  for (IntakeSource& s : sources_) {
    auto it = moved.find(s.run);
    if (it != moved.end()) s.run = it->second;
  }
  return Status::Ok();
}

Result<std::vector<size_t>> EventRecorder::RecordAll(
    std::span<const std::vector<events::Event>> bodies) {
  std::vector<size_t> per_body(bodies.size(), 0);
  std::vector<std::string> ignored;  // reasons, counted once the call succeeded
  size_t enqueued = 0;
  size_t left = 0;
  // A run that ended under us is followed to the run serving its source now, once or twice
  // (two reloads in a row); an Enqueue refused for another reason is the caller's error.
  for (int tries = 0;; ++tries) {
    std::vector<size_t> body_of;
    std::vector<jobs::JobSpec> specs = Specs(bodies, body_of, ignored);
    FERRY_ASSIGN_OR_RETURN(left, KeepWithinBound(specs, body_of));
    if (specs.empty()) break;
    Result<std::vector<jobs::JobId>> ids = store_.Enqueue(specs);
    if (ids.ok()) {
      enqueued = specs.size();
      for (size_t b : body_of) ++per_body[b];
      break;
    }
    if (ids.status().code() != ErrorCode::kFailedPrecondition || tries == 2) return ids.status();
    FERRY_RETURN_IF_ERROR(FollowEndedRuns(specs));
  }
  if (enqueued > 0) recorded_.Get().Add(enqueued);
  if (left > 0) left_to_scan_.Get().Add(left);
  for (const std::string& reason : ignored) ignored_.WithLabels({reason}).Add();
  for (const std::vector<events::Event>& body : bodies) {
    for (const events::Event& e : body) {
      received_.WithLabels({events::SourceKindName(e.source), events::EventKindName(e.kind)}).Add();
    }
  }
  return per_body;
}

}  // namespace ferry::serve
