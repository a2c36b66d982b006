// Key locks (job_store.h, "Keys written by one job at a time"): a row per locked key naming the
// job and attempt that holds it; live while that job is leased at that attempt (as HoldLease
// sees a lease: an expired one nobody took is still held, its holder may renew it and write),
// so a lock is free exactly when its holder can no longer write.
#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {
namespace {

// Takes the row when it is free (absent, ours, or its holder's lease is gone); no row is
// returned when another job's live lease holds it.
constexpr char kTake[] =
    "INSERT INTO key_locks (scope, object_key, job, attempt) VALUES ($1, $2, $3, $4)"
    " ON CONFLICT (scope, object_key) DO UPDATE SET job = excluded.job,"
    " attempt = excluded.attempt"
    " WHERE key_locks.job = excluded.job OR NOT EXISTS (SELECT 1 FROM jobs j"
    " WHERE j.id = key_locks.job AND j.state = 'leased' AND j.attempts = key_locks.attempt)"
    " RETURNING job";

}  // namespace

Result<bool> SqlJobStore::LockKey(const Lease& lease, std::string_view scope,
                                  std::string_view key) {
  bool held = false;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    const int64_t now = NowMs();
    FERRY_RETURN_IF_ERROR(HoldLease(tx, lease, now));
    FERRY_ASSIGN_OR_RETURN(SqlRows rows,
                           tx.Exec(kTake, {scope, key, lease.job, int64_t{lease.attempt}}));
    held = !rows.rows.empty();
    return Status::Ok();
  }));
  return held;
}

Status SqlJobStore::UnlockKey(const Lease& lease, std::string_view scope, std::string_view key) {
  return session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    return tx
        .Exec("DELETE FROM key_locks WHERE scope = $1 AND object_key = $2 AND job = $3"
              " AND attempt = $4",
              {scope, key, lease.job, int64_t{lease.attempt}})
        .status();
  });
}

}  // namespace ferry::jobs::internal
