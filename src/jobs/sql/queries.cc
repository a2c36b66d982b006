// GetJob, ListJobs, ListJobsOfKind and ListErrors (reads); Unpark, Hasten, Redrive and Purge
// (actions on many jobs at once); Wake (one job).
#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {
namespace {

// The jobs `SELECT <job columns> FROM jobs <rest>` reads with `params`, in one read transaction.
Result<std::vector<Job>> SelectJobs(SqlSession& session, std::string_view rest,
                                    std::initializer_list<SqlValue> params) {
  std::vector<Job> out;
  const std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs " + std::string(rest);
  FERRY_RETURN_IF_ERROR(session.Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.Exec(sql, params));
    for (const SqlRow& row : rows.rows) {
      FERRY_ASSIGN_OR_RETURN(Job job, DecodeJob(row));
      out.push_back(std::move(job));
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace

Result<Job> SqlJobStore::GetJob(JobId job) {
  Job out;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = $1", {job}));
    if (rows.rows.empty()) return Status::NotFound("job " + std::to_string(job) + " not found");
    FERRY_ASSIGN_OR_RETURN(out, DecodeJob(rows.rows[0]));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Job>> SqlJobStore::ListJobs(RunId run, std::optional<JobState> state,
                                               int limit) {
  if (limit < 1) return Status::InvalidArgument("ListJobs: limit must be at least 1");
  const std::string_view state_name = state ? JobStateName(*state) : std::string_view();
  return SelectJobs(*session_,
                    "WHERE ($1 = 0 OR run = $1) AND ($2 = '' OR state = $2) ORDER BY id LIMIT $3",
                    {run, state_name, int64_t{limit}});
}

Result<std::vector<Job>> SqlJobStore::ListJobsOfKind(RunId run, std::string_view kind,
                                                     JobId after, int limit) {
  if (run <= 0) return Status::InvalidArgument("ListJobsOfKind: a run is needed");
  if (limit < 1) return Status::InvalidArgument("ListJobsOfKind: limit must be at least 1");
  // jobs_by_run holds (run, id) in SQLite (the rowid) and the id order walks the primary key in
  // PostgreSQL: each page starts where the last ended, so a whole walk reads the run once.
  return SelectJobs(*session_, "WHERE run = $1 AND id > $2 AND kind = $3 ORDER BY id LIMIT $4",
                    {run, after, kind, int64_t{limit}});
}

Result<std::vector<Job>> SqlJobStore::ListErrors(RunId run, int limit) {
  if (limit < 1) return Status::InvalidArgument("ListErrors: limit must be at least 1");
  return SelectJobs(*session_,
                    "WHERE ($1 = 0 OR run = $1) AND state <> 'done' AND last_error <> ''"
                    " ORDER BY updated DESC, id DESC LIMIT $2",
                    {run, int64_t{limit}});
}

Result<uint64_t> SqlJobStore::Unpark(RunId run, std::string_view kind) {
  uint64_t count = 0;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("UPDATE jobs SET not_before = $3, updated = $3"
                " WHERE run = $1 AND kind = $2 AND state = 'queued' AND not_before >= $4",
                {run, kind, now, ToMs(kParked)}));
    count = static_cast<uint64_t>(rows.changes);
    return Status::Ok();
  }));
  return count;
}

Result<bool> SqlJobStore::Wake(JobId job) {
  bool woken = false;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec("UPDATE jobs SET not_before = $2, updated = $2"
                                   " WHERE id = $1 AND state = 'queued'"
                                   " AND not_before > $2 AND not_before < $3",
                                   {job, now, ToMs(kParked)}));
    woken = rows.changes > 0;
    return Status::Ok();
  }));
  return woken;
}

Result<uint64_t> SqlJobStore::Hasten(RunId run) {
  uint64_t count = 0;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("UPDATE jobs SET not_before = $2, updated = $2"
                " WHERE run = $1 AND state = 'queued' AND attempts = 0"
                " AND not_before > $2 AND not_before < $3",
                {run, now, ToMs(kParked)}));
    count = static_cast<uint64_t>(rows.changes);
    return Status::Ok();
  }));
  return count;
}

Result<uint64_t> SqlJobStore::Redrive(RunId run, const std::vector<JobSpec>& with) {
  FERRY_RETURN_IF_ERROR(ValidateSpecs(with));
  uint64_t count = 0;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    // A failed run that gets work back is in progress again (FindUnfinishedRun resumes it).
    FERRY_RETURN_IF_ERROR(
        tx.Exec("UPDATE runs SET state = $3, updated = $2 WHERE state = $4 AND id IN"
                " (SELECT run FROM jobs WHERE state = 'dead' AND ($1 = 0 OR run = $1))",
                {run, now, RunStateName(RunState::kRunning), RunStateName(RunState::kFailed)})
            .status());
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("UPDATE jobs SET state = 'queued', attempts = 0, not_before = $2, updated = $2,"
                " lease_owner = '', lease_expires = 0"
                " WHERE state = 'dead' AND ($1 = 0 OR run = $1)",
                {run, now}));
    count = static_cast<uint64_t>(rows.changes);
    if (with.empty()) return Status::Ok();
    std::vector<JobId> ids;
    return InsertJobs(tx, with, now, ids);
  }));
  return count;
}

Result<uint64_t> SqlJobStore::Purge(bool dead_too) {
  // Runs that have ended for good: done, or failed with nothing left to run or redrive.
  const std::string ended =
      "(state = 'done' OR (state = 'failed' AND NOT EXISTS (SELECT 1 FROM jobs"
      " WHERE jobs.run = runs.id AND jobs.state <> 'done')))";
  const std::string doomed = "(SELECT id FROM jobs WHERE run IN (SELECT id FROM runs WHERE " +
                             ended + "))";
  uint64_t count = 0;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    count = 0;
    if (dead_too) {
      // A dead job removed never succeeds: its run is over, and must never run its deletes
      // (nor be counted done), so it is abandoned, which removes the dead job too.
      FERRY_ASSIGN_OR_RETURN(SqlRows runs,
                             tx.Exec("SELECT DISTINCT run FROM jobs WHERE state = 'dead'"));
      const int64_t now = NowMs();
      for (const SqlRow& row : runs.rows) {
        FERRY_ASSIGN_OR_RETURN(uint64_t removed, AbandonRunIn(tx, CellInt(row[0]), now, nullptr));
        count += removed;
      }
    }
    FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM part_checkpoints WHERE job IN " + doomed).status());
    FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM upload_checkpoints WHERE job IN " + doomed).status());
    FERRY_ASSIGN_OR_RETURN(SqlRows jobs, tx.Exec("DELETE FROM jobs WHERE id IN " + doomed));
    count += static_cast<uint64_t>(jobs.changes);
    return tx.Exec("DELETE FROM runs WHERE " + ended).status();
  }));
  return count;
}

}  // namespace ferry::jobs::internal
