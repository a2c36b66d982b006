// SqlJobStore: the JobStore contract (jobs/job_store.h) implemented once, in portable SQL, over
// a SqlSession. OpenSqliteJobStore and OpenPgJobStore build one around their driver's session,
// so both stores share every rule below and differ only in how SQL reaches the database.
//
// Rules the contract leaves open, fixed here (docs/design/jobs.md explains them):
//  * Time comes from the injected Clock, never from the database (no SQL now()), so FakeClock
//    drives lease expiry and retry backoff for every database. Stored as integer ms since the
//    Unix epoch.
//  * A method addressing one run or job by id (GetRun, SetRunState, CountJobs, GetJob, Renew,
//    Finish, HandOff, the checkpoint methods, and the run of each spec given to
//    Enqueue/Finish/HandOff) returns
//    kNotFound for an unknown id. Filters (Claim, ListJobs, Redrive by run) match nothing.
//  * A lease whose time ran out is still held until another claim takes the job; the fence is
//    (job, owner, attempt), checked by Renew, Finish, HandOff, Release and the checkpoint
//    writes (SaveUpload, SavePart, ClearUpload).
//  * kInvalidArgument, before any transaction, for max_attempts < 1, objects/bytes (or an
//    Outcome's tally) above INT64_MAX, max_jobs or limit < 1, ttl <= 0, negative retry_after or part numbers < 1.
//  * Each public method is exactly one transaction, read-only ones included; transactions()
//    counts the committed ones (a call that fails rolls back and is not counted).
//  * ListRuns is newest first; ListJobs and Claim oldest (lowest id) first; ListErrors newest
//    (last updated, then highest id) first.
//  * Purge removes runs in state kDone, and kFailed runs without queued, leased or dead jobs,
//    with all their jobs; with dead_too it first removes every kDead job and abandons their
//    runs (runs.cc: AbandonRunIn).
//  * SaveUpload also saves the parts given with it (usually none).
//  * Started uploads (table started_uploads) are keyed by (destination, upload id) and outlive
//    their jobs: a purged job's unfinished upload is exactly what the clean-up aborts.
//
// Thread-safety: all methods are thread-safe (as thread-safe as the session, which must be).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "jobs/job_store.h"
#include "state/sql_session.h"

namespace ferry::jobs::internal {

using state::CellInt;
using state::CellText;
using state::Dialect;
using state::SqlCell;
using state::SqlRow;
using state::SqlRows;
using state::SqlSession;
using state::SqlTx;
using state::SqlValue;
using state::TxMode;

class SqlJobStore : public JobStore {
 public:
  // Creates or migrates the schema through `session` (one transaction), then returns the store.
  // kFailedPrecondition when the database holds a newer schema than this ferry knows.
  static Result<std::unique_ptr<JobStore>> Open(std::unique_ptr<SqlSession> session, Clock& clock);

  using JobStore::CreateRun;
  Result<RunId> CreateRun(const RunSpec& spec, std::vector<JobSpec> first,
                          const NewRunStep& with_run) override;
  Result<std::optional<Run>> FindUnfinishedRun(std::string_view source,
                                               std::string_view destination) override;
  Result<Run> GetRun(RunId run) override;
  Result<std::vector<Run>> ListRuns(int limit) override;
  Status SetRunState(RunId run, RunState state) override;
  Status SetRunPhase(RunId run, int phase) override;
  Result<bool> Restart(RunId run, const JobSpec& first,
                       const std::vector<std::string>& ongoing_kinds) override;
  Result<uint64_t> AbandonRun(RunId run, TimePoint* leases_until = nullptr) override;
  Result<RunCounts> CountJobs(RunId run) override;
  Result<std::vector<BacklogRow>> Backlog(TimePoint now) override;
  Result<std::vector<RunHealth>> RunsHealth(TimePoint now, TimePoint ended_since,
                                            int limit) override;

  Result<std::vector<JobId>> Enqueue(const std::vector<JobSpec>& specs) override;
  Result<std::vector<ClaimedJob>> Claim(std::string_view owner, std::chrono::seconds ttl,
                                        int max_jobs, RunId run,
                                        const ClaimFilter& filter) override;
  Status Renew(const Lease& lease, std::chrono::seconds ttl) override;
  Result<uint64_t> ExpireLeases(std::string_view owner) override;
  Status Finish(const Lease& lease, const Outcome& outcome,
                const std::vector<JobSpec>& more) override;
  Status HandOff(const Lease& lease, std::string_view kept,
                 const std::vector<JobSpec>& more) override;
  Status Release(const Lease& lease) override;
  Result<Job> GetJob(JobId job) override;
  Result<std::vector<Job>> ListJobs(RunId run, std::optional<JobState> state, int limit) override;
  Result<std::vector<Job>> ListJobsOfKind(RunId run, std::string_view kind, JobId after,
                                          int limit) override;
  Result<std::vector<Job>> ListErrors(RunId run, int limit) override;
  Result<uint64_t> Unpark(RunId run, std::string_view kind) override;
  Result<uint64_t> Hasten(RunId run) override;
  Result<bool> Wake(JobId job) override;
  Result<uint64_t> Redrive(RunId run, const std::vector<JobSpec>& with) override;
  Result<uint64_t> Purge(bool dead_too) override;

  Status SaveUpload(const Lease& lease, const UploadCheckpoint& upload) override;
  Status SavePart(const Lease& lease, const UploadRef& upload,
                  const PartCheckpoint& part) override;
  Result<std::optional<UploadCheckpoint>> LoadUpload(JobId job,
                                                     const UploadRef& upload) override;
  Status SaveSharedPart(const Lease& lease, JobId owner, const UploadRef& upload,
                        std::string_view upload_id, const PartCheckpoint& part) override;
  Status ClearUpload(const Lease& lease, const UploadRef& upload) override;
  Result<std::vector<StartedUpload>> ListStartedUploads(std::string_view destination) override;
  Status ForgetUpload(std::string_view destination, std::string_view upload_id) override;

  Result<bool> LockKey(const Lease& lease, std::string_view scope, std::string_view key) override;
  Status UnlockKey(const Lease& lease, std::string_view scope, std::string_view key) override;

  uint64_t transactions() const override { return session_->transactions(); }
  SqlSession* session() override { return session_.get(); }

 private:
  SqlJobStore(std::unique_ptr<SqlSession> session, Clock& clock)
      : session_(std::move(session)), clock_(clock) {}

  // The current time in ms since the epoch, read from clock_.
  int64_t NowMs() const;
  // Creates the tables of component "jobs" or brings them to its newest version (schema.cc).
  Status Migrate();
  // Inserts `specs` inside `tx` (Enqueue, and Finish's `more`); appends the new ids in order.
  // kNotFound when a spec's run does not exist. REQUIRES: specs validated.
  Status InsertJobs(SqlTx& tx, const std::vector<JobSpec>& specs, int64_t now,
                    std::vector<JobId>& ids);
  // InsertJobs' pieces: specs [begin, end) without coalesce keys in batched INSERTs; one spec
  // with a coalesce key (the queued job that covers it, or a new one).
  Status InsertPlain(SqlTx& tx, const std::vector<JobSpec>& specs, size_t begin, size_t end,
                     int64_t now, std::vector<JobId>& ids);
  Result<JobId> InsertCoalesced(SqlTx& tx, const JobSpec& spec, int64_t now);
  // kNotFound "job N not found" unless the job exists; used to explain an update that matched
  // no row.
  static Status CheckJobExists(SqlTx& tx, JobId job);
  // Inside `tx`: OK when `lease` is held (the job row is then locked until the transaction
  // ends, so no claim can take the job over before it commits); else kFailedPrecondition
  // naming who holds the job now, or kNotFound. kInvalidArgument for a lease without owner.
  static Status HoldLease(SqlTx& tx, const Lease& lease, int64_t now);
  // Inside `tx`: AbandonRun's work (runs.cc); Purge uses it too. Returns the jobs removed.
  // `leases_until`: as AbandonRun's (may be null).
  static Result<uint64_t> AbandonRunIn(SqlTx& tx, RunId run, int64_t now,
                                       TimePoint* leases_until);

  std::unique_ptr<SqlSession> session_;
  Clock& clock_;
};

// Row decoding and shared SQL fragments (rows.cc).
extern const char* const kJobColumns;  // the column list Job rows are selected with
extern const char* const kRunColumns;  // the column list Run rows are selected with
Result<Job> DecodeJob(const SqlRow& row);
Result<Run> DecodeRun(const SqlRow& row);
Result<JobState> ParseJobState(std::string_view name);
Result<RunState> ParseRunState(std::string_view name);
TimePoint FromMs(int64_t ms);
int64_t ToMs(TimePoint t);
// The predicate of the partial index Claim walks: unfinished jobs that are not parked. Claim
// repeats it word for word, which is what lets SQLite's planner use the index.
std::string RunnableIndexPredicate();
// kInvalidArgument unless every spec can be stored.
Status ValidateSpecs(const std::vector<JobSpec>& specs);

}  // namespace ferry::jobs::internal
