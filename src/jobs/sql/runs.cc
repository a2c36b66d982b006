// Runs: CreateRun, FindUnfinishedRun, GetRun, ListRuns, SetRunState, SetRunPhase, Restart,
// AbandonRun, CountJobs.
#include <algorithm>

#include "jobs/run_end_hook.h"
#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {
namespace {

Status RunNotFound(RunId run) {
  return Status::NotFound("run " + std::to_string(run) + " not found");
}

// The state of `run`; kNotFound unless it exists.
Result<RunState> ReadRunState(SqlTx& tx, RunId run) {
  FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.Exec("SELECT state FROM runs WHERE id = $1", {run}));
  if (rows.rows.empty()) return RunNotFound(run);
  return ParseRunState(CellText(rows.rows[0][0]));
}

}  // namespace

int64_t SqlJobStore::NowMs() const { return ToMs(clock_.Now()); }

Result<RunId> SqlJobStore::CreateRun(const RunSpec& spec, std::vector<JobSpec> first,
                                     const NewRunStep& with_run) {
  FERRY_RETURN_IF_ERROR(ValidateSpecs(first));
  RunId id = 0;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(
            "INSERT INTO runs (source, destination, options, state, created, updated, phase,"
            " continuous, rescan_interval) VALUES ($1, $2, $3, $4, $5, $5, 0, $6, $7) RETURNING id",
            {spec.source, spec.destination, spec.options, RunStateName(RunState::kRunning), now,
             int64_t{spec.continuous ? 1 : 0},
             static_cast<int64_t>(spec.rescan_interval.count())}));
    if (rows.rows.size() != 1) return Status::Internal("INSERT INTO runs returned no id");
    id = CellInt(rows.rows[0][0]);
    if (!first.empty()) {
      for (JobSpec& job : first) job.run = id;
      std::vector<JobId> ids;
      FERRY_RETURN_IF_ERROR(InsertJobs(tx, first, now, ids));
    }
    return with_run ? with_run(tx, id) : Status::Ok();
  }));
  return id;
}

Result<std::optional<Run>> SqlJobStore::FindUnfinishedRun(std::string_view source,
                                                          std::string_view destination) {
  std::optional<Run> found;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    found.reset();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(std::string("SELECT ") + kRunColumns +
                    " FROM runs WHERE source = $1 AND destination = $2"
                    " AND state = $3 ORDER BY id DESC LIMIT 1",
                {source, destination, RunStateName(RunState::kRunning)}));
    if (rows.rows.empty()) return Status::Ok();
    FERRY_ASSIGN_OR_RETURN(found, DecodeRun(rows.rows[0]));
    return Status::Ok();
  }));
  return found;
}

Result<Run> SqlJobStore::GetRun(RunId run) {
  Run out;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = $1", {run}));
    if (rows.rows.empty()) return RunNotFound(run);
    FERRY_ASSIGN_OR_RETURN(out, DecodeRun(rows.rows[0]));
    return Status::Ok();
  }));
  return out;
}

Result<std::vector<Run>> SqlJobStore::ListRuns(int limit) {
  if (limit < 1) return Status::InvalidArgument("ListRuns: limit must be at least 1");
  std::vector<Run> out;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.Exec(std::string("SELECT ") + kRunColumns +
                                                     " FROM runs ORDER BY id DESC LIMIT $1",
                                                 {int64_t{limit}}));
    for (const SqlRow& row : rows.rows) {
      FERRY_ASSIGN_OR_RETURN(Run run, DecodeRun(row));
      out.push_back(std::move(run));
    }
    return Status::Ok();
  }));
  return out;
}

Status SqlJobStore::SetRunState(RunId run, RunState state) {
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    // A change of state first: the run-end hook is called once per end, however many workers
    // end the run at once (PostgreSQL re-reads the condition of a row another one changed).
    FERRY_ASSIGN_OR_RETURN(
        SqlRows changed,
        tx.Exec("UPDATE runs SET state = $2, updated = $3 WHERE id = $1 AND state <> $2",
                {run, RunStateName(state), now}));
    if (changed.changes > 0) {
      if (state == RunState::kRunning) return Status::Ok();
      return CallRunEndHook(tx, run, state, now);  // run_end_hook.h
    }
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec("UPDATE runs SET state = $2, updated = $3 WHERE id = $1",
                                   {run, RunStateName(state), now}));
    return rows.changes == 0 ? RunNotFound(run) : Status::Ok();
  });
}

Status SqlJobStore::SetRunPhase(RunId run, int phase) {
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec("UPDATE runs SET phase = $2, updated = $3 WHERE id = $1",
                                   {run, int64_t{phase}, NowMs()}));
    return rows.changes == 0 ? RunNotFound(run) : Status::Ok();
  });
}

Result<bool> SqlJobStore::Restart(RunId run, const JobSpec& first,
                                  const std::vector<std::string>& ongoing_kinds) {
  FERRY_RETURN_IF_ERROR(ValidateSpecs({first}));
  if (first.run != run) return Status::InvalidArgument("Restart: the job is of another run");
  bool restarted = false;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    restarted = false;
    const int64_t now = NowMs();
    // Touching the run's row first locks it (PostgreSQL): a second Restart waits here, and
    // then sees the job this one enqueued.
    FERRY_ASSIGN_OR_RETURN(SqlRows touched,
                           tx.Exec("UPDATE runs SET updated = $2 WHERE id = $1 AND state = $3",
                                   {run, now, RunStateName(RunState::kRunning)}));
    if (touched.changes == 0) {
      FERRY_RETURN_IF_ERROR(ReadRunState(tx, run).status());  // kNotFound, or it has ended
      return Status::Ok();
    }
    std::string busy = "SELECT COUNT(*) FROM jobs WHERE run = $1 AND state IN ('queued', 'leased')";
    std::vector<SqlValue> params{run};
    if (!ongoing_kinds.empty()) {
      busy += " AND kind NOT IN (";
      for (size_t i = 0; i < ongoing_kinds.size(); ++i) {
        busy += (i == 0 ? "$" : ", $") + std::to_string(i + 2);
        params.push_back(std::string_view(ongoing_kinds[i]));
      }
      busy += ")";
    }
    FERRY_ASSIGN_OR_RETURN(SqlRows left, tx.ExecSpan(busy, params));
    if (!left.rows.empty() && CellInt(left.rows[0][0]) > 0) return Status::Ok();
    const std::string done = "(SELECT id FROM jobs WHERE run = $1 AND state = 'done')";
    FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM part_checkpoints WHERE job IN " + done, {run}).status());
    FERRY_RETURN_IF_ERROR(tx.Exec("DELETE FROM upload_checkpoints WHERE job IN " + done, {run}).status());
    FERRY_RETURN_IF_ERROR(
        tx.Exec("DELETE FROM jobs WHERE run = $1 AND state = 'done'", {run}).status());
    FERRY_RETURN_IF_ERROR(tx.Exec("UPDATE runs SET phase = 0 WHERE id = $1", {run}).status());
    std::vector<JobId> ids;
    FERRY_RETURN_IF_ERROR(InsertJobs(tx, {first}, now, ids));
    restarted = true;
    return Status::Ok();
  }));
  return restarted;
}

Result<uint64_t> SqlJobStore::AbandonRunIn(SqlTx& tx, RunId run, int64_t now,
                                           TimePoint* leases_until) {
  int64_t until = 0;
  uint64_t removed = 0;
  // Removes every job of the run that is not done: queued (parked deletes included), leased
  // and dead, with their checkpoints.
  auto sweep = [&]() -> Status {
    const std::string unfinished = "(SELECT id FROM jobs WHERE run = $1 AND state <> 'done')";
    FERRY_RETURN_IF_ERROR(
        tx.Exec("DELETE FROM part_checkpoints WHERE job IN " + unfinished, {run}).status());
    FERRY_RETURN_IF_ERROR(
        tx.Exec("DELETE FROM upload_checkpoints WHERE job IN " + unfinished, {run}).status());
    // The leases are read from the rows as they are deleted, not by a SELECT before: on
    // PostgreSQL (read committed) a Renew committed between the two would extend a lease past
    // the time read, and its holder would go on writing after the caller stopped waiting for
    // it. DELETE waits for such a Renew's row lock and returns the row as it then is; a Renew
    // after it finds no row.
    FERRY_ASSIGN_OR_RETURN(
        SqlRows jobs,
        tx.Exec("DELETE FROM jobs WHERE run = $1 AND state <> 'done'"
                " RETURNING state, lease_expires",
                {run}));
    for (const auto& row : jobs.rows) {
      if (CellText(row[0]) == "leased") until = std::max(until, CellInt(row[1]));
    }
    removed += static_cast<uint64_t>(jobs.rows.size());
    return Status::Ok();
  };
  FERRY_RETURN_IF_ERROR(sweep());
  // The run ends: from here on InsertJobs refuses its jobs. On PostgreSQL an Enqueue holds the
  // run's row FOR SHARE until it commits, so this waits for those under way; the second sweep
  // (a new snapshot) removes the jobs they added, and an Enqueue after it reads the run ended.
  // (Ending the run before the first sweep would deadlock with a Finish that holds its job's
  // row and enqueues more.)
  FERRY_ASSIGN_OR_RETURN(
      SqlRows ended, tx.Exec("UPDATE runs SET state = $2, updated = $3 WHERE id = $1",
                             {run, RunStateName(RunState::kFailed), now}));
  if (ended.changes == 0) return RunNotFound(run);
  FERRY_RETURN_IF_ERROR(sweep());
  if (leases_until != nullptr) *leases_until = until == 0 ? TimePoint{} : FromMs(until);
  FERRY_RETURN_IF_ERROR(
      tx.Exec("UPDATE runs SET leases_until = $2 WHERE id = $1", {run, until}).status());
  return removed;
}

Result<uint64_t> SqlJobStore::AbandonRun(RunId run, TimePoint* leases_until) {
  uint64_t removed = 0;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    FERRY_ASSIGN_OR_RETURN(removed, AbandonRunIn(tx, run, NowMs(), leases_until));
    return Status::Ok();
  }));
  return removed;
}

Result<RunCounts> SqlJobStore::CountJobs(RunId run) {
  RunCounts counts;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    counts = RunCounts{};
    FERRY_ASSIGN_OR_RETURN(SqlRows run_rows,
                           tx.Exec("SELECT state, phase, continuous FROM runs WHERE id = $1", {run}));
    if (run_rows.rows.empty()) return RunNotFound(run);
    FERRY_ASSIGN_OR_RETURN(counts.state, ParseRunState(CellText(run_rows.rows[0][0])));
    counts.phase = static_cast<int>(CellInt(run_rows.rows[0][1]));
    counts.continuous = CellInt(run_rows.rows[0][2]) != 0;
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT kind, state, COUNT(*), CAST(SUM(objects) AS BIGINT),"
                " CAST(SUM(bytes) AS BIGINT), MIN(CASE WHEN state = 'queued' AND not_before < $2"
                " THEN not_before END), CAST(SUM(tally_objects) AS BIGINT),"
                " CAST(SUM(tally_bytes) AS BIGINT) FROM jobs WHERE run = $1 GROUP BY kind, state",
                {run, ToMs(kParked)}));
    int64_t next_due = 0;
    for (const SqlRow& row : rows.rows) {
      FERRY_ASSIGN_OR_RETURN(JobState state, ParseJobState(CellText(row[1])));
      const auto jobs = static_cast<uint64_t>(CellInt(row[2]));
      const auto objects = static_cast<uint64_t>(CellInt(row[3]));
      const auto bytes = static_cast<uint64_t>(CellInt(row[4]));
      KindCounts& kind = counts.by_kind[CellText(row[0])];
      counts.jobs[static_cast<int>(state)] += jobs;
      kind.jobs[static_cast<int>(state)] += jobs;
      counts.objects_total += objects;
      counts.bytes_total += bytes;
      kind.objects_total += objects;
      kind.bytes_total += bytes;
      kind.tally.objects += static_cast<uint64_t>(CellInt(row[6]));
      kind.tally.bytes += static_cast<uint64_t>(CellInt(row[7]));
      if (state == JobState::kDone) {
        counts.objects_done += objects;
        counts.bytes_done += bytes;
        kind.objects_done += objects;
        kind.bytes_done += bytes;
      }
      if (std::holds_alternative<std::monostate>(row[5])) continue;
      const int64_t due = CellInt(row[5]);
      if (next_due == 0 || due < next_due) next_due = due;
    }
    counts.next_due = FromMs(next_due);
    return Status::Ok();
  }));
  return counts;
}

}  // namespace ferry::jobs::internal
