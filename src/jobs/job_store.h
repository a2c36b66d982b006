// JobStore: the durable state of runs and their jobs. ferry cp/sync with a state store, and
// `ferry worker` processes on any number of machines, coordinate only through it.
//
// A *run* is one cp/sync invocation (source, destination, options). Its work is cut into
// *jobs*: scan a key range, transfer a batch of small objects or one large object, delete a
// batch of keys. A worker *leases* a job for a visibility timeout and renews the lease while it
// works; a job whose lease expired (its worker died) can be claimed again. A failed attempt is
// retried after a backoff; after `max_attempts` the job is *dead* (the dead-letter state) with its
// last error, until `Redrive` queues it again. Large-object jobs record *checkpoints* (upload id
// and finished parts) so that a new attempt sends only what is missing.
//
// Implementations: SQLite (embedded default, WAL; jobs/sqlite/) and PostgreSQL (several nodes,
// FOR UPDATE SKIP LOCKED; jobs/postgres/). Both pass tests/conformance/job_store_conformance*.
// Every method is one transaction; batch methods exist so that the control-plane cost per
// object stays far below the data cost (goal: <= 0.1 transactions per small object).
//
// Errors: kUnavailable when the store cannot be reached (callers retry: a restarted database
// must not fail a run), kNotFound for unknown ids, kFailedPrecondition when a lease was lost
// (another worker took the job over: the caller must stop working on it), kInvalidArgument for
// a malformed URL.
//
// Thread-safety: all methods are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::state {
class SqlSession;
class SqlTx;
}

namespace ferry::jobs {

using TimePoint = std::chrono::system_clock::time_point;
using RunId = int64_t;
using JobId = int64_t;

// A job's kind is its name, stored as text; what a kind does, and the phase of a run it belongs
// to, is its handler's business (jobs/kinds/registry.h). The store keeps any name. jobs' own
// kinds (the others are named beside their capability: transport/kinds/kinds.h "pack" and
// "unpack", replicate/kinds/kinds.h "replicate-scan" and "replicate-keys"):
inline constexpr char kScanKind[] = "scan";          // list a key range of both sides, plan it
inline constexpr char kTransferKind[] = "transfer";  // copy a batch of objects
inline constexpr char kDeleteKind[] = "delete";      // delete destination-only keys
// Parked beside the deletes of a run with `--max-delete P%`: its `objects` are the destination
// objects in scope of one scan chunk (the percentage's base, plan/delete_limit.h); it does
// nothing when run.
inline constexpr char kDeleteScopeKind[] = "delete-scope";
// Parked in the delete phase of a replication pass with `--max-delete` (its handler is
// replicate's, replicate/kinds/kinds.h): keys whose replicated delete markers would delete them
// at a destination that keeps no versions; its `objects` are those deletes, which the guard
// counts as it counts a sync's (jobs/delete_guard.h).
inline constexpr char kReplicateDeletesKind[] = "replicate-deletes";
// Parked in the delete phase of a durable `ferry move`: source objects the run proved at the
// destination, to delete from the source once every copy is done (jobs/move_sources.h); its
// `objects` are those deletes, which the --max-delete guard counts (jobs/delete_guard.h).
inline constexpr char kMoveSourcesKind[] = "move-sources";
// A chunk of a --files-from run's sorted list: its keys looked up on both sides and planned as
// a scan's chunk is (the run's first jobs, made from the list when it is created).
inline constexpr char kListScanKind[] = "list-scan";

enum class JobState { kQueued, kLeased, kDone, kDead };
// kRunning: in progress (Run::phase says which phase has been reached); kDone and kFailed
// have ended. Stored as "running", "done", "failed" (schema 4 rewrote the older per-phase
// names "scanning"/"transferring" to phase 0 and "deleting" to phase 1).
enum class RunState { kRunning, kDone, kFailed };

std::string_view JobStateName(JobState state);
std::string_view RunStateName(RunState state);

struct RunSpec {
  std::string source;       // location text, as given
  std::string destination;  // location text, as given
  std::string options;      // JSON: everything a worker needs to redo the run's work
  // A continuous run is never done: when its work drains, Worker::AdvanceRun starts it over
  // with a new scan of the whole key space after `rescan_interval` (replication).
  bool continuous = false;
  std::chrono::milliseconds rescan_interval{0};
};

struct Run {
  RunId id = 0;
  RunSpec spec;
  RunState state = RunState::kRunning;
  // The highest phase whose parked jobs were made runnable (0: the first phase). AdvanceRun
  // moves it; a continuous run goes back to 0 when it starts over.
  int phase = 0;
  TimePoint created;
  TimePoint updated;
  // An abandoned run (AbandonRun): the latest lease its jobs held when they were removed; no
  // worker writes for the run after it. The epoch otherwise.
  TimePoint leases_until;
};

struct JobSpec {
  RunId run = 0;
  TimePoint not_before{};  // epoch = runnable at once; kParked = waits for Unpark
  std::string kind = kTransferKind;  // a kind name (see kScanKind)
  std::string payload;  // JSON, kind-specific (see jobs/payload.h)
  uint64_t objects = 0;  // objects this job covers (for progress)
  uint64_t bytes = 0;    // bytes this job covers (for progress)
  int max_attempts = 5;
  // "" = any worker may run it; otherwise only workers of this region (WorkerOptions::region).
  std::string region;
  // "" = none. Otherwise a queued job of the same run with the same coalesce key covers this
  // one: Enqueue returns that job's id and adds nothing (an event for a key whose job has not
  // started yet). Not read back into Job::spec.
  std::string coalesce_key;
};

// Which jobs a Claim may take, besides the run.
struct ClaimFilter {
  // Kind names; empty = every kind.
  std::vector<std::string> kinds;
  // "": only jobs without a region. A region: jobs of that region and jobs without a region.
  std::string region;
};

struct Job {
  JobId id = 0;
  JobSpec spec;
  JobState state = JobState::kQueued;
  int attempts = 0;  // attempts started so far (a claim starts one)
  std::string last_error;
  std::string lease_owner;  // "" unless leased
  TimePoint lease_expires;
  TimePoint not_before;  // a retried job waits until then
  TimePoint created;
  TimePoint updated;
};

struct Lease {
  JobId job = 0;
  std::string owner;
  int attempt = 0;  // == Job::attempts at claim time; fences a stale lease holder
};

struct ClaimedJob {
  Job job;
  Lease lease;
};

// How a leased attempt ended.
// A step of the transaction that creates a run (JobStore::CreateRun).
using NewRunStep = std::function<Status(state::SqlTx& tx, RunId run)>;

// Objects and bytes a job's attempts did (Outcome::tally).
struct Tally {
  uint64_t objects = 0;
  uint64_t bytes = 0;
};

struct Outcome {
  // kWait: the attempt could not begin its work because another job holds what it needs (a key
  // being written): queued again after retry_after, and the attempt is not counted (as
  // Release), so that waiting never uses up max_attempts, which stays for real failures.
  enum class Kind { kDone, kRetry, kFail, kWait } kind = Kind::kDone;
  std::string error;                          // for kRetry / kFail / kWait
  std::chrono::milliseconds retry_after{0};   // for kRetry / kWait: time before the next claim
  // For kRetry, kFail and kWait: when set, replaces the job's payload (e.g. only the objects that
  // failed, so that a retry or a redrive does not copy the others again).
  std::optional<std::string> payload;
  // What this attempt did for good, added to the job's tally whatever the outcome (KindCounts::
  // tally_*): the work of a kind whose objects are known only as it runs (a cache warm lists,
  // then copies what is missing), which the job's objects/bytes, set when it was enqueued,
  // cannot say. An attempt whose Finish never commits (killed, lease lost) adds nothing.
  Tally tally;
};

// Jobs parked until a phase of their run begins (delete jobs wait for every transfer) are
// enqueued with not_before = kParked; Unpark makes them runnable.
inline constexpr TimePoint kParked = TimePoint(std::chrono::hours(24 * 365 * 200));

// One finished part of a large object's upload, checkpointed as it finishes.
struct PartCheckpoint {
  int part_number = 0;
  std::string etag;
  uint32_t crc32c = 0;
  uint64_t size = 0;
};

// Which of a job's uploads a checkpoint is about: a transfer job has one (its object, on its
// run's destination), a replicate-keys job one per version it is writing in parts, by the
// destination it writes to and the key.
struct UploadRef {
  std::string destination;  // location text; "" = the run's destination
  std::string key;          // the object key
};

struct UploadCheckpoint {
  std::string key;
  std::string upload_id;
  uint64_t part_size = 0;
  // Which version of the source the parts were read from (transfer::SourcePin, encoded):
  // a resume whose source is no longer this one starts over instead of mixing two versions.
  std::string source;
  std::vector<PartCheckpoint> parts;  // ascending part number
  // An empty upload_id records that an upload is about to be created (SaveUpload); LoadUpload
  // then says since when (the attempt died before recording the upload id, or is creating it).
  TimePoint creating_since{};
  std::string destination{};  // UploadRef::destination: "" = the run's destination

  UploadRef ref() const { return {destination, key}; }
};

// A multipart upload that a transfer job started on its run's destination (SaveUpload).
struct StartedUpload {
  std::string upload_id;
  std::string destination;  // the run's destination, location text
  std::string key;          // object key
  JobId job = 0;
  RunId run = 0;
  TimePoint started;
  bool live = false;  // see JobStore::ListStartedUploads
};

// Totals of one kind of a run's jobs.
struct KindCounts {
  uint64_t jobs[4] = {0, 0, 0, 0};  // indexed by JobState
  uint64_t objects_done = 0;
  uint64_t bytes_done = 0;
  uint64_t objects_total = 0;
  uint64_t bytes_total = 0;
  Tally tally;  // summed over the kind's jobs in every state (Outcome::tally)

  uint64_t of(JobState s) const { return jobs[static_cast<size_t>(s)]; }
  uint64_t active() const { return of(JobState::kQueued) + of(JobState::kLeased); }
};

// Totals per run and state, for progress and `ferry jobs`.
struct RunCounts {
  uint64_t jobs[4] = {0, 0, 0, 0};         // indexed by JobState: the sum over kinds
  std::map<std::string, KindCounts> by_kind;  // kinds the run has jobs of
  // Over every kind (kinds::ProgressOf counts only the kinds whose handler says so).
  uint64_t objects_done = 0;
  uint64_t bytes_done = 0;
  uint64_t objects_total = 0;
  uint64_t bytes_total = 0;
  RunState state = RunState::kRunning;  // the run's state, phase and mode, read with the counts
  int phase = 0;
  bool continuous = false;
  // The earliest not_before of the run's queued jobs that are not parked (epoch: none): when a
  // continuous run that waits for its next scan wakes up.
  TimePoint next_due{};

  // The counts of `kind` (zeros when the run has none).
  KindCounts of(std::string_view kind) const {
    auto it = by_kind.find(std::string(kind));
    return it == by_kind.end() ? KindCounts{} : it->second;
  }
};

// What waits for a worker, per run and kind: the fleet's backlog (`ferry_jobs_waiting` and its
// neighbours, docs/design/operate.md), what an autoscaler scales workers on.
struct BacklogRow {
  RunId run = 0;
  std::string kind;
  // Jobs a worker could claim now: queued and due (not parked, not_before <= now), or leased
  // with an expired lease (their worker is gone).
  uint64_t waiting = 0;
  uint64_t waiting_bytes = 0;  // the bytes those jobs move (JobSpec::bytes)
  TimePoint oldest_due{};      // the earliest time one of them became claimable (epoch: none)
  uint64_t running = 0;        // leased, lease not expired
  uint64_t later = 0;          // queued, due later (a retry's backoff, a continuous run's next round)
};

// One run as the store-wide alarms see it (jobs/run_metrics.h, `ferry_jobs_dead` and
// `ferry_run_*`): a run in progress, or one that ended recently.
struct RunHealth {
  Run run;
  // Over every kind of its jobs (done: of done jobs; total: of every job it has now).
  uint64_t objects_done = 0;
  uint64_t objects_total = 0;
  // Jobs at work or due to be: leased, or queued and not parked and either due now or waiting
  // out a retry (attempts > 0). A continuous run's next round (queued for later, never
  // attempted) is not work: such a run is idle, not stalled.
  uint64_t working = 0;
  // When the run last moved: the latest of its done jobs' last update (a job finished) and of
  // its jobs' creation (a scan enqueued what it found); the run's creation when it has no job.
  TimePoint last_progress;
  std::map<std::string, uint64_t> dead;  // dead jobs by kind; kinds without one left out
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // --- Runs ---
  // Creates a run (kRunning) and enqueues `first` (each JobSpec's `run` is set to the new id)
  // in one transaction: a run is never seen without its first jobs. (Made apart, a process
  // killed between the two left a run with no job, which the next command resumed and found
  // done at once: a backup or sync that listed nothing and exited 0.)
  // `with_run`, when given, is called in that transaction with the new run's id once its first
  // jobs are in: rows that must exist before any worker can see the run (its notification
  // targets, app/notify_run.h: a worker that ends the run at once still finds them). Its error
  // rolls the whole creation back.
  virtual Result<RunId> CreateRun(const RunSpec& spec, std::vector<JobSpec> first,
                                  const NewRunStep& with_run) = 0;
  Result<RunId> CreateRun(const RunSpec& spec, std::vector<JobSpec> first) {
    return CreateRun(spec, std::move(first), nullptr);
  }
  // A run whose jobs come later (tests; a run that enqueues through Enqueue itself).
  Result<RunId> CreateRun(const RunSpec& spec) { return CreateRun(spec, {}, nullptr); }
  // The newest run with this exact source and destination that is still in progress
  // (kRunning), if any: what a rerun of the same command resumes.
  // kDone and kFailed runs have ended: the next run starts afresh (a failed run goes on only
  // after a Redrive gave it work again).
  virtual Result<std::optional<Run>> FindUnfinishedRun(std::string_view source,
                                                       std::string_view destination) = 0;
  virtual Result<Run> GetRun(RunId run) = 0;
  virtual Result<std::vector<Run>> ListRuns(int limit) = 0;
  virtual Status SetRunState(RunId run, RunState state) = 0;
  // Records that `run` reached `phase` (Run::phase). kNotFound for an unknown run.
  virtual Status SetRunPhase(RunId run, int phase) = 0;
  // Starts a continuous run's next round once its round is over: when the run is kRunning and
  // has no queued or leased job of a kind other than `ongoing_kinds` (kinds whose jobs come at
  // any time, such as an event's: JobHandler::outside_rounds), removes its done jobs (with
  // their checkpoints), sets its phase to 0 and enqueues `first`, all in one transaction;
  // returns whether it did. Jobs of `ongoing_kinds` that are not done stay as they are. Dead
  // jobs stay too (for the record and a Redrive) and hold nothing: the next round does their
  // work again. Two workers that call it at once start the run over once. kNotFound for an
  // unknown run.
  virtual Result<bool> Restart(RunId run, const JobSpec& first,
                               const std::vector<std::string>& ongoing_kinds) = 0;
  // Ends a run for good (`--restart`): it becomes kFailed and its unfinished jobs (queued,
  // parked, leased, dead) are removed with their checkpoints, so that none of its work, its
  // parked deletes above all, ever runs, and no Redrive can take it back. Done jobs stay for
  // the record. Returns how many jobs were removed. kNotFound for an unknown run.
  // `*leases_until` (when given): the latest lease expiry among the leased jobs it removed, as
  // they were when removed (a renewal that raced the removal counts); the epoch when none. A
  // worker holding one of them may go on with it until then before it learns that the job is
  // gone, so a caller that must not overlap with that work (`ferry replicate`) waits until
  // then. The run records it too (Run::leases_until), for a later caller.
  virtual Result<uint64_t> AbandonRun(RunId run, TimePoint* leases_until = nullptr) = 0;
  virtual Result<RunCounts> CountJobs(RunId run) = 0;
  // The backlog of every run in progress (kRunning), per run and kind, as of `now`; kinds
  // without a queued or leased job are left out. One grouped query over unfinished jobs.
  virtual Result<std::vector<BacklogRow>> Backlog(TimePoint now) = 0;
  // Every run in progress (kRunning) and every run that ended (kDone, kFailed) at or after
  // `ended_since` (its last update), newest first, at most `limit` runs, with its jobs'
  // totals as of `now` (RunHealth). One transaction: a grouped pass over the jobs of those
  // runs. kInvalidArgument for limit < 1.
  virtual Result<std::vector<RunHealth>> RunsHealth(TimePoint now, TimePoint ended_since,
                                                    int limit) = 0;

  // --- Jobs ---
  // Inserts all specs in one transaction; returns their ids in order. Durable once it returned:
  // the commit is on disk (SqlSession::TransactDurable), so that a caller may acknowledge what
  // the jobs stand for (`ferry serve`'s intakes answer 200 / delete the SQS message) and a
  // crash of the host loses none of them. Other methods' commits may be lost to a power loss
  // (SQLite: the last ones; what they record is redone). A run that has ended (kDone, or
  // kFailed: abandoned) takes no job: kFailedPrecondition, here and for the `more` of Finish
  // and HandOff (nothing of the call is done); kNotFound for an unknown run.
  virtual Result<std::vector<JobId>> Enqueue(const std::vector<JobSpec>& specs) = 0;
  // Atomically leases up to `max_jobs` runnable jobs (queued with not_before <= now, or leased
  // with an expired lease), oldest first, optionally only of `run` (0 = any run) and of the
  // kinds and region `filter` allows (the filter is part of the SQL: nothing else is leased).
  // Each claim increments the job's attempts. A job claimed past max_attempts (its worker kept
  // dying) goes to kDead instead of being returned.
  virtual Result<std::vector<ClaimedJob>> Claim(std::string_view owner, std::chrono::seconds ttl,
                                                int max_jobs, RunId run = 0,
                                                const ClaimFilter& filter = {}) = 0;
  // Ends every lease `owner` holds now (a process known to be dead, e.g. on this host): its
  // jobs become claimable at once instead of after the visibility timeout. Returns how many.
  virtual Result<uint64_t> ExpireLeases(std::string_view owner) = 0;
  // Extends the lease to now + ttl. kFailedPrecondition if the lease is no longer held.
  virtual Status Renew(const Lease& lease, std::chrono::seconds ttl) = 0;
  // Ends an attempt. kDone: finished. kRetry: queued again after retry_after, unless attempts
  // reached max_attempts, then kDead with the error. kFail: kDead at once (e.g. access denied).
  // kWait: queued again after retry_after with the attempt given back (attempts - 1), whatever
  // max_attempts; the error is kept as its last_error (why it waits).
  // kFailedPrecondition if the lease is no longer held (the outcome is then ignored).
  // `more` (may be empty) is enqueued in the same transaction (a scan's transfer jobs).
  virtual Status Finish(const Lease& lease, const Outcome& outcome,
                        const std::vector<JobSpec>& more = {}) = 0;
  // Hands part of a job's work on while the job goes on: replaces the payload of the leased
  // job with `kept` (what this attempt still does, and what a later attempt redoes) and
  // enqueues `more` (the rest), in one transaction. The lease is unchanged. A scan that splits
  // its key range uses it, so that the other half is listed at once and never twice.
  // kFailedPrecondition if the lease is no longer held (then nothing changes).
  virtual Status HandOff(const Lease& lease, std::string_view kept,
                         const std::vector<JobSpec>& more) = 0;
  // Gives a leased job back unworked (a worker that cannot open the job's run: unknown remote,
  // missing credentials): queued and runnable at once, and the attempt its claim started is not
  // counted (attempts goes back by one, so a job given back again and again never dies of it).
  // kFailedPrecondition if the lease is no longer held (then nothing changes).
  virtual Status Release(const Lease& lease) = 0;
  virtual Result<Job> GetJob(JobId job) = 0;
  // Jobs of a run (0 = all runs) in a state (nullopt = all), oldest first, at most `limit`.
  virtual Result<std::vector<Job>> ListJobs(RunId run, std::optional<JobState> state,
                                            int limit) = 0;
  // Jobs of run `run` (above 0) of kind `kind`, whatever their state, with ids above `after`,
  // oldest first, at most `limit`: one page of a walk over one kind's records (a report's
  // parts, a verify's results) that never loads the run's other jobs (ForEachJobOfKind).
  virtual Result<std::vector<Job>> ListJobsOfKind(RunId run, std::string_view kind, JobId after,
                                                  int limit) = 0;
  // The jobs of a run (0 = all runs) that carry an error and are not done (dead ones, and those
  // waiting for or in a retry), the most recently updated first, at most `limit`: what the
  // dashboard lists as the last errors.
  virtual Result<std::vector<Job>> ListErrors(RunId run, int limit) = 0;
  // Makes the queued jobs of `run` of `kind` runnable now (not_before = now). Returns how many.
  // Only parked jobs (not_before = kParked) change: a job waiting out a retry backoff keeps it,
  // so calling Unpark again (e.g. after a crash) changes nothing.
  virtual Result<uint64_t> Unpark(RunId run, std::string_view kind) = 0;
  // Makes the queued jobs of `run` that wait for a later time and were never attempted (a
  // continuous run's next round, its scan due rescan_interval after the last one) runnable now:
  // a `ferry serve` that starts scans at once for what happened while it was down. Parked jobs
  // and retries waiting out their backoff keep their time. Returns how many.
  virtual Result<uint64_t> Hasten(RunId run) = 0;
  // Makes queued job `job`, waiting for a later time (a kWait or a retry's backoff), runnable
  // now: the part job that checkpoints an object's last part wakes the object's owner, which
  // would otherwise look again only after its poll (part_jobs.h). Parked jobs and jobs in any
  // other state keep their time. Returns whether the job changed (an unknown job: false).
  virtual Result<bool> Wake(JobId job) = 0;
  // Dead jobs (of `run`, or all when 0) back to kQueued with attempts = 0. A kFailed run that
  // gets jobs back is in progress again (kRunning, its phase kept). `with` (may be empty) is
  // enqueued in the same transaction, once the runs are in progress again (a failed run's
  // summary job armed again: jobs/redrive.h). Returns how many jobs were queued again.
  virtual Result<uint64_t> Redrive(RunId run, const std::vector<JobSpec>& with = {}) = 0;
  // Deletes runs that have ended for good with all their jobs: kDone runs, and kFailed runs
  // with no job left that could still run or be redriven (abandoned ones). With `dead_too` it
  // first removes every dead job, and abandons (AbandonRun) each run it takes one from: a
  // dead job removed can never succeed, so its run must never run its deletes or be done.
  // Returns how many jobs were removed.
  virtual Result<uint64_t> Purge(bool dead_too) = 0;

  // --- Large-object checkpoints (per job, one per UploadRef) ---
  // Writes are fenced by the lease like Finish: kFailedPrecondition when `lease` is no longer
  // held (a worker that lost its job must not move the new holder's checkpoint), kNotFound for
  // an unknown job.
  // SaveUpload records a new upload of the job for `upload.ref()` (replacing any earlier one
  // of that ref and its parts; the job's other refs are untouched), and also records it among
  // the uploads ferry started (ListStartedUploads: on upload.destination, else the run's), in
  // one transaction. With an empty upload_id it records only that the job is about to create
  // one, now (see transfer/journal.h: how an upload never goes unrecorded).
  virtual Status SaveUpload(const Lease& lease, const UploadCheckpoint& upload) = 0;
  // kFailedPrecondition when the job has no upload saved for `upload`.
  virtual Status SavePart(const Lease& lease, const UploadRef& upload,
                          const PartCheckpoint& part) = 0;
  virtual Result<std::optional<UploadCheckpoint>> LoadUpload(JobId job,
                                                             const UploadRef& upload) = 0;
  // A part job's part (jobs/part_jobs.h: one object's parts spread over a run's workers):
  // adds `part` to the checkpoint of `owner`'s upload `upload` (the object's own job keeps the
  // upload; its part jobs add the parts they sent), fenced by `lease`, the part job's:
  // kFailedPrecondition when that lease is lost; kNotFound when `owner` has no saved upload
  // `upload_id` of `upload` any more (it completed, aborted or replaced it).
  virtual Status SaveSharedPart(const Lease& lease, JobId owner, const UploadRef& upload,
                                std::string_view upload_id, const PartCheckpoint& part) = 0;
  // The upload completed or was aborted: forgets the checkpoint of `upload` and marks the
  // started upload finished. No checkpoint is fine.
  virtual Status ClearUpload(const Lease& lease, const UploadRef& upload) = 0;

  // --- Uploads ferry started (for the clean-up of abandoned ones) ---
  // The unfinished uploads recorded by SaveUpload for runs whose destination is exactly
  // `destination` (location text), oldest first. `live` tells whether a run may still resume
  // it: its job is queued or leased, its run is not done, and the job's checkpoint still names
  // it. An upload that is not live is abandoned: nothing will ever complete it.
  virtual Result<std::vector<StartedUpload>> ListStartedUploads(std::string_view destination) = 0;
  // An abandoned upload was aborted (or is gone from the destination): marks it finished, and
  // forgets the checkpoint of its job if that still names it and the job is not leased (a
  // redriven job then starts a new upload). kNotFound for an unknown upload id.
  virtual Status ForgetUpload(std::string_view destination, std::string_view upload_id) = 0;

  // --- Keys written by one job at a time ---
  // A job that writes keys another job may write too (replication: an event's job and a scan's
  // keys job) locks each key first. A lock is held by the job's lease: free again once the
  // release below, or once that job no longer holds that lease (finished, retried, claimed
  // again after its lease expired; as for HoldLease, an expired lease nobody took still
  // holds). `scope` names what the keys belong to (a replication source's location text).
  // True when `lease` holds the lock now (taken, or held already), false when another job's
  // live lease holds it. kFailedPrecondition when `lease` is lost.
  virtual Result<bool> LockKey(const Lease& lease, std::string_view scope,
                               std::string_view key) = 0;
  // Releases a lock `lease` holds; no lock is fine.
  virtual Status UnlockKey(const Lease& lease, std::string_view scope, std::string_view key) = 0;

  // Number of transactions committed through this object (for the bench: transactions/object).
  virtual uint64_t transactions() const = 0;

  // The SQL session of the state database this store lives in, for the small stores that keep
  // their own component in the same database (transport's archive progress); nullptr when the
  // store has none. Valid as long as the store.
  virtual state::SqlSession* session() { return nullptr; }
};

// Calls `fn` with each job of run `run` of kind `kind`, oldest first, read `page` at a time
// (JobStore::ListJobsOfKind): memory stays one page whatever the run's size. Stops at `fn`'s
// first error and returns it, else the store's.
Status ForEachJobOfKind(JobStore& store, RunId run, std::string_view kind,
                        const std::function<Status(const Job&)>& fn, int page = 1000);

// Opens a store from a URL: "sqlite:///path/state.db", a plain path (SQLite), or
// "postgres://user:pass@host:port/db" / "postgresql://...". Creates or migrates the schema.
// kInvalidArgument for a malformed URL; kUnavailable when the database cannot be reached.
Result<std::unique_ptr<JobStore>> OpenJobStore(const std::string& url);

}  // namespace ferry::jobs
