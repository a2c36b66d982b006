// Views of durable runs and jobs, for `ferry jobs` and the summary of `ferry cp/sync` (and
// later `ferry serve`): what a run's state means in words (its phase, continuous and idle),
// its progress over the kinds that count, one line or one JSON object per run and job, and the
// objects of a run's dead jobs as failures. The callers only print.
// Thread-safety: pure functions, except those that read a JobStore (thread-safe).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "jobs/job_store.h"
#include "jobs/kinds/registry.h"
#include "transfer/stats.h"

namespace ferry::app {

struct RunView {
  jobs::Run run;
  jobs::RunCounts counts;
  jobs::Progress progress;  // over the kinds whose handler counts toward progress
  // "running (phase 0: scan, transfer)", "continuous, idle until 2026-…Z",
  // "continuous, running (phase 1: delete)", "done", "failed", "failed (stopped by
  // --max-delete: ...)".
  std::string state;
  // A run the --max-delete guard stopped (jobs/delete_guard.h): why, in one line; "" otherwise.
  std::string deletes_refused;
  bool idle = false;  // a continuous run waiting for its next round
};

// The view of one run from its row and counts; `now` tells a continuous run that waits for its
// next scan (idle) from one that works.
RunView MakeRunView(const jobs::Run& run, const jobs::RunCounts& counts,
                    const jobs::KindRegistry& kinds, jobs::TimePoint now);

// The newest `limit` runs with their counts (one ListRuns, one CountJobs per run).
Result<std::vector<RunView>> ListRunViews(jobs::JobStore& store, int limit,
                                          const jobs::KindRegistry& kinds, jobs::TimePoint now);

// "2026-01-01T00:00:00Z".
std::string When(jobs::TimePoint t);

// `ferry jobs list`: one line, or one JSON object, per run.
std::string RunLine(const RunView& view);
nlohmann::json RunJson(const RunView& view);
// `ferry jobs show/dlq`: one line, or one JSON object, per job (a scan shows its key range; a
// transfer job whose payload keeps its failed objects' own errors lists them as "failures":
// [{"key","error"}]).
std::string JobLine(const jobs::Job& job);
nlohmann::json JobJson(const jobs::Job& job);

// One object of a transfer job that failed, with the error of its own last attempt.
struct ObjectError {
  std::string key;
  std::string error;
};
// The objects of a transfer job that kept their own errors (jobs/payload.h "f"): empty for
// any other kind, a done job, a job that never failed, and payloads written before errors
// were kept.
std::vector<ObjectError> JobObjectErrors(const jobs::Job& job);

// The objects of `run`'s dead jobs as failures (a transfer job's payload holds just the
// objects that failed, each with its own error: the job's last_error, the first failure's,
// stands only for an object whose payload entry has none; any other job counts as its
// objects under its own name), at most
// transfer::Stats::kMaxKeptFailures; `*count` gets how many objects failed in all.
std::vector<transfer::Failure> DeadObjects(jobs::JobStore& store, jobs::RunId run,
                                           uint64_t* count);

}  // namespace ferry::app
