// Scheduler: starts `ferry serve`'s [[schedules]] at their times, each occurrence once across
// every serve of the state store (docs/design/serve.md, "Schedules"). A thread of its own
// wakes at the earliest next occurrence (and every `poll` to follow the runs it started); each
// Tick:
//   1. per schedule, the latest occurrence due by now (none before the schedule's `since`,
//      ScheduleStore::Since): claimed in the store (ScheduleStore::Claim). The winner starts it
//      (hooks.start: a durable run queued on the store), or records it missed when it is found
//      later than its grace (all serves were down at the time); losers do nothing. Occurrences
//      older than the latest one due are never started.
//   2. every started occurrence: its run, read from the job store, ended done (succeeded) or
//      failed; while a run of these schedules runs, hooks.serve_run lets this process work on
//      it (so a run survives the serve that started it). A started occurrence with no run after
//      `unstarted_after` (its serve died between the claim and the queueing) is failed. Those
//      of other schedules (removed by a reload, or of another serve's config) are ended too,
//      but neither served nor counted here.
// Metrics (obs::Registry): ferry_schedule_runs_total{schedule,outcome} counts what this
// process did (sum over the serves for the store's total), ferry_schedule_next_run_timestamp_
// seconds{schedule} and ferry_schedule_last_success_timestamp_seconds{schedule} (read from the
// store: the same in every serve).
// Thread-safety: Tick from one thread at a time (the scheduler's own once Start was called).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "jobs/job_store.h"
#include "obs/metrics.h"
#include "serve/schedule_at.h"
#include "serve/schedule_store.h"

namespace ferry::serve {

struct ScheduleSpec {
  std::string name{};
  std::string at_text{};  // as written (ScheduleStore::Since compares it)
  ScheduleAt at{};
  std::chrono::seconds grace{0};  // 0: Period(at)
};

struct SchedulerHooks {
  // Queues occurrence `due` of schedules[index] as a durable run of the job store; its id. Or
  // runs it here and now (a catalog prune): 0 when it succeeded, its error when not; the
  // occurrence then ends at once (a process killed meanwhile leaves it without a run: failed
  // after `unstarted_after`, never started again).
  std::function<Result<jobs::RunId>(size_t index, TimePoint due, std::stop_token stop)> start{};
  // Called for each running run of these schedules, at each Tick: this process works on it
  // (idempotent). May be empty.
  std::function<void(jobs::RunId run)> serve_run{};
};

struct SchedulerOptions {
  std::string owner{};                        // recorded with the occurrences this process claims
  Clock* clock = nullptr;                     // null: the system clock (ClockOr)
  obs::Registry* registry = nullptr;          // null: obs::DefaultRegistry()
  std::chrono::milliseconds poll{2000};       // how often runs are followed
  std::chrono::milliseconds unstarted_after{120000};
};

// What /api/status shows of one schedule.
struct ScheduleView {
  std::string name{};
  std::string at{};
  TimePoint next{};
  std::vector<Occurrence> recent;  // latest first
};

class Scheduler {
 public:
  Scheduler(std::vector<ScheduleSpec> schedules, ScheduleStore& store, jobs::JobStore& jobs,
            SchedulerHooks hooks, SchedulerOptions options);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Runs Tick on a thread of its own until Stop.
  void Start();
  void Stop();
  // One pass (above). The first error met (each schedule is still looked at); a store that
  // cannot be reached leaves the occurrence to the next Tick.
  Status Tick(std::stop_token stop);
  // The schedules, each with its recent occurrences (from the store).
  Result<std::vector<ScheduleView>> Views(int recent);

 private:
  struct State {
    ScheduleSpec spec;
    std::optional<int64_t> since_ms;
    int64_t handled_ms = INT64_MIN;   // the latest occurrence this process claimed (or lost)
    std::atomic<double> next_s{0};
    std::atomic<double> last_success_s{0};
    obs::Registration next_gauge;
    obs::Registration success_gauge;
  };
  Status Due(size_t index, TimePoint now, std::stop_token stop);
  Status Follow(TimePoint now);
  void Count(const std::string& schedule, std::string_view outcome);
  TimePoint EarliestNext() const;

  std::vector<std::unique_ptr<State>> schedules_;
  ScheduleStore& store_;
  jobs::JobStore& jobs_;
  SchedulerHooks hooks_;
  SchedulerOptions options_;
  Clock& clock_;
  obs::Registry& registry_;
  obs::FamilyRef<obs::Counter> runs_;
  std::jthread thread_;
};

}  // namespace ferry::serve
