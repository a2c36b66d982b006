#include "jobs/redrive.h"

#include <vector>

namespace ferry::jobs {
namespace {

// The failed runs among `run` (0: all of them) that a redrive gives work back to.
Result<std::vector<RunId>> FailedRuns(JobStore& store, RunId run) {
  if (run != 0) return std::vector<RunId>{run};
  FERRY_ASSIGN_OR_RETURN(std::vector<Run> runs, store.ListRuns(1000000));
  std::vector<RunId> out;
  for (const Run& r : runs) {
    if (r.state == RunState::kFailed) out.push_back(r.id);
  }
  return out;
}

// Parked jobs of the kinds that ran when `run` failed, done by now and not armed yet.
Result<std::vector<JobSpec>> Rearmed(JobStore& store, RunId run, const KindRegistry& kinds) {
  FERRY_ASSIGN_OR_RETURN(const RunCounts c, store.CountJobs(run));
  std::vector<JobSpec> out;
  if (c.state != RunState::kFailed || c.jobs[static_cast<size_t>(JobState::kDead)] == 0) {
    return out;  // nothing to redrive (a run stopped by --max-delete has no dead job)
  }
  for (const auto& [kind, k] : c.by_kind) {
    if (!kinds.RunsWhenFailed(kind) || k.active() > 0 || k.of(JobState::kDone) == 0) continue;
    JobSpec spec;
    spec.run = run;
    spec.kind = kind;
    spec.payload = "{}";
    spec.not_before = kParked;
    spec.max_attempts = 5;
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace

Result<uint64_t> RedriveRun(JobStore& store, RunId run, const KindRegistry& kinds) {
  FERRY_ASSIGN_OR_RETURN(const std::vector<RunId> failed, FailedRuns(store, run));
  std::vector<JobSpec> again;
  for (RunId id : failed) {
    FERRY_ASSIGN_OR_RETURN(std::vector<JobSpec> more, Rearmed(store, id, kinds));
    again.insert(again.end(), more.begin(), more.end());
  }
  return store.Redrive(run, again);
}

}  // namespace ferry::jobs
