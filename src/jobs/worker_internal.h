// Internals of jobs::Worker shared by worker.cc, scan.cc, delete_job.cc and the handlers of the
// built-in kinds (kinds/).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "jobs/payload.h"
#include "jobs/worker.h"
#include "plan/filter.h"
#include "transfer/engine.h"
#include "transfer/journal.h"
#include "backup/catalog.h"
#include "transport/level_store.h"
#include "transport/store.h"

namespace ferry::jobs {

// Everything one run needs on this worker: its options, both backends, its engine.
struct RunContext {
  Run run;
  RunOptions options;
  std::unique_ptr<storage::Backend> src;
  std::unique_ptr<storage::Backend> dst;
  std::optional<plan::Filter> filter;
  std::unique_ptr<transfer::TransferEngine> engine;
  // Compressed runs (options.transport): the staging location and the archive progress store
  // (in the JobStore's database).
  std::unique_ptr<storage::Backend> staging;
  std::unique_ptr<transport::TransportStore> archives;
  // Without an explicit level: the adaptive level's history (in the same database).
  std::unique_ptr<transport::LevelStore> levels;
  // Backups (options.transport.backup): the catalog (in the same database), which the scan
  // compares the source with and the pack jobs record their archives in.
  std::unique_ptr<backup::CatalogStore> catalog;
  // How this worker opens locations (kinds that reach more than the two sides use it); set by
  // the Worker, valid while it lives.
  BackendOpener opener;
  // What a kind keeps for the run on this worker, made by its first job here (replication: the
  // rules, the destinations, the status store; kinds/replicate_run.h). Opaque to the worker.
  std::mutex kind_state_mu;
  std::shared_ptr<void> kind_state;  // GUARDED_BY(kind_state_mu)
};

// Opens a run's context: decodes options, opens both sides, checks them.
Result<std::unique_ptr<RunContext>> OpenRunContext(JobStore& store, RunId run,
                                                   const BackendOpener& opener,
                                                   const WorkerOptions& options,
                                                   transfer::Stats& stats);

// What a scan job may do besides listing (the worker implements it for the job it runs).
class ScanControl {
 public:
  virtual ~ScanControl() = default;
  // Whether the run should list more in parallel now: nothing of it waits to be claimed.
  virtual bool WantsSplit() = 0;
  // Enqueues `more` at once while this job keeps `kept`, in one transaction
  // (JobStore::HandOff): what a retry of the job lists is `kept` from then on.
  virtual Status HandOff(const KeyRange& kept, const std::vector<JobSpec>& more) = 0;
};

// What a scan job works with (ScanChunk), as JobContext for a handler. Not owned.
struct ScanContext {
  RunContext& run;               // the job's run: its sides and options
  const WorkerOptions& options;  // the worker's
  ScanControl& control;          // the worker, as a scan sees it: splits and hand-offs
  transfer::Stats& stats;        // the worker's counters: what the scan lists and plans
};

// One chunk of the merged listings of `range`; fills `more` with the jobs it found (transfer
// batches, parked deletes) and the rest of the range when the chunk was cut: one scan job, or
// two split by FindSplit when `scan.control` says the run should list more in parallel. Every
// `scan.options.split_check_keys` source keys it may also split the range and hand the high
// part on at once, and whenever `scan.options.scan_hand_off_jobs` jobs have accumulated it
// hands them on with the range's start moved past the keys they cover, so that a chunk holds a
// bounded number of jobs however many keys it plans (see scan.cc). Stops with kCancelled when
// `stop` is requested (the job's lease was lost).
Status ScanChunk(const ScanContext& scan, const KeyRange& range, std::vector<JobSpec>& more,
                 std::stop_token stop = {});

// The scan job of `range` in ctx's run.
JobSpec ScanJob(const RunContext& ctx, const KeyRange& range);
// The scan of the whole key space of `run`: the first job of a run (and of each round of a
// continuous one).
JobSpec FirstScanJob(RunId run, int max_attempts);

// Checkpoints of one upload of a job (UploadRef: a transfer job's large object, a replicate-keys
// job's large version on one destination), kept in the JobStore under the job's lease.
// When the store says the lease is lost, the write fails with kCancelled (so the engine keeps
// the upload for the job's new holder instead of aborting it) and `on_lost` is called with the
// store's answer (the worker cancels the job's work).
class StoreJournal : public transfer::UploadJournal {
 public:
  StoreJournal(JobStore& store, Lease lease, UploadRef ref,
               std::function<void(const Status&)> on_lost = {})
      : store_(store),
        lease_(std::move(lease)),
        ref_(std::move(ref)),
        on_lost_(std::move(on_lost)) {}
  Result<std::optional<Upload>> Load() override;
  Status Creating(const std::string& source) override;
  Status Begin(const std::string& upload_id, uint64_t part_size,
               const std::string& source) override;
  Status PartDone(const Part& part) override;
  Status Clear() override;

 private:
  Status Fenced(Status s);

  JobStore& store_;
  const Lease lease_;
  const UploadRef ref_;
  const std::function<void(const Status&)> on_lost_;
};


// A delete job of ctx's run (delete_job.cc): deletes those of `keys` that the source lacks
// now. Each key is checked against the source right before (one listing of the keys' range,
// or a Stat per key when there are few): a key the source has now, whatever the run's filter
// says of it, is kept and counted in stats.deletes_kept; the others count as deleted.
Status RunDeleteJob(RunContext& ctx, std::vector<std::string> keys, transfer::Stats& stats,
                    std::stop_token stop);

// The objects a pack job of ctx's run packs (kinds/pack_kind.cc): the batch as planned, less
// those the listing could not decide (need details) that turn out unchanged with both sides'
// details, as a plain copy decides before it copies (TransferEngine::Refresh), and less those
// gone from the source since. The looks (two HEADs each) are tasks of `executor`. An error of a
// look fails the job.
Result<std::vector<storage::ObjectInfo>> ObjectsToPack(
    RunContext& ctx, transfer::Executor& executor,
    const std::vector<transfer::CopyRequest>& planned, std::stop_token stop);

// How an attempt ends given the statuses of its objects.
bool IsTransient(const Status& s);

}  // namespace ferry::jobs
