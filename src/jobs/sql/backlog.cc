// The store-wide views that metrics read: Backlog (what waits for a worker, per run in
// progress and kind) and RunsHealth (the runs the alarms watch: dead jobs, progress).
#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {

Result<std::vector<BacklogRow>> SqlJobStore::Backlog(TimePoint now) {
  std::vector<BacklogRow> out;
  const int64_t now_ms = ToMs(now);
  // A job is claimable (ClaimSql) when queued and due, or leased with an expired lease; its
  // claimable-since time is not_before (created for a job runnable at once, not_before 0) or
  // lease_expires. Parked jobs (not_before = kParked)
  // wait for their phase, not for a worker: neither waiting nor later.
  const std::string claimable =
      "((j.state = 'queued' AND j.not_before <= $1) OR"
      " (j.state = 'leased' AND j.lease_expires <= $1))";
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT j.run, j.kind,"
                " CAST(SUM(CASE WHEN " + claimable + " THEN 1 ELSE 0 END) AS BIGINT),"
                " CAST(SUM(CASE WHEN " + claimable + " THEN j.bytes ELSE 0 END) AS BIGINT),"
                " MIN(CASE WHEN j.state = 'queued' AND j.not_before <= $1 THEN"
                " (CASE WHEN j.not_before > j.created THEN j.not_before ELSE j.created END)"
                " WHEN j.state = 'leased' AND j.lease_expires <= $1 THEN j.lease_expires END),"
                " CAST(SUM(CASE WHEN j.state = 'leased' AND j.lease_expires > $1 THEN 1 ELSE 0"
                " END) AS BIGINT),"
                " CAST(SUM(CASE WHEN j.state = 'queued' AND j.not_before > $1 AND"
                " j.not_before < $2 THEN 1 ELSE 0 END) AS BIGINT)"
                " FROM jobs j JOIN runs r ON r.id = j.run"
                " WHERE r.state = 'running' AND j.state IN ('queued', 'leased')"
                " GROUP BY j.run, j.kind ORDER BY j.run, j.kind",
                {now_ms, ToMs(kParked)}));
    for (const SqlRow& row : rows.rows) {
      BacklogRow b;
      b.run = CellInt(row[0]);
      b.kind = CellText(row[1]);
      b.waiting = static_cast<uint64_t>(CellInt(row[2]));
      b.waiting_bytes = static_cast<uint64_t>(CellInt(row[3]));
      if (!std::holds_alternative<std::monostate>(row[4])) b.oldest_due = FromMs(CellInt(row[4]));
      b.running = static_cast<uint64_t>(CellInt(row[5]));
      b.later = static_cast<uint64_t>(CellInt(row[6]));
      if (b.waiting + b.running + b.later == 0) continue;  // parked only
      out.push_back(std::move(b));
    }
    return Status::Ok();
  }));
  return out;
}

namespace {

// Adds one (run, kind) row of RunsHealth's grouped query to its run's RunHealth.
void AddHealthRow(const SqlRow& row, RunHealth& h) {
  const uint64_t dead = static_cast<uint64_t>(CellInt(row[2]));
  if (dead > 0) h.dead[CellText(row[1])] += dead;
  h.objects_done += static_cast<uint64_t>(CellInt(row[3]));
  h.objects_total += static_cast<uint64_t>(CellInt(row[4]));
  h.working += static_cast<uint64_t>(CellInt(row[5]));
  const TimePoint moved = FromMs(CellInt(row[6]));
  if (moved > h.last_progress) h.last_progress = moved;
}

}  // namespace

Result<std::vector<RunHealth>> SqlJobStore::RunsHealth(TimePoint now, TimePoint ended_since,
                                                       int limit) {
  if (limit < 1) return Status::InvalidArgument("RunsHealth: limit must be at least 1");
  std::vector<RunHealth> out;
  const std::string watched = "(state = 'running' OR updated >= $1)";
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kRead, [&](SqlTx& tx) -> Status {
    out.clear();
    FERRY_ASSIGN_OR_RETURN(SqlRows runs,
                           tx.Exec(std::string("SELECT ") + kRunColumns + " FROM runs WHERE " +
                                       watched + " ORDER BY id DESC LIMIT $2",
                                   {ToMs(ended_since), int64_t{limit}}));
    if (runs.rows.empty()) return Status::Ok();
    std::map<RunId, size_t> index;
    for (const SqlRow& row : runs.rows) {
      FERRY_ASSIGN_OR_RETURN(Run run, DecodeRun(row));
      index[run.id] = out.size();
      RunHealth h;
      h.last_progress = run.created;
      h.run = std::move(run);
      out.push_back(std::move(h));
    }
    // The jobs of the runs above (ids from the oldest listed up), grouped by run and kind.
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("SELECT j.run, j.kind,"
                " CAST(SUM(CASE WHEN j.state = 'dead' THEN 1 ELSE 0 END) AS BIGINT),"
                " CAST(SUM(CASE WHEN j.state = 'done' THEN j.objects ELSE 0 END) AS BIGINT),"
                " CAST(SUM(j.objects) AS BIGINT),"
                " CAST(SUM(CASE WHEN j.state = 'leased' OR (j.state = 'queued' AND"
                " j.not_before < $3 AND (j.not_before <= $2 OR j.attempts > 0))"
                " THEN 1 ELSE 0 END) AS BIGINT),"
                " MAX(CASE WHEN j.state = 'done' AND j.updated > j.created THEN j.updated"
                " ELSE j.created END)"
                " FROM jobs j JOIN runs r ON r.id = j.run"
                " WHERE (r.state = 'running' OR r.updated >= $1) AND r.id >= $4"
                " GROUP BY j.run, j.kind",
                {ToMs(ended_since), ToMs(now), ToMs(kParked), out.back().run.id}));
    for (const SqlRow& row : rows.rows) {
      auto it = index.find(CellInt(row[0]));
      if (it != index.end()) AddHealthRow(row, out[it->second]);
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace ferry::jobs::internal
