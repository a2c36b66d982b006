// Scheduler (scheduler.h).
#include "serve/scheduler.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "obs/log.h"
#include "s3/time_format.h"

namespace ferry::serve {
namespace {

using std::chrono::milliseconds;

int64_t Ms(TimePoint t) {
  return std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
}
double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// "2026-01-05T06:00:00.000Z": how the log names an occurrence.
std::string Iso(int64_t ms) { return s3::FormatIso8601(TimePoint(std::chrono::milliseconds(ms))); }

}  // namespace

Scheduler::Scheduler(std::vector<ScheduleSpec> schedules, ScheduleStore& store,
                     jobs::JobStore& jobs, SchedulerHooks hooks, SchedulerOptions options)
    : store_(store),
      jobs_(jobs),
      hooks_(std::move(hooks)),
      options_(std::move(options)),
      clock_(ClockOr(options_.clock)),
      registry_(options_.registry != nullptr ? *options_.registry : obs::DefaultRegistry()),
      runs_(registry_.AddCounter("ferry_schedule_runs_total",
                                 "Occurrences of [[schedules]] by outcome, as this process saw "
                                 "them: started (claimed and queued), succeeded, failed, missed",
                                 {"schedule", "outcome"})) {
  const TimePoint now = clock_.Now();
  for (ScheduleSpec& spec : schedules) {
    auto s = std::make_unique<State>();
    s->spec = std::move(spec);
    if (s->spec.grace.count() <= 0) s->spec.grace = Period(s->spec.at);
    s->next_s = Seconds(Ms(NextAfter(s->spec.at, now)));
    State* raw = s.get();
    s->next_gauge = registry_.Observe(
        obs::MetricType::kGauge, "ferry_schedule_next_run_timestamp_seconds",
        "When the schedule's next occurrence is due (unix seconds)", {"schedule"},
        {s->spec.name}, [raw] { return raw->next_s.load(); });
    s->success_gauge = registry_.Observe(
        obs::MetricType::kGauge, "ferry_schedule_last_success_timestamp_seconds",
        "When the schedule's latest succeeded occurrence ended (unix seconds; 0: none yet)",
        {"schedule"}, {s->spec.name}, [raw] { return raw->last_success_s.load(); });
    for (std::string_view outcome : {kStarted, kSucceeded, kFailed, kMissed}) {
      runs_.WithLabels({s->spec.name, outcome});  // every series from the start, at 0
    }
    schedules_.push_back(std::move(s));
  }
}

Scheduler::~Scheduler() { Stop(); }

void Scheduler::Start() {
  thread_ = std::jthread([this](std::stop_token stop) {
    while (!stop.stop_requested()) {
      if (Status s = Tick(stop); !s.ok() && !stop.stop_requested()) {
        obs::Log(obs::Level::kWarn, "schedules: " + s.message());
      }
      const TimePoint now = clock_.Now();
      const auto until_next = std::chrono::ceil<milliseconds>(EarliestNext() - now);
      clock_.SleepFor(std::clamp(until_next, milliseconds(1), options_.poll), stop);
    }
  });
}

void Scheduler::Stop() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
}

TimePoint Scheduler::EarliestNext() const {
  TimePoint earliest = TimePoint::max();
  for (const auto& s : schedules_) {
    earliest = std::min(earliest, TimePoint(milliseconds(std::llround(s->next_s.load() * 1000))));
  }
  return earliest;
}

void Scheduler::Count(const std::string& schedule, std::string_view outcome) {
  runs_.WithLabels({schedule, outcome}).Add();
}

Status Scheduler::Due(size_t index, TimePoint now, std::stop_token stop) {
  State& s = *schedules_[index];
  const ScheduleSpec& spec = s.spec;
  s.next_s = Seconds(Ms(NextAfter(spec.at, now)));
  if (!s.since_ms) {
    FERRY_ASSIGN_OR_RETURN(int64_t since, store_.Since(spec.name, spec.at_text, Ms(now)));
    s.since_ms = since;
  }
  const TimePoint due = LatestAtOrBefore(spec.at, now);
  const int64_t due_ms = Ms(due);
  if (due_ms < *s.since_ms || due_ms <= s.handled_ms) return Status::Ok();
  const bool late = now - due > spec.grace;
  FERRY_ASSIGN_OR_RETURN(bool won, store_.Claim({.schedule = spec.name,
                                                 .due_ms = due_ms,
                                                 .owner = options_.owner,
                                                 .now_ms = Ms(now),
                                                 .outcome = late ? kMissed : kStarted}));
  s.handled_ms = due_ms;
  if (!won) return Status::Ok();
  if (late) {
    Count(spec.name, kMissed);
    obs::Log(obs::Level::kWarn, "schedule " + spec.name + ": the occurrence due " + Iso(due_ms) +
                                    " is missed: found " +
                                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - due).count()) +
                                    " s late, past its grace");
    return Status::Ok();
  }
  Count(spec.name, kStarted);
  Result<jobs::RunId> run = hooks_.start(index, due, stop);
  if (run.ok() && *run == 0) {  // run here and now, succeeded
    FERRY_ASSIGN_OR_RETURN(bool ended,
                           store_.Finish(spec.name, due_ms, kSucceeded, Ms(clock_.Now()), ""));
    if (ended) Count(spec.name, kSucceeded);
    obs::Log(obs::Level::kInfo, "schedule " + spec.name + ": the occurrence due " + Iso(due_ms) +
                                    " succeeded");
    return Status::Ok();
  }
  if (run.ok()) {
    obs::Log(obs::Level::kInfo, "schedule " + spec.name + ": started the occurrence due " + Iso(due_ms),
             {{"run", *run}});
    Status recorded = store_.SetRun(spec.name, due_ms, *run);
    if (recorded.ok() && hooks_.serve_run) hooks_.serve_run(*run);
    return recorded;  // not recorded: failed after `unstarted_after` (the run goes on)
  }
  FERRY_ASSIGN_OR_RETURN(bool ended, store_.Finish(spec.name, due_ms, kFailed, Ms(clock_.Now()),
                                                   run.status().message()));
  if (ended) Count(spec.name, kFailed);
  obs::Log(obs::Level::kError, "schedule " + spec.name + ": the occurrence due " + Iso(due_ms) +
                                   " could not start: " + run.status().message());
  return Status::Ok();
}

Status Scheduler::Follow(TimePoint now) {
  FERRY_ASSIGN_OR_RETURN(std::vector<Occurrence> started, store_.Started());
  std::map<std::string, State*> mine;
  for (const auto& s : schedules_) mine[s->spec.name] = s.get();
  Status first;
  for (const Occurrence& o : started) {
    // Another schedule's (of another serve's config, or one a reload removed): its outcome is
    // recorded once its run ends, and counted by none; only the serves that have the schedule
    // work on its run.
    const bool ours = mine.contains(o.schedule);
    std::string_view outcome;
    std::string error;
    if (o.run == 0) {
      if (Ms(now) - o.claimed_ms < options_.unstarted_after.count()) continue;
      outcome = kFailed;
      error = "its serve (" + o.owner + ") ended before it queued the run (or, run in place, "
              "finished it)";
    } else {
      Result<jobs::Run> run = jobs_.GetRun(o.run);
      if (!run.ok() && run.status().code() != ErrorCode::kNotFound) {
        if (first.ok()) first = run.status();
        continue;
      }
      if (run.ok() && run->state == jobs::RunState::kRunning) {
        if (ours && hooks_.serve_run) hooks_.serve_run(o.run);
        continue;
      }
      outcome = run.ok() && run->state == jobs::RunState::kDone ? kSucceeded : kFailed;
      if (!run.ok()) error = "run " + std::to_string(o.run) + " is gone (purged)";
      else if (outcome == kFailed) error = "run " + std::to_string(o.run) + " failed";
    }
    Result<bool> ended = store_.Finish(o.schedule, o.due_ms, outcome, Ms(now), error);
    if (!ended.ok()) {
      if (first.ok()) first = ended.status();
      continue;
    }
    if (!*ended) continue;
    if (ours) Count(o.schedule, outcome);
    obs::Log(outcome == kSucceeded ? obs::Level::kInfo : obs::Level::kWarn,
             "schedule " + o.schedule + ": the occurrence due " + Iso(o.due_ms) + " " +
                 std::string(outcome) + (error.empty() ? "" : ": " + error),
             {{"run", o.run}});
  }
  FERRY_ASSIGN_OR_RETURN(auto successes, store_.LastSuccesses());
  for (const auto& [name, finished_ms] : successes) {
    if (auto it = mine.find(name); it != mine.end()) it->second->last_success_s = Seconds(finished_ms);
  }
  return first;
}

Status Scheduler::Tick(std::stop_token stop) {
  const TimePoint now = clock_.Now();
  Status first;
  for (size_t i = 0; i < schedules_.size(); ++i) {
    Status s = Due(i, now, stop).WithContext("schedule " + schedules_[i]->spec.name);
    if (!s.ok() && first.ok()) first = s;
  }
  if (Status s = Follow(clock_.Now()); !s.ok() && first.ok()) first = s;
  return first;
}

Result<std::vector<ScheduleView>> Scheduler::Views(int recent) {
  std::vector<ScheduleView> out;
  for (const auto& s : schedules_) {
    ScheduleView v{.name = s->spec.name,
                   .at = s->spec.at_text,
                   .next = TimePoint(milliseconds(std::llround(s->next_s.load() * 1000))),
                   .recent = {}};
    FERRY_ASSIGN_OR_RETURN(v.recent, store_.Recent(s->spec.name, recent));
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace ferry::serve
