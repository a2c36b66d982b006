// Renew, Finish, HandOff and Release: what a lease holder may do, fenced by (job, owner,
// attempt). HoldLease lends the same fence to the checkpoint writes (checkpoints.cc).
#include <limits>

#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {
namespace {

constexpr char kLeaseHeld[] =
    " WHERE id = $1 AND state = 'leased' AND lease_owner = $2 AND attempts = $3";

std::string_view OutcomeName(Outcome::Kind kind) {
  switch (kind) {
    case Outcome::Kind::kDone:
      return "done";
    case Outcome::Kind::kRetry:
      return "retry";
    case Outcome::Kind::kFail:
      return "fail";
    case Outcome::Kind::kWait:
      return "wait";
  }
  return "fail";
}

// Why an update fenced by `lease` matched no row: kNotFound, or kFailedPrecondition naming
// who holds the job now.
Status ExplainLostLease(SqlTx& tx, const Lease& lease) {
  FERRY_ASSIGN_OR_RETURN(
      SqlRows rows,
      tx.Exec("SELECT state, lease_owner, attempts FROM jobs WHERE id = $1", {lease.job}));
  const std::string job = "job " + std::to_string(lease.job);
  if (rows.rows.empty()) return Status::NotFound(job + " not found");
  const SqlRow& row = rows.rows[0];
  std::string now = CellText(row[0]);
  if (now == JobStateName(JobState::kLeased)) {
    now += " by " + CellText(row[1]) + " (attempt " + std::to_string(CellInt(row[2])) + ")";
  }
  return Status::FailedPrecondition("lease on " + job + " (owner " + lease.owner + ", attempt " +
                                    std::to_string(lease.attempt) +
                                    ") is no longer held: the job is " + now);
}

Status ValidateLease(const Lease& lease) {
  if (lease.owner.empty()) return Status::InvalidArgument("lease without owner");
  return Status::Ok();
}

}  // namespace

Status SqlJobStore::CheckJobExists(SqlTx& tx, JobId job) {
  FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.Exec("SELECT 1 FROM jobs WHERE id = $1", {job}));
  if (rows.rows.empty()) return Status::NotFound("job " + std::to_string(job) + " not found");
  return Status::Ok();
}

Status SqlJobStore::HoldLease(SqlTx& tx, const Lease& lease, int64_t now) {
  FERRY_RETURN_IF_ERROR(ValidateLease(lease));
  // An UPDATE, not a SELECT: on PostgreSQL it locks the row, so a concurrent Claim of an
  // expired lease waits for this transaction instead of slipping in before its commit.
  FERRY_ASSIGN_OR_RETURN(
      SqlRows rows, tx.Exec(std::string("UPDATE jobs SET updated = $4") + kLeaseHeld,
                            {lease.job, lease.owner, int64_t{lease.attempt}, now}));
  return rows.changes == 0 ? ExplainLostLease(tx, lease) : Status::Ok();
}

Status SqlJobStore::Renew(const Lease& lease, std::chrono::seconds ttl) {
  FERRY_RETURN_IF_ERROR(ValidateLease(lease));
  if (ttl.count() <= 0) return Status::InvalidArgument("Renew: ttl must be positive");
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(std::string("UPDATE jobs SET lease_expires = $4, updated = $5") + kLeaseHeld,
                {lease.job, lease.owner, int64_t{lease.attempt},
                 now + std::chrono::milliseconds(ttl).count(), now}));
    return rows.changes == 0 ? ExplainLostLease(tx, lease) : Status::Ok();
  });
}

Result<uint64_t> SqlJobStore::ExpireLeases(std::string_view owner) {
  if (owner.empty()) return Status::InvalidArgument("ExpireLeases: empty owner");
  uint64_t n = 0;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec("UPDATE jobs SET lease_expires = $2, updated = $2"
                " WHERE state = 'leased' AND lease_owner = $1",
                {std::string(owner), now}));
    n = static_cast<uint64_t>(rows.changes);
    return Status::Ok();
  }));
  return n;
}

Status SqlJobStore::Finish(const Lease& lease, const Outcome& outcome,
                           const std::vector<JobSpec>& more) {
  FERRY_RETURN_IF_ERROR(ValidateLease(lease));
  if (outcome.retry_after.count() < 0) {
    return Status::InvalidArgument("Finish: negative retry_after");
  }
  constexpr uint64_t kMaxCount = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (outcome.tally.objects > kMaxCount || outcome.tally.bytes > kMaxCount) {
    return Status::InvalidArgument("Finish: tally above 2^63 - 1");
  }
  FERRY_RETURN_IF_ERROR(ValidateSpecs(more));
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(std::string(
                    "UPDATE jobs SET state = CASE WHEN $4 = 'done' THEN 'done'"
                    " WHEN $4 = 'wait' THEN 'queued'"
                    " WHEN $4 = 'retry' AND attempts < max_attempts THEN 'queued' ELSE 'dead' END,"
                    " attempts = CASE WHEN $4 = 'wait' THEN attempts - 1 ELSE attempts END,"
                    " last_error = CASE WHEN $4 = 'done' THEN last_error ELSE $5 END,"
                    " not_before = CASE WHEN $4 IN ('retry', 'wait') THEN $6 ELSE not_before END,"
                    " payload = CASE WHEN $4 <> 'done' AND $8 = 1 THEN $9 ELSE payload END,"
                    " tally_objects = tally_objects + $10, tally_bytes = tally_bytes + $11,"
                    " lease_owner = '', lease_expires = 0, updated = $7") +
                    kLeaseHeld,
                {lease.job, lease.owner, int64_t{lease.attempt}, OutcomeName(outcome.kind),
                 outcome.error, now + outcome.retry_after.count(), now,
                 int64_t{outcome.payload.has_value() ? 1 : 0},
                 outcome.payload ? std::string_view(*outcome.payload) : std::string_view(),
                 static_cast<int64_t>(outcome.tally.objects),
                 static_cast<int64_t>(outcome.tally.bytes)}));
    if (rows.changes == 0) return ExplainLostLease(tx, lease);
    if (more.empty()) return Status::Ok();
    std::vector<JobId> ids;
    return InsertJobs(tx, more, now, ids);
  });
}

Status SqlJobStore::HandOff(const Lease& lease, std::string_view kept,
                            const std::vector<JobSpec>& more) {
  FERRY_RETURN_IF_ERROR(ValidateLease(lease));
  FERRY_RETURN_IF_ERROR(ValidateSpecs(more));
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows, tx.Exec(std::string("UPDATE jobs SET payload = $4, updated = $5") + kLeaseHeld,
                              {lease.job, lease.owner, int64_t{lease.attempt}, kept, now}));
    if (rows.changes == 0) return ExplainLostLease(tx, lease);
    std::vector<JobId> ids;
    return InsertJobs(tx, more, now, ids);
  });
}

Status SqlJobStore::Release(const Lease& lease) {
  FERRY_RETURN_IF_ERROR(ValidateLease(lease));
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_ASSIGN_OR_RETURN(
        SqlRows rows,
        tx.Exec(std::string("UPDATE jobs SET state = 'queued', attempts = attempts - 1,"
                            " lease_owner = '', lease_expires = 0, not_before = $4,"
                            " updated = $4") +
                    kLeaseHeld,
                {lease.job, lease.owner, int64_t{lease.attempt}, now}));
    return rows.changes == 0 ? ExplainLostLease(tx, lease) : Status::Ok();
  });
}

}  // namespace ferry::jobs::internal
