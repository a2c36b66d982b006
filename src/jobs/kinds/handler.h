// JobHandler: what one kind of job does. A kind is a name stored with each job ("scan",
// "transfer", "delete", ...); its handler says which phase of a run it belongs to, whether its
// objects and bytes count toward a run's progress, how much room it takes in a worker, and runs
// one claimed job to an outcome. A handler lives beside its capability (jobs' own in
// jobs/kinds/, pack and unpack in transport/kinds/, replication's in replicate/kinds/) and is
// registered in one place, the composition root (app::Kinds(), src/app/kinds.cc); the worker
// dispatches through the registry and knows no kind by name. See docs/design/job-kinds.md.
//
// Thread-safety: a handler is shared by every job of its kind: Run is called concurrently (one
// call per job, each on its own thread) and must keep no per-job state in the handler.
#pragma once

#include <cstddef>
#include <functional>
#include <stop_token>
#include <string_view>
#include <vector>

#include "jobs/job_store.h"
#include "jobs/worker.h"
#include "transfer/stats.h"

namespace ferry::jobs {

struct RunContext;  // run_context.h: the run's options, backends and engine

// What a running job may ask of the worker that runs it (implemented by the worker).
class JobControl {
 public:
  virtual ~JobControl() = default;
  // Whether the job's run should spread its work over more jobs now: nothing of its phase waits
  // to be claimed, and someone has room to take more (a scan splits its range then).
  virtual bool WantsSplit() = 0;
  // Replaces the job's payload with `kept` and enqueues `more`, under the job's lease, in one
  // transaction (JobStore::HandOff). A lost lease cancels the job and is returned.
  virtual Status HandOff(std::string_view kept, const std::vector<JobSpec>& more) = 0;
  // This worker cannot serve the job: a location its run needs cannot be opened here (a remote
  // missing from this worker's config, missing credentials), which says nothing about the job.
  // Once Run returns, the job is given back uncounted (JobStore::Release: a worker that has the
  // location takes it) instead of finished, and the worker stops with `why` as its error, as
  // for a run it cannot open at all. The outcome Run returns is then ignored.
  virtual void CannotServe(const Status& why) = 0;
};

// Everything a handler gets for one claimed job. Valid for the duration of Run.
struct JobContext {
  JobStore& store;
  RunContext& run;
  const ClaimedJob& claimed;
  const WorkerOptions& options;
  transfer::Stats& stats;
  // Requested when the job's lease is lost: stop working, the outcome will not be written.
  std::stop_token cancel;
  // Requested when the worker stops (a job that is quick to redo may stop early too).
  std::stop_token worker_stop;
  JobControl& control;
  // Call when a store write made under the lease (a checkpoint) says the lease is lost: the
  // worker cancels the job. Safe to copy and to call after Run returned.
  std::function<void(const Status&)> lease_lost;
};

// How a job ended, and the jobs it found (enqueued with its Finish when it is done).
struct JobResult {
  Outcome outcome;
  std::vector<JobSpec> more;
  // Enqueued with the job's Finish whatever its outcome (`more` only when done): records of
  // what this attempt did for good, such as its part of the run's report (jobs/job_report.h).
  std::vector<JobSpec> records{};
};

class JobHandler {
 public:
  virtual ~JobHandler() = default;
  // The kind name, as stored with each job. Never rename one: stored jobs keep their name.
  virtual std::string_view name() const = 0;
  // The phase of a run this kind belongs to (0 = first). Jobs of phase N are enqueued parked
  // (not_before = kParked) and wait until every job of the phases below N is done; a dead job
  // of a lower phase keeps them parked (Worker::AdvanceRun).
  virtual int phase() const = 0;
  // Whether the objects and bytes of its jobs count toward a run's progress.
  virtual bool counts_progress() const = 0;
  // Whether its jobs come at any time in a continuous run (an event's job) rather than from the
  // run's rounds (a scan and what it hands on): a round ends, and the next one starts, without
  // waiting for them (Worker::AdvanceRun, JobStore::Restart). No by default.
  virtual bool outside_rounds() const { return false; }
  // Whether its jobs still run when a lower phase leaves dead jobs: the run is failed once they
  // have (a report's summary, written so that a failed run's report says so). Jobs of other
  // later phases stay parked. No by default.
  virtual bool runs_when_failed() const { return false; }
  // Kinds a worker that serves this one serves too, whatever `ferry worker --kinds` names: the
  // kinds its jobs hand work to and wait for, which no worker might take otherwise (a
  // transfer's part jobs, the counts parked beside deletes). None by default.
  virtual std::vector<std::string_view> companions() const { return {}; }
  // Whether a job of this kind takes a lister slot while it runs (--listers bounds how many
  // such jobs a worker holds at once). Others are bounded by their objects in flight.
  virtual bool uses_lister_slot() const = 0;
  // Objects in flight the job counts as while it runs (the worker claims while it has room:
  // fewer than twice its concurrency). 0 by default.
  virtual size_t ObjectsInFlight(const Job& job, const RunContext& run,
                                 const WorkerOptions& options) const {
    (void)job, (void)run, (void)options;
    return 0;
  }
  // Works the job. A failure is an outcome (retry with backoff, or fail), never a crash.
  virtual JobResult Run(JobContext& ctx) const = 0;
};

// How an attempt that ended with `s` finishes: done, retry after a backoff that grows with
// `attempt`, or fail at once for what can never work (IsTransient).
Outcome OutcomeOf(const Status& s, int attempt);
// The result of an attempt that ended with `s` (OutcomeOf) and found no more jobs.
inline JobResult EndedWith(const Status& s, int attempt) {
  return JobResult{.outcome = OutcomeOf(s, attempt), .more = {}};
}
// The result of an attempt that failed for good: the job is dead at once, whatever attempts it
// has left and whatever the error's code (a payload it cannot read, a request that can never
// work, targets it must not overwrite).
inline JobResult FailedAtOnce(const Status& s) {
  Outcome o;
  o.kind = Outcome::Kind::kFail;
  o.error = s.message();
  return JobResult{.outcome = std::move(o), .more = {}};
}

}  // namespace ferry::jobs
