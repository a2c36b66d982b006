// A durable run's per-object report on a worker (--report, docs/design/report.md "Durable
// runs"; report/job_rows.h): the run's report location opened with the run, each job's rows
// held with the job (the engine's rows routed to the job whose object it is, by key), written
// as the job's own part before its outcome is committed, and recorded by a "report-part" job
// enqueued in the transaction of that commit (JobResult::records; parked in the last phase,
// it does nothing when run: its payload is the record). The run's end sums the records
// (app::RunDurable). A job's attempt whose outcome never commits leaves a part nobody records.
//
// Thread-safety: RunReport is shared by a run's jobs on a worker: every method is thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jobs/job_store.h"
#include "jobs/kinds/handler.h"
#include "jobs/run_context.h"
#include "report/job_rows.h"

namespace ferry::jobs {

inline constexpr char kReportPartKind[] = "report-part";
// The phase of report-part jobs: after every other phase of a run (deletes are phase 1).
inline constexpr int kReportPartPhase = 9;

class RunReport final : public report::RowSink {
 public:
  RunReport(std::unique_ptr<storage::Backend> location, const RunOptions& options, const Run& run,
            Clock& clock);
  // The engine's rows (TransferOptions::report): to the job that routed the row's key, else
  // dropped (an object no job of this worker waits for).
  void Add(report::Row row) override;

  // A job's rows, empty.
  std::shared_ptr<report::JobRows> NewRows() const;
  // Rows of `key` go to `rows` until Unroute.
  void Route(const std::string& key, const std::shared_ptr<report::JobRows>& rows);
  void Unroute(const std::string& key, const report::JobRows* rows);
  // Writes `rows` as the part of the attempt of `job` (as claimed: its id, attempt and claim
  // time name the part; `piece` tells apart the parts of one attempt that hands work on) and
  // returns the report-part job that records it; nullopt when there are no rows. The claim
  // time keeps apart the attempts of a job redriven after it died (its attempts count again
  // from 1), so that no part overwrites another's rows.
  std::optional<JobSpec> Record(report::JobRows& rows, const Job& job, int piece = 0);

 private:
  std::unique_ptr<storage::Backend> location_;
  const report::Format format_;
  const report::Level level_;
  const RunId run_;
  const std::string run_tag_;  // ReportRunId
  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<report::JobRows>, std::less<>> routes_;  // GUARDED_BY(mu_)
};

// Records `rows` as the part of `job`'s attempt that ended with `result` (into its records):
// the failures of an attempt that will be tried again (a retry below max_attempts, a wait) are
// dropped and left to that attempt; the last attempt's failures are rows. What the transfer,
// restore and cache-warm kinds do with their rows when an attempt ends.
void RecordAttempt(RunReport& report, report::JobRows& rows, const Job& job, JobResult& result);

// The run's id in its report (summary.json's run_id, in each part's name): its creation time
// and number, "20261128T031500Z-r3", so that runs of different state stores writing to one
// location never share a part's name.
std::string ReportRunId(const Run& run);

// Opens the report of ctx's run (RunOptions::report) through ctx.opener; nullptr when the run
// has none. Errors: the location's, a bad format or level.
Result<std::shared_ptr<RunReport>> OpenRunReport(RunContext& ctx, Clock& clock);
// The report of ctx's run on this worker (kept as its kind state "report"); nullptr: none.
std::shared_ptr<RunReport> ReportOf(RunContext& ctx);

// Deletes the parts of run `run` in `location` that no record of `parts` names: written by
// attempts killed (or whose lease was lost) before their outcome committed; their rows are in
// the parts of the attempts that committed. Call once the run's jobs are done, when no attempt
// of it can be writing any more. Errors: the location's.
Status RemoveUnrecordedParts(storage::Backend& location, const Run& run,
                             const std::vector<report::RecordedPart>& parts);

// The "report-summary" kind: one job of every durable run with a report, enqueued with the run
// (ReportSummaryJob) and parked in the phase after the report-part records, so that it runs
// when every other job of the run is done, or when a dead job fails the run (it runs first:
// JobHandler::runs_when_failed), on whichever worker claims it. It writes the run's
// summary.json (WriteReportSummary, `done`) and removes the parts no record names: a detached
// run's report is whole without the process that queued it. Its errors: the location's
// (retried), or kDataLoss "report incomplete" when a recorded part was lost (final: the job
// dies and the run fails, its summary saying "complete": false).
inline constexpr char kReportSummaryKind[] = "report-summary";
inline constexpr int kReportSummaryPhase = 10;
JobSpec ReportSummaryJob();
// `name`: the kind's name; verify runs of an earlier ferry queued the same job as
// "verify-summary" (verify/kinds/kinds.h), which is this handler too.
std::shared_ptr<const JobHandler> MakeReportSummaryHandler(
    std::string_view name = kReportSummaryKind);

// Writes summary.json of `run`'s report (`o`) to `location`: the records of its parts summed,
// started at the run's creation, ended at `ended`. `done`: no job of the run can be writing a
// part (every job is done, or the run is failing: its other jobs dead or parked), so the parts
// no record names are removed first; else the summary says the run is not done. A run with
// dead jobs is said to have failed, with the way on (ferry jobs redrive).
// Errors: the location's, a bad format or level, kDataLoss "report incomplete" (after writing
// the summary) when a recorded part was lost.
Status WriteReportSummary(JobStore& store, const Run& run, const ReportOptions& o,
                          storage::Backend& location, TimePoint ended, bool done);

// The "report-part" kind (kinds/registry.h: MakeReportPartHandler).
// The records of run `run`'s report (every report-part job's payload, whatever its state).
Result<std::vector<report::RecordedPart>> RecordedParts(JobStore& store, RunId run);

}  // namespace ferry::jobs
