// Backlog: what waits for a worker, per run in progress and kind (JobStore::Backlog).
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

}  // namespace ferry::jobs::internal
