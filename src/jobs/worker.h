// Worker: executes durable jobs from a JobStore. `ferry worker` runs one forever (serving every
// run); `ferry cp/sync --state` runs one for its own run until the run is done. Many workers on
// many machines share the work through the store only.
//
// A worker claims a few jobs at a time while it has room (objects in flight below twice its
// concurrency, lister slots), renews the leases of the jobs it holds every third of the lease
// time, and runs each job on its own thread through the handler of its kind
// (jobs/kinds/registry.h; it claims only kinds it has a handler for, and of those only
// WorkerOptions::kinds when given). jobs' own kinds (the others live beside their capability
// and are registered by the composition root, app::Kinds(): docs/design/job-kinds.md):
//   scan      lists one chunk of both sides in the job's key range, plans it, and finishes
//             the job enqueueing, in the same transaction, the transfer jobs (small objects
//             batched, each large object alone), the parked delete jobs and the rest of the
//             range: one scan job, or two split at a probed key when nothing of the run waits
//             to be claimed, so that listing spreads over workers (key_range.h);
//   transfer  feeds the job's objects to the run's TransferEngine; when the last one is done
//             the job finishes: done, retry (only the objects that failed, after a backoff) or
//             dead (a permanent failure such as access denied);
//   delete    deletes its keys (runs only once its run reached the delete phase).
// A job whose lease was lost (Renew, or a checkpoint write, says another worker holds it now)
// is cancelled at once: its requests in flight stop, an unfinished upload is kept for the new
// holder, and it neither finishes nor writes checkpoints any more.
// A worker that cannot open a run's location at all (unknown remote, missing credentials: a
// problem of this worker's configuration, not of the job) gives the job back without counting
// an attempt (JobStore::Release), lets the jobs in hand end and stops: Run returns
// kInvalidArgument with one line saying why. A transient failure to open (the server is down)
// is retried like any other.
// It also moves runs between phases (AdvanceRun): each kind belongs to a phase (scan and
// transfer 0, delete 1); when no work of the phases below N is left and none is dead, it
// unparks the run's jobs of phase N; when the last phase is done the run is done (a continuous
// run starts its next round instead, without waiting for the jobs that come outside its rounds:
// JobHandler::outside_rounds). A run with dead jobs stays where it is until `ferry jobs
// redrive`, except a continuous one, which never fails: its dead jobs stay for the record, and
// its next round does their work again.
//
// Thread-safety: Run is called once; everything else is internal.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "jobs/job_store.h"
#include "obs/metrics.h"
#include "storage/backend.h"
#include "transfer/cutoff.h"
#include "transfer/executor.h"
#include "transfer/stats.h"

namespace ferry::jobs {

class KindRegistry;

struct WorkerOptions {
  std::string owner;  // unique per process: DefaultOwner()
  // Objects in flight the worker claims room for: twice this (the executor's workers).
  int concurrency = 64;
  // Required: the executor every run this worker serves submits to, shared by every worker
  // of the process (made once at its composition root, app::Engine; tests:
  // testing::TestExecutor() or one of their own). The Worker's constructor checks it is set
  // (FERRY_CHECK): a worker never makes an executor of its own. Not owned; must outlive the
  // worker.
  transfer::Executor* executor = nullptr;
  std::chrono::seconds lease_ttl{60};
  size_t scan_chunk = 10000;         // source keys per scan job
  int list_concurrency = 4;          // scan and delete jobs in hand at once (room to claim)
  // Source keys between a scan's looks for idle listers. A split costs two probes and a first
  // page per side, so a short listing is better unsplit (docs/design/jobs.md).
  size_t split_check_keys = 5000;
  // Jobs a scan holds before it hands them on mid-chunk (and moves its range past the keys
  // they cover): bounds a scan's memory when a chunk plans many deletes. 0: never.
  size_t scan_hand_off_jobs = 50;
  // After the store said "no split" for a run, its scans take that answer for this long
  // instead of counting the run's jobs again (one count per run and period, whatever the
  // number of keys listed).
  std::chrono::milliseconds split_recheck{1000};
  size_t batch_objects = 200;        // small objects per transfer job
  uint64_t batch_bytes = 64ull << 20;
  RunId only_run = 0;                // 0: serve every run
  bool exit_when_done = false;       // return once only_run is done or blocked on dead jobs
  // With exit_when_done and `kinds`: also return once only_run has no queued or leased job of
  // those kinds and this worker holds none (`ferry sync --compress --pack-only`: the unpack
  // jobs are left to workers near the destination).
  bool exit_when_kinds_drained = false;
  // only_run's source, destination and staging were checked (Backend::Check) by this process
  // just before (the command that made or resumed the run): opening the run does not check
  // them again (a HEAD per location, a round trip each over a WAN).
  bool only_run_checked = false;
  std::chrono::milliseconds idle_poll{200};
  bool verbose = false;
  // The kinds this worker serves (`ferry worker --kinds`); empty = every kind of `registry`.
  std::vector<std::string> kinds;
  // "" = serves only jobs without a region; a region = its jobs and those without a region.
  std::string region;
  // The handlers of the kinds and the run hooks; nullptr = KindRegistry::Builtin(), jobs' own
  // kinds only (app::Kinds() has every kind of this ferry). Must outlive the worker.
  const KindRegistry* registry = nullptr;
  // Times the claim loop, lease renewals, idle polls, backoff waits and split rechecks, and
  // the next round of continuous runs; nullptr = the system clock (ClockOr). Must outlive the
  // worker. Tests pass a testing::FakeClock and move it instead of waiting.
  Clock* clock = nullptr;
  // The command's --max-transfer, or its soft or cautious --max-duration (ferry cp/sync/move
  // --state; transfer/cutoff.h, docs/design/guards.md): asked as each copy of a transfer job
  // starts (the whole object's size), and before each claim (Cutoff::CutNow: the deadline
  // passes while nothing starts too). Once it cut the run, no copy starts (hard mode: the
  // copies in flight are cancelled), a job with copies left is given back with only them
  // (Outcome::kWait: no attempt counted), the worker claims nothing more and returns once it
  // holds no job: the run stays unfinished, resumable.
  // Null: no limit. Not owned; must outlive the worker. Other workers of the store do not see it.
  transfer::Cutoff* cutoff = nullptr;
  // Where the worker counts its jobs: ferry_jobs_started_total{kind} and
  // ferry_jobs_finished_total{kind,outcome} (outcome: done, retry, wait, dead); nullptr =
  // obs::DefaultRegistry(). Must outlive the worker.
  obs::Registry* metrics = nullptr;
};

// Opens one side of a run from the location text stored with it.
using BackendOpener = std::function<Result<std::unique_ptr<storage::Backend>>(
    const std::string& location, bool destination)>;

enum class RunProgress { kWorking, kBlocked, kDone };

class Worker {
 public:
  Worker(JobStore& store, BackendOpener opener, WorkerOptions options, transfer::Stats& stats);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Works until `stop`, or (exit_when_done) until only_run is done or blocked. Returns the
  // run's final progress state in `*final` when given. Errors: the store stayed unreachable.
  Status Run(std::stop_token stop, RunProgress* final = nullptr);

  // Moves a run between phases; returns where it stands. Safe from any worker. `kinds` says
  // which phase each kind belongs to (nullptr = KindRegistry::Builtin()); `clock` (the
  // worker's, the caller's: required) times the next scan of a continuous run whose work
  // drained (it stays kWorking, idle until then).
  static Result<RunProgress> AdvanceRun(JobStore& store, RunId run, const KindRegistry* kinds,
                                        Clock& clock);
  // Ends the leases on `run` held by processes of this machine that no longer exist (a run
  // killed and started again on one machine), so that it resumes without waiting for lease
  // expiry: owners (DefaultOwner) with this host name and boot id whose pid is gone. Owners
  // without a boot id (older ferry) or of another boot are left to expire. Returns how many
  // leases were ended.
  static Result<uint64_t> ReleaseLeasesOfDeadLocalOwners(JobStore& store, RunId run);

 private:
  struct ActiveJob;
  class Impl;
  std::unique_ptr<Impl> impl_;
};

// "host:pid:boot:nonce" of this process: boot is the first 8 hex digits of the kernel's boot id
// ("-" when unknown), nonce 8 random hex digits drawn once per process. Two machines that share
// a host name (containers, clones) therefore never share an owner, and a pid reused after a
// reboot does not look like the old process.
std::string DefaultOwner();

}  // namespace ferry::jobs
