#include "jobs/run_metrics.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <vector>

#include "obs/log.h"

namespace ferry::jobs {
namespace {

// The families, in the order of RunGaugeValues' vector.
enum RunFamily : size_t {
  kRunDeadJobs,
  kRunAge,
  kRunLastProgress,
  kRunObjectsDone,
  kRunObjectsTotal,
  kRunFailedAt,
  kRunsFailed,
  kRunFamilies
};

std::vector<obs::GaugeSet::FamilySpec> RunFamilySpecs() {
  const std::vector<std::string> run = {"run", "command"};
  return {
      {"ferry_jobs_dead", "Dead jobs (attempts used up: ferry jobs dlq) of a run, per job kind",
       {"run", "command", "kind"}},
      {"ferry_run_age_seconds", "Seconds since a run in progress began", run},
      {"ferry_run_last_progress_timestamp_seconds",
       "When a run in progress with work last moved: a job finished or was enqueued (unix s)",
       run},
      {"ferry_run_objects_done", "Objects of a run in progress whose jobs are done", run},
      {"ferry_run_objects_total", "Objects of a run in progress, over all its jobs so far", run},
      {"ferry_run_failed_timestamp_seconds",
       "When a run that failed within the watched window ended (unix s)", run},
      {"ferry_runs_failed", "Runs that failed within the watched window, per command",
       {"command"}},
  };
}

double RunUnixSeconds(TimePoint t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// Every series of the families, from the store's view of its runs as of `now`.
std::vector<obs::GaugeSet::Values> RunGaugeValues(const std::vector<RunHealth>& runs,
                                                  TimePoint now) {
  std::vector<obs::GaugeSet::Values> v(kRunFamilies);
  for (const RunHealth& h : runs) {
    const std::string id = std::to_string(h.run.id);
    const std::string command = RunCommand(h.run);
    for (const auto& [kind, n] : h.dead) {
      v[kRunDeadJobs][{id, command, kind}] = static_cast<double>(n);
    }
    if (h.run.state == RunState::kFailed) {
      v[kRunFailedAt][{id, command}] = RunUnixSeconds(h.run.updated);
      v[kRunsFailed][{command}] += 1;
    }
    if (h.run.state != RunState::kRunning) continue;
    const double age = std::chrono::duration<double>(now - h.run.created).count();
    v[kRunAge][{id, command}] = std::max(0.0, age);
    v[kRunObjectsDone][{id, command}] = static_cast<double>(h.objects_done);
    v[kRunObjectsTotal][{id, command}] = static_cast<double>(h.objects_total);
    if (h.working > 0) v[kRunLastProgress][{id, command}] = RunUnixSeconds(h.last_progress);
  }
  return v;
}

}  // namespace

std::string RunCommand(const Run& run) {
  const nlohmann::json j = nlohmann::json::parse(run.spec.options, nullptr, false);
  if (j.is_object()) {
    auto it = j.find("command");
    if (it != j.end() && it->is_string() && !it->get<std::string>().empty()) {
      return it->get<std::string>();
    }
  }
  return "unknown";
}

RunMetrics::RunMetrics(obs::Registry& registry, JobStore& store, Clock& clock,
                       RunMetricsOptions options)
    : store_(store),
      clock_(clock),
      options_(options),
      gauges_(registry, RunFamilySpecs()),
      hook_(registry.AddRenderHook([this] { RefreshIfStale(); })) {}

RunMetrics::~RunMetrics() { hook_.Reset(); }

Status RunMetrics::Refresh() {
  const TimePoint now = clock_.Now();
  Result<std::vector<RunHealth>> runs =
      store_.RunsHealth(now, now - options_.window, options_.max_runs);
  if (!runs.ok()) return runs.status();
  gauges_.Replace(RunGaugeValues(*runs, now));
  return Status::Ok();
}

void RunMetrics::RefreshIfStale() {
  std::lock_guard lock(refresh_mu_);
  const TimePoint now = clock_.Now();
  if (refreshed_ && now - last_refresh_ < options_.max_age && now >= last_refresh_) return;
  refreshed_ = true;
  last_refresh_ = now;
  Status s = Refresh();
  const std::string error = s.ok() ? "" : s.message();
  if (error != last_error_ && !error.empty()) {
    obs::Log(obs::Level::kWarn, "reading the runs' metrics from the state store failed: " + error);
  }
  last_error_ = error;
}

}  // namespace ferry::jobs
