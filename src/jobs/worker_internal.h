// Internals of jobs::Worker shared by worker.cc, scan.cc and transfer_job.cc.
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

namespace ferry::jobs {

// Everything one run needs on this worker: its options, both backends, its engine.
struct RunContext {
  Run run;
  RunOptions options;
  std::unique_ptr<storage::Backend> src;
  std::unique_ptr<storage::Backend> dst;
  std::optional<plan::Filter> filter;
  std::unique_ptr<transfer::TransferEngine> engine;
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
  // Hands `rest` on as a new scan job at once while this job keeps `kept` (JobStore::HandOff).
  virtual Status HandOff(const KeyRange& kept, const KeyRange& rest) = 0;
};

// One chunk of the merged listings of `range`; fills `more` with the jobs it found (transfer
// batches, parked deletes) and the rest of the range when the chunk was cut: one scan job, or
// two split by FindSplit when `control` says the run should list more in parallel. Every
// `options.split_check_keys` source keys it may also split the range and hand the high part
// on at once (see scan.cc).
Status ScanChunk(RunContext& ctx, const KeyRange& range, const WorkerOptions& options,
                 ScanControl& control, transfer::Stats& stats, std::vector<JobSpec>& more);

// The scan job of `range` in ctx's run.
JobSpec ScanJob(const RunContext& ctx, const KeyRange& range);

// Checkpoints of a large-object transfer job, kept in the JobStore.
class StoreJournal : public transfer::UploadJournal {
 public:
  StoreJournal(JobStore& store, JobId job, std::string key)
      : store_(store), job_(job), key_(std::move(key)) {}
  Result<std::optional<Upload>> Load() override;
  Status Begin(const std::string& upload_id, uint64_t part_size) override;
  Status PartDone(const Part& part) override;
  Status Clear() override;

 private:
  JobStore& store_;
  JobId job_;
  std::string key_;
};

// How an attempt ends given the statuses of its objects.
bool IsTransient(const Status& s);

}  // namespace ferry::jobs
