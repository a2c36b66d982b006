// The fleet's backlog as Prometheus gauges: what an autoscaler scales workers on
// (docs/design/operate.md, "Fleet"). Per run in progress, role and kind:
//   ferry_jobs_waiting{run,role,kind}                 jobs a worker could claim now
//   ferry_jobs_waiting_bytes{run,role,kind}           the bytes those jobs move
//   ferry_jobs_oldest_waiting_seconds{run,role,kind}  how long the oldest of them has waited
//   ferry_jobs_running{run,role,kind}                 jobs under a live lease
//   ferry_jobs_delayed{run,role,kind}                 jobs due later (retries, the next round)
// `role` is the `ferry worker --role` that would take the kind ("any" for kinds no role names;
// a worker without --role takes every kind). Series of runs that ended, or of kinds without
// unfinished jobs, are removed at the next refresh, so the series stay as many as the runs in
// progress. Read from the job store (JobStore::Backlog, one grouped query) by whoever holds it:
// `ferry serve` and `ferry worker --metrics-listen`, every 10 s.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "base/clock.h"
#include "jobs/job_store.h"
#include "obs/metrics.h"
#include "obs/periodic_refresh.h"

namespace ferry::jobs {

// The role that takes `kind` ("any": none names it).
using RoleOf = std::function<std::string(std::string_view kind)>;

class BacklogMetrics {
 public:
  BacklogMetrics(obs::Registry& registry, RoleOf role_of);
  ~BacklogMetrics();
  BacklogMetrics(const BacklogMetrics&) = delete;
  BacklogMetrics& operator=(const BacklogMetrics&) = delete;

  // Reads the backlog as of clock.Now() and sets the series (adding and removing them). On an
  // error the series keep their last values and the error is returned.
  Status Refresh(JobStore& store, const Clock& clock);

 private:
  struct Values {
    double waiting = 0, waiting_bytes = 0, oldest_seconds = 0, running = 0, delayed = 0;
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // run, role, kind
  struct Series;

  obs::Registry& registry_;
  RoleOf role_of_;
  std::mutex mu_;  // values_, read by the registry at render time
  std::map<Key, Values> values_;
  std::map<Key, std::unique_ptr<Series>> series_;
};

// Refreshes `metrics` now, every `interval` on a thread of its own (a timer: it only reads the
// store), and once more when destroyed. Errors are logged once per change.
class BacklogRefresher {
 public:
  BacklogRefresher(BacklogMetrics& metrics, JobStore& store, Clock& clock,
                   std::chrono::milliseconds interval = std::chrono::seconds(10));
  ~BacklogRefresher();
  BacklogRefresher(const BacklogRefresher&) = delete;
  BacklogRefresher& operator=(const BacklogRefresher&) = delete;

 private:
  void RefreshOnce();
  BacklogMetrics& metrics_;
  JobStore& store_;
  Clock& clock_;
  std::string last_error_;
  obs::PeriodicRefresh timer_;  // last: it calls RefreshOnce, which reads the members above
};

}  // namespace ferry::jobs
