// A durable verify run (`ferry verify SRC DST --state URL [--detach]`, docs/design/verify.md,
// "Fleet verify"): the audit cut into key-range jobs that any `ferry worker` of the state store
// claims, each compared by RunVerify (verify.h: the same decisions as the in-memory audit).
//
// Kinds (registered by app::Kinds()):
//  - "verify-range" (phase 0, lister slot): one chunk of a key range, (start_after, last]: at
//    most WorkerOptions::scan_chunk source keys are listed, the destination over the same keys,
//    and the pairs compared; the job finishes with the rest of its range (one job, or two split
//    by jobs::FindSplit when the run is short of work). Its verdicts are recorded in the
//    transaction that commits it (a "verify-result" record, and with --report its part of the
//    report, jobs/job_report.h): a job whose commit is lost (a killed worker, a lost lease)
//    recorded nothing and is compared again; a committed one is never reread.
//  - "verify-list" (phase 0, lister slot): a `--files-from` run's chunk of its sorted list (at
//    most jobs::kListChunkKeys keys, stored with the run when it was made): the keys looked up
//    on both sides (storage::FindKeys) and compared; nothing else is looked at. Recorded as a
//    verify-range job is.
//  - "verify-result" (phase 9, as report parts): a record: the counts of one job's verdicts and
//    its differences (the first kMaxRecordedDifferences); does nothing when run.
//  - "verify-summary" (phase 10): a run with --report gets one, parked, at its creation; once
//    every other job is done, whichever worker claims it writes the report's summary.json from
//    the recorded parts (so a detached run's report is whole without the command that queued it).
//
// Thread-safety: handlers are shared by every job of their kind (jobs/kinds/handler.h).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobs/job_store.h"
#include "jobs/key_range.h"
#include "jobs/kinds/handler.h"
#include "verify/compare.h"
#include "verify/report.h"

namespace ferry::verify {

inline constexpr char kVerifyRangeKind[] = "verify-range";
inline constexpr char kVerifyListKind[] = "verify-list";
inline constexpr char kVerifyResultKind[] = "verify-result";
// The summary job of verify runs queued by an earlier ferry: now jobs' report-summary kind under
// this name (runs queue jobs::ReportSummaryJob, app::RunDurable).
inline constexpr char kVerifySummaryKind[] = "verify-summary";
// A verify run's RunOptions::command.
inline constexpr char kVerifyCommand[] = "verify";
// Differences a job's record names, at most (its counts count them all; --report has every one).
inline constexpr size_t kMaxRecordedDifferences = 1000;

// What a verify-range job carries: its range and the comparison's options (a verify run's
// options are its jobs': RunOptions has no place for them).
struct RangeJob {
  jobs::KeyRange range;
  CompareOptions compare;
};
std::string EncodeRangeJob(const RangeJob& job);
Result<RangeJob> DecodeRangeJob(const std::string& json);

// A verify-list job: its keys (sorted, unique) and the comparison's options.
struct ListJob {
  std::vector<std::string> keys;
  CompareOptions compare;
};
std::string EncodeListJob(const ListJob& job);
Result<ListJob> DecodeListJob(const std::string& json);
// The list-scan jobs of a --files-from run (jobs::ListScanJobs) as verify-list jobs.
Result<std::vector<jobs::JobSpec>> VerifyListJobs(std::vector<jobs::JobSpec> list_scans,
                                                  const CompareOptions& compare);

// The first job of a verify run: the whole key space.
jobs::JobSpec FirstVerifyJob(const CompareOptions& compare, int max_attempts);

// One job's verdicts (a verify-result record), or a run's summed.
struct VerifyTally {
  Counts counts;
  std::vector<Entry> differences;  // differ, missing, extra and errors: the first ones
  size_t differences_left_out = 0;  // beyond kMaxRecordedDifferences (per record)
  // Keeps `e` when it is a difference or an error (counts are Report's).
  void Note(const Entry& e);
  void Merge(const VerifyTally& other);
};
std::string EncodeVerifyTally(const VerifyTally& tally);
Result<VerifyTally> DecodeVerifyTally(const std::string& json);

// The sum of the records of run `run` (every verify-result job, whatever its state).
Result<VerifyTally> RunTally(jobs::JobStore& store, jobs::RunId run);

std::shared_ptr<const jobs::JobHandler> MakeVerifyRangeHandler();
std::shared_ptr<const jobs::JobHandler> MakeVerifyListHandler();
std::shared_ptr<const jobs::JobHandler> MakeVerifyResultHandler();
// jobs::MakeReportSummaryHandler named kVerifySummaryKind.
std::shared_ptr<const jobs::JobHandler> MakeVerifySummaryHandler();

}  // namespace ferry::verify
