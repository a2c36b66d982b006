// ScanChunk: one chunk of a scan job, as the "scan" kind runs it (kinds/scan_kind.cc; the
// algorithm in scan.cc). Public so that a capability's tests drive a real scan of its runs
// through its RunHook (kinds/run_hook.h: the ChunkPlan that batches a compressed run's copies
// into pack jobs, a backup's comparison with its catalog).
//
// Thread-safety: one ScanChunk per scan job, on that job's thread; the run may be shared.
#pragma once

#include <functional>
#include <stop_token>
#include <vector>

#include "base/status.h"
#include "jobs/job_store.h"
#include "jobs/key_range.h"
#include "jobs/run_context.h"
#include "jobs/worker.h"
#include "report/row.h"
#include "transfer/stats.h"

namespace ferry::jobs {

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
  // --report (job_report.h): the job's rows (its skips) go to `rows`; before each hand-off,
  // `record_rows` writes them as a part and appends its record to the jobs handed on. Unset:
  // no report.
  report::RowSink* rows = nullptr;
  std::function<void(std::vector<JobSpec>& more)> record_rows{};
};

// One chunk of the merged listings of `range`; fills `more` with the jobs it found (transfer
// batches, parked deletes; in a run served by a RunHook, the jobs of its ChunkPlan) and the
// rest of the range when the chunk was cut: one scan job, or two split by FindSplit when
// `scan.control` says the run should list more in parallel. Every
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

}  // namespace ferry::jobs
