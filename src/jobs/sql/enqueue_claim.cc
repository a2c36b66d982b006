// Enqueue and Claim: jobs in, leases out.
#include <algorithm>
#include <array>
#include <set>

#include "jobs/sql/sql_job_store.h"

namespace ferry::jobs::internal {
namespace {

constexpr char kDiedTooOften[] = "lease expired too often (worker died?)";

// Rows per INSERT statement, largest first: few distinct statements (each is prepared and
// cached by the SQLite driver) and few round trips (PostgreSQL).
constexpr std::array<size_t, 4> kInsertBatches = {64, 16, 4, 1};
constexpr size_t kParamsPerJob = 8;

std::string BuildInsertSql(size_t rows) {
  std::string sql =
      "INSERT INTO jobs (run, kind, payload, objects, bytes, max_attempts, state, attempts,"
      " last_error, lease_owner, lease_expires, not_before, created, updated, region) VALUES ";
  for (size_t i = 0; i < rows; ++i) {
    const size_t p = 2 + i * kParamsPerJob;  // $1 is the time
    if (i > 0) sql += ", ";
    sql += "($" + std::to_string(p) + ", $" + std::to_string(p + 1) + ", $" +
           std::to_string(p + 2) + ", $" + std::to_string(p + 3) + ", $" + std::to_string(p + 4) +
           ", $" + std::to_string(p + 5) + ", 'queued', 0, '', '', 0, $" + std::to_string(p + 6) +
           ", $1, $1, $" + std::to_string(p + 7) + ")";
  }
  return sql + " RETURNING id";
}

const std::string& InsertSql(size_t batch_index) {
  static const std::array<std::string, kInsertBatches.size()> sqls = [] {
    std::array<std::string, kInsertBatches.size()> out;
    for (size_t i = 0; i < kInsertBatches.size(); ++i) out[i] = BuildInsertSql(kInsertBatches[i]);
    return out;
  }();
  return sqls[batch_index];
}

// $1 error for jobs that die, $2 owner, $3 lease expiry, $4 now, $5 limit, then $6 the run
// (when filtering by run), the kinds (one parameter each) and the region (when not ""). The rows are picked by
// walking an index in id order and stopping after $5 matches: jobs_runnable, or with a run its
// (run, id) twin, whose predicate adds "run > 0" so that claims without a run never consider
// it. Filters are left out rather than written "($6 = 0 OR run = $6)" so that the planner
// sees which index fits; where the dialect can name the index, it does.
std::string ClaimSql(const Dialect& dialect, bool by_run, size_t kinds, bool by_region) {
  std::string filters;
  int next = 6;
  if (by_run) filters += " AND run > 0 AND run = $" + std::to_string(next++);
  if (kinds > 0) {
    filters += " AND kind IN (";
    for (size_t i = 0; i < kinds; ++i) {
      filters += (i == 0 ? "$" : ", $") + std::to_string(next++);
    }
    filters += ")";
  }
  filters += by_region ? " AND region IN ('', $" + std::to_string(next++) + ")"
                       : " AND region = ''";
  std::string index;
  if (!dialect.use_index.empty()) {
    index = std::string(dialect.use_index) + (by_run ? "jobs_runnable_by_run" : "jobs_runnable");
  }
  return "UPDATE jobs SET"
         " state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'leased' END,"
         " attempts = CASE WHEN attempts >= max_attempts THEN attempts ELSE attempts + 1 END,"
         " last_error = CASE WHEN attempts >= max_attempts THEN $1 ELSE last_error END,"
         " lease_owner = CASE WHEN attempts >= max_attempts THEN '' ELSE $2 END,"
         " lease_expires = CASE WHEN attempts >= max_attempts THEN 0 ELSE $3 END,"
         " updated = $4"
         " WHERE id IN (SELECT id FROM jobs" +
         index + " WHERE " + RunnableIndexPredicate() + filters +
         " AND ((state = 'queued' AND not_before <= $4)"
         " OR (state = 'leased' AND lease_expires <= $4))"
         " ORDER BY id LIMIT $5" +
         std::string(dialect.lock_picked_rows) + ") RETURNING " + kJobColumns;
}

}  // namespace

Status SqlJobStore::InsertJobs(SqlTx& tx, const std::vector<JobSpec>& specs, int64_t now,
                               std::vector<JobId>& ids) {
  std::set<RunId> runs;
  for (const JobSpec& spec : specs) runs.insert(spec.run);
  // A run that has ended takes no job: an abandoned run's work was removed for good, and a job
  // slipped in after would be claimed and run under rules nobody serves any more (two `ferry
  // serve` on one store, the first to reload ending the run the other still records into).
  // Where the database locks rows (PostgreSQL), the run's row is read FOR SHARE: an AbandonRun
  // that already ended the run finishes before this reads it, and one that has not yet waits
  // for this transaction before it does, then removes its jobs (AbandonRunIn).
  const std::string read_state =
      std::string("SELECT state FROM runs WHERE id = $1") +
      (session_->dialect().lock_picked_rows.empty() ? "" : " FOR SHARE");
  for (RunId run : runs) {
    FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.Exec(read_state, {run}));
    if (rows.rows.empty()) {
      return Status::NotFound("cannot enqueue jobs of run " + std::to_string(run) +
                              ": run not found");
    }
    FERRY_ASSIGN_OR_RETURN(RunState state, ParseRunState(CellText(rows.rows[0][0])));
    if (state != RunState::kRunning) {
      return Status::FailedPrecondition("cannot enqueue jobs of run " + std::to_string(run) +
                                        ": the run has ended (" +
                                        std::string(RunStateName(state)) + ")");
    }
  }
  // In spec order: runs of plain jobs in batched INSERTs, each coalesced one on its own.
  for (size_t begin = 0; begin < specs.size();) {
    if (!specs[begin].coalesce_key.empty()) {
      FERRY_ASSIGN_OR_RETURN(JobId id, InsertCoalesced(tx, specs[begin], now));
      ids.push_back(id);
      ++begin;
      continue;
    }
    size_t end = begin;
    while (end < specs.size() && specs[end].coalesce_key.empty()) ++end;
    FERRY_RETURN_IF_ERROR(InsertPlain(tx, specs, begin, end, now, ids));
    begin = end;
  }
  return Status::Ok();
}

Status SqlJobStore::InsertPlain(SqlTx& tx, const std::vector<JobSpec>& specs, size_t begin,
                                size_t end, int64_t now, std::vector<JobId>& ids) {
  std::vector<SqlValue> params;
  size_t next = begin;
  for (size_t b = 0; b < kInsertBatches.size(); ++b) {
    const size_t batch = kInsertBatches[b];
    while (end - next >= batch) {
      params.clear();
      params.push_back(now);
      for (size_t i = next; i < next + batch; ++i) {
        const JobSpec& s = specs[i];
        params.push_back(s.run);
        params.push_back(std::string_view(s.kind));
        params.push_back(std::string_view(s.payload));
        params.push_back(static_cast<int64_t>(s.objects));
        params.push_back(static_cast<int64_t>(s.bytes));
        params.push_back(int64_t{s.max_attempts});
        params.push_back(s.not_before == TimePoint{} ? now : ToMs(s.not_before));
        params.push_back(std::string_view(s.region));
      }
      FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.ExecSpan(InsertSql(b), params));
      if (rows.rows.size() != batch) return Status::Internal("INSERT INTO jobs lost rows");
      // Ids grow in VALUES order within one statement; RETURNING order is not promised.
      std::vector<JobId> batch_ids;
      for (const SqlRow& row : rows.rows) batch_ids.push_back(CellInt(row[0]));
      std::sort(batch_ids.begin(), batch_ids.end());
      ids.insert(ids.end(), batch_ids.begin(), batch_ids.end());
      next += batch;
    }
  }
  return Status::Ok();
}

// A queued job of the run with the same coalesce key covers `spec`: its id; else a new job.
// Two stores inserting one key at once (PostgreSQL, read committed) may both insert: harmless,
// each job reads what it acts on when it runs.
Result<JobId> SqlJobStore::InsertCoalesced(SqlTx& tx, const JobSpec& spec, int64_t now) {
  FERRY_ASSIGN_OR_RETURN(
      SqlRows found,
      tx.Exec("SELECT id FROM jobs WHERE run = $1 AND coalesce_key = $2 AND coalesce_key <> ''"
              " AND state = 'queued' ORDER BY id LIMIT 1",
              {spec.run, spec.coalesce_key}));
  if (!found.rows.empty()) return CellInt(found.rows[0][0]);
  FERRY_ASSIGN_OR_RETURN(
      SqlRows rows,
      tx.Exec("INSERT INTO jobs (run, kind, payload, objects, bytes, max_attempts, state,"
              " attempts, last_error, lease_owner, lease_expires, not_before, created, updated,"
              " region, coalesce_key) VALUES ($1, $2, $3, $4, $5, $6, 'queued', 0, '', '', 0, $7,"
              " $8, $8, $9, $10) RETURNING id",
              {spec.run, spec.kind, spec.payload, static_cast<int64_t>(spec.objects),
               static_cast<int64_t>(spec.bytes), int64_t{spec.max_attempts},
               spec.not_before == TimePoint{} ? now : ToMs(spec.not_before), now, spec.region,
               spec.coalesce_key}));
  if (rows.rows.size() != 1) return Status::Internal("INSERT INTO jobs lost its row");
  return CellInt(rows.rows[0][0]);
}

Result<std::vector<JobId>> SqlJobStore::Enqueue(const std::vector<JobSpec>& specs) {
  FERRY_RETURN_IF_ERROR(ValidateSpecs(specs));
  std::vector<JobId> ids;
  // On disk before it returns (job_store.h): an intake acknowledges events on the strength of it.
  FERRY_RETURN_IF_ERROR(session_->TransactDurable([&](SqlTx& tx) -> Status {
    ids.clear();
    return InsertJobs(tx, specs, NowMs(), ids);
  }));
  return ids;
}

Result<std::vector<ClaimedJob>> SqlJobStore::Claim(std::string_view owner, std::chrono::seconds ttl,
                                                   int max_jobs, RunId run,
                                                   const ClaimFilter& filter) {
  if (owner.empty()) return Status::InvalidArgument("Claim: empty owner");
  if (ttl.count() <= 0) return Status::InvalidArgument("Claim: ttl must be positive");
  if (max_jobs < 1) return Status::InvalidArgument("Claim: max_jobs must be at least 1");
  const std::string sql =
      ClaimSql(session_->dialect(), run != 0, filter.kinds.size(), !filter.region.empty());
  std::vector<ClaimedJob> claimed;
  FERRY_RETURN_IF_ERROR(session_->Transact(TxMode::kWrite, [&](SqlTx& tx) -> Status {
    claimed.clear();
    const int64_t now = NowMs();
    const int64_t expires = now + std::chrono::milliseconds(ttl).count();
    // Jobs that die on the way (claimed once too often) do not fill the batch: pick again.
    for (;;) {
      const int64_t want = max_jobs - static_cast<int64_t>(claimed.size());
      std::vector<SqlValue> params = {kDiedTooOften, owner, expires, now, want};
      if (run != 0) params.push_back(run);
      for (const std::string& kind : filter.kinds) params.push_back(std::string_view(kind));
      if (!filter.region.empty()) params.push_back(std::string_view(filter.region));
      FERRY_ASSIGN_OR_RETURN(SqlRows rows, tx.ExecSpan(sql, params));
      bool died = false;
      for (const SqlRow& row : rows.rows) {
        FERRY_ASSIGN_OR_RETURN(Job job, DecodeJob(row));
        if (job.state != JobState::kLeased) {
          died = true;
          continue;
        }
        Lease lease{job.id, job.lease_owner, job.attempts};
        claimed.push_back({std::move(job), std::move(lease)});
      }
      if (!died || static_cast<int64_t>(claimed.size()) >= max_jobs) break;
    }
    std::sort(claimed.begin(), claimed.end(),
              [](const ClaimedJob& a, const ClaimedJob& b) { return a.job.id < b.job.id; });
    return Status::Ok();
  }));
  return claimed;
}

}  // namespace ferry::jobs::internal
