// The state store's runs as Prometheus gauges: what the alarms of every run watch
// (deploy/prometheus/ferry-alerts.yml, group ferry-runs; docs/design/alerts.md). Per run
// (`run`: its id; `command`: the command that made it, the run's kind: sync, cp, replicate,
// backup, restore, cache-warm; "unknown" for runs stored before commands were):
//   ferry_jobs_dead{run,command,kind}                       dead jobs, per job kind
//   ferry_run_age_seconds{run,command}                      a run in progress: since it began
//   ferry_run_last_progress_timestamp_seconds{run,command}  a run in progress with work: when
//                                                           it last moved (unix s)
//   ferry_run_objects_done{run,command}, ferry_run_objects_total{run,command}
//   ferry_run_failed_timestamp_seconds{run,command}         a run that failed: when (unix s)
//   ferry_runs_failed{command}                              how many runs failed in the window
// Which runs: every run in progress, and every run that ended within `window` (1 h), at most
// `max_runs` (500) of them, newest first: the series stay bounded by the runs in progress plus
// those that ended lately, whatever the store's history (ferry_jobs_dead: one series per dead
// job kind of a listed run, a handful at most).
//
// Read from the store (JobStore::RunsHealth, one transaction) by the scrape that renders them
// (a render hook of the registry), at most once per `max_age` (5 s) whatever the number of
// scrapers: a store without a scraper is never read. Every process that exports them (`ferry
// serve`, `ferry worker --metrics-listen`) publishes the same values for one store: the rules
// take `max by (run, ...)`, so a run alarms once, not once per process. On a read error the
// series keep their last values (logged once per change of the error).
//
// Thread-safety: thread-safe; refreshes are serialized (a scrape that comes during one waits
// for it and reads its result).
#pragma once

#include <chrono>
#include <mutex>
#include <string>

#include "base/clock.h"
#include "jobs/job_store.h"
#include "obs/gauge_set.h"
#include "obs/metrics.h"

namespace ferry::jobs {

struct RunMetricsOptions {
  std::chrono::milliseconds max_age{5000};  // a refresh younger than this is not redone
  std::chrono::seconds window{3600};        // runs that ended this recently are watched
  int max_runs = 500;                       // at most this many runs, newest first
};

class RunMetrics {
 public:
  // Registers the render hook on `registry`; `store` and `clock` must outlive this object.
  RunMetrics(obs::Registry& registry, JobStore& store, Clock& clock,
             RunMetricsOptions options = {});
  ~RunMetrics();
  RunMetrics(const RunMetrics&) = delete;
  RunMetrics& operator=(const RunMetrics&) = delete;

  // Reads the store now and replaces the series. On an error they keep their last values.
  Status Refresh();
  // Refresh, unless the last one (successful or not) began less than max_age ago.
  void RefreshIfStale();

 private:
  JobStore& store_;
  Clock& clock_;
  const RunMetricsOptions options_;
  obs::GaugeSet gauges_;
  std::mutex refresh_mu_;  // serializes refreshes; guards the two below
  bool refreshed_ = false;
  TimePoint last_refresh_{};
  std::string last_error_;
  obs::RenderHook hook_;  // last: removed first, before what it reads
};

// The command a run's options name ("unknown" when none): the `command` label.
std::string RunCommand(const Run& run);

}  // namespace ferry::jobs
