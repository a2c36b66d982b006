// OpenJobStore (URL dispatch to the SQLite or PostgreSQL store) and the state names, which are
// also the values stored in the database's state columns: never rename one.
#include "jobs/job_store.h"

#include "base/clock.h"
#include "jobs/postgres/pg_job_store.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "state/state_url.h"

namespace ferry::jobs {

std::string_view JobStateName(JobState state) {
  switch (state) {
    case JobState::kQueued:
      return "queued";
    case JobState::kLeased:
      return "leased";
    case JobState::kDone:
      return "done";
    case JobState::kDead:
      return "dead";
  }
  return "?";
}

std::string_view RunStateName(RunState state) {
  switch (state) {
    case RunState::kRunning:
      return "running";
    case RunState::kDone:
      return "done";
    case RunState::kFailed:
      return "failed";
  }
  return "?";
}

Status ForEachJobOfKind(JobStore& store, RunId run, std::string_view kind,
                        const std::function<Status(const Job&)>& fn, int page) {
  JobId after = 0;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(std::vector<Job> jobs, store.ListJobsOfKind(run, kind, after, page));
    for (const Job& j : jobs) FERRY_RETURN_IF_ERROR(fn(j));
    if (jobs.size() < static_cast<size_t>(page)) return Status::Ok();
    after = jobs.back().id;
  }
}

Result<std::unique_ptr<JobStore>> OpenJobStore(const std::string& url) {
  FERRY_ASSIGN_OR_RETURN(state::StateUrl parsed, state::ParseStateUrl(url));
  switch (parsed.type) {
    case state::StoreType::kSqlite:
      return OpenSqliteJobStore(parsed.target, SystemClock::Default());
    case state::StoreType::kPostgres:
      return OpenPgJobStore(parsed.target, SystemClock::Default());
  }
  return Status::Internal("unknown store type");
}

}  // namespace ferry::jobs
