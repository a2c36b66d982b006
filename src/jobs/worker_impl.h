// Worker::Impl: the state of one jobs::Worker (worker.h), implemented by operation in three
// files of src/jobs/:
//   worker.cc           the claim loop: runs moved to their next phase, jobs claimed while there
//                       is room, the end of Run (drain);
//   worker_dispatch.cc  a claimed job: its run opened, run on a thread of its own through its
//                       kind's handler, its outcome written; a scan's question whether to split;
//   worker_leases.cc    the leases: renewals, a lost lease, a job given back unworked, and the
//                       owners of this machine's dead processes.
// Internal to the Worker: nothing outside those files includes it.
//
// Locking: mu_ guards what is marked GUARDED_BY(mu_); cv_ is notified whenever a job ends or
// hands work on (wakeups_), and when the last job thread ends (threads_).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <thread>
#include <vector>

#include "jobs/kinds/registry.h"
#include "jobs/worker.h"
#include "jobs/worker_internal.h"

namespace ferry::jobs {

// One job this worker holds a lease on.
struct Worker::ActiveJob {
  ClaimedJob claimed;
  RunContext* ctx = nullptr;
  const JobHandler* handler = nullptr;
  // Requested when the lease is lost: the job's requests stop (CopyRequest::cancel, the scan's
  // listing, a delete batch) and it ends without Finish.
  std::stop_source cancel;
  std::atomic<bool> lost{false};
  size_t objects = 0;    // counted in objects_in_flight_
  bool lister = false;   // counted in listers_
  Status cannot_serve;   // set by JobControl::CannotServe (from the job's own thread)
};

class Worker::Impl {
 public:
  Impl(JobStore& store, BackendOpener opener, WorkerOptions options, transfer::Stats& stats);
  // Stops the renewals, waits for every job's thread to end its attempt, then closes the runs
  // (their engines drain and join).
  ~Impl();

  Status Run(std::stop_token stop, RunProgress* final);

 private:
  // --- The claim loop (worker.cc).
  // Moves the runs this worker serves to their next phase and lets go of those done or
  // blocked while it holds none of their jobs; `*final` gets only_run's progress. True when
  // Run should end: only_run is done or blocked (exit_when_done), or no job of the kinds this
  // worker serves is left in it (exit_when_kinds_drained).
  bool AdvanceRuns(RunProgress* final);
  // Claims a few jobs while this worker has room (objects in flight below twice its
  // concurrency, a free lister slot); none without room or when the store failed for now.
  // Their leases are renewed from now on (waiting_) until Dispatch takes them. Errors: the
  // store refused for good, or stayed unreachable for over 100 claims in a row
  // (`store_failures` counts them).
  Result<std::vector<ClaimedJob>> ClaimSome(int& store_failures);
  // Dispatches each claimed job, or gives it back unworked once this worker cannot go on.
  void DispatchClaimed(std::vector<ClaimedJob>& claimed, std::stop_token stop);
  // Why this worker cannot go on (fatal_); OK while it can.
  Status Fatal();
  // Stop requested or done: lets the jobs in hand finish (their engines stop on Cancel).
  Status Drain(std::stop_token stop);
  // Whether `run` has no queued or leased job of the kinds this worker serves.
  bool OwnKindsDrained(RunId run);

  // --- One job (worker_dispatch.cc).
  // The run's context; `*config_error` tells whether a failure says this worker cannot open
  // the run's locations at all (a location it cannot parse, an unknown remote, missing
  // credentials) rather than that something is down for now.
  Result<RunContext*> Context(RunId run, bool* config_error);
  // Opens the job's run and starts the job on a thread of its own (RunJob), or gives it back
  // (a run this worker cannot open, a kind it has no handler for) or retries it later (the run
  // could not be opened for now).
  void Dispatch(ClaimedJob job, std::stop_token stop);
  // A claim of a job whose earlier attempt still runs here (its lease ran out while this
  // worker could not renew it, and this worker claimed it again): that attempt has lost its
  // lease (its writes stop at their lease fence) and is cancelled; the new one waits in
  // deferred_ until it ended, so that one job never runs twice at once in one worker. True
  // when `job` was deferred so. Called with mu_ held.
  bool DeferWhileItsEarlierAttemptRunsLocked(ClaimedJob& job);
  // Ends `job`'s entry in active_ (a later attempt may hold the slot: then nothing) and hands
  // a deferred attempt of the same job to the claim loop. Called with mu_ held.
  void EndActiveLocked(const std::shared_ptr<ActiveJob>& job);
  // The job's thread: runs its kind's handler, then finishes it (or gives it back when the
  // handler said this worker cannot serve it). Ends with threads_ one lower.
  void RunJob(const std::shared_ptr<ActiveJob>& job, std::stop_token stop);
  void FinishJob(const std::shared_ptr<ActiveJob>& job, const Outcome& outcome,
                 const std::vector<JobSpec>& more = {});
  bool WantsSplit(const ActiveJob& job);
  void CountJob(const std::string& kind, Outcome::Kind outcome);

  // --- Leases (worker_leases.cc).
  // Renews the leases of the jobs in hand and of those claimed but not dispatched yet, every
  // third of the lease time, until `stop`.
  void RenewLoop(std::stop_token stop);
  // Gives a claimed job back unworked (JobStore::Release: the attempt does not count).
  void GiveBack(const ClaimedJob& job);
  // The lease of `job` is lost: cancels its work, once.
  void LoseLease(ActiveJob& job, const Status& why);

  // JobControl of one job: asks the store, hands work on under the job's lease.
  class Control : public JobControl {
   public:
    Control(Impl& impl, ActiveJob& job) : impl_(impl), job_(job) {}
    bool WantsSplit() override { return impl_.WantsSplit(job_); }
    Status HandOff(std::string_view kept, const std::vector<JobSpec>& more) override {
      Status s = impl_.store_.HandOff(job_.claimed.lease, kept, more);
      if (s.code() == ErrorCode::kFailedPrecondition || s.code() == ErrorCode::kNotFound) {
        impl_.LoseLease(job_, s);
      }
      FERRY_RETURN_IF_ERROR(s);
      std::lock_guard lock(impl_.mu_);
      ++impl_.wakeups_;  // the claim loop may have room for it
      impl_.cv_.notify_all();
      return Status::Ok();
    }
    void CannotServe(const Status& why) override {
      job_.cannot_serve = why.ok() ? Status::InvalidArgument("cannot serve the job") : why;
    }

   private:
    Impl& impl_;
    ActiveJob& job_;
  };

  static obs::Registry& MetricsOf(const WorkerOptions& o) {
    return o.metrics != nullptr ? *o.metrics : obs::DefaultRegistry();
  }
  JobStore& store_;
  BackendOpener opener_;
  const WorkerOptions options_;
  const KindRegistry& kinds_;
  Clock& clock_;
  ClaimFilter claim_filter_;
  transfer::Stats& stats_;
  // Jobs by kind (and outcome), for /metrics (WorkerOptions::metrics).
  obs::FamilyRef<obs::Counter> jobs_started_;
  obs::FamilyRef<obs::Counter> jobs_finished_;

  std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<RunId, std::unique_ptr<RunContext>> runs_;      // GUARDED_BY(mu_)
  std::map<JobId, std::shared_ptr<ActiveJob>> active_;     // GUARDED_BY(mu_)
  // GUARDED_BY(mu_): jobs claimed but not dispatched yet (dispatching a batch may wait for room
  // in the engine's queue): their leases are renewed too, or they expire while we hold them.
  std::map<JobId, Lease> waiting_;
  // GUARDED_BY(mu_): claimed again while an earlier attempt still runs here (their leases are
  // in waiting_); moved to undeferred_ when that attempt ends, dispatched by the claim loop.
  std::map<JobId, ClaimedJob> deferred_;
  std::vector<ClaimedJob> undeferred_;  // GUARDED_BY(mu_)
  size_t objects_in_flight_ = 0;                           // GUARDED_BY(mu_)
  uint64_t finished_ = 0;       // GUARDED_BY(mu_): jobs ended so far
  uint64_t finished_seen_ = 0;  // GUARDED_BY(mu_): as of the last look of the claim loop
  uint64_t wakeups_ = 0;        // GUARDED_BY(mu_): jobs ended or handed on (claim loop wakes)
  // GUARDED_BY(mu_): per run, until when WantsSplit answers "no" without asking the store.
  std::map<RunId, Clock::MonoTime> no_split_until_;
  int listers_ = 0;   // GUARDED_BY(mu_): jobs running that take a lister slot
  int threads_ = 0;   // GUARDED_BY(mu_): job threads running
  // GUARDED_BY(mu_): why this worker cannot go on (a run it cannot open): Run stops claiming,
  // lets the jobs in hand end and returns it.
  Status fatal_;
  std::jthread renewer_;
};

}  // namespace ferry::jobs
