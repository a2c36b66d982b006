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

// One chunk of the merged listings of `range`; fills `more` with the jobs it found (transfer
// batches, parked deletes) and the rest of the range: one scan job, or two split by FindSplit
// when `want_split()` says the run should list more in parallel (asked only when cut).
Status ScanChunk(RunContext& ctx, const KeyRange& range, const WorkerOptions& options,
                 const std::function<bool()>& want_split, transfer::Stats& stats,
                 std::vector<JobSpec>& more);

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
