// OpenSqliteJobStore: a SQLite session (state/) handed to the shared SQL store.
#include "jobs/sqlite/sqlite_job_store.h"

#include "jobs/sql/sql_job_store.h"
#include "state/state.h"

namespace ferry::jobs {

Result<std::unique_ptr<JobStore>> OpenSqliteJobStore(const std::string& path, Clock& clock) {
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<state::SqlSession> session,
                         state::OpenSqliteSession(path));
  return internal::SqlJobStore::Open(std::move(session), clock);
}

}  // namespace ferry::jobs
