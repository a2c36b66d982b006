// OpenPgJobStore: a PostgreSQL session (state/) handed to the shared SQL store.
#include "jobs/postgres/pg_job_store.h"

#include "jobs/sql/sql_job_store.h"
#include "state/state.h"

namespace ferry::jobs {

Result<std::unique_ptr<JobStore>> OpenPgJobStore(const std::string& url, Clock& clock,
                                                 PgStoreOptions options) {
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<state::SqlSession> session,
                         state::OpenPgSession(url, clock, options));
  return internal::SqlJobStore::Open(std::move(session), clock);
}

}  // namespace ferry::jobs
