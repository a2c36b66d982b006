// The report-summary kind and the summary of a durable run's report (job_report.h).
#include <memory>
#include <string>

#include "base/clock.h"
#include "jobs/delete_guard.h"
#include "jobs/job_report.h"

namespace ferry::jobs {
namespace {

class ReportSummaryHandler : public JobHandler {
 public:
  explicit ReportSummaryHandler(std::string_view name) : name_(name) {}
  std::string_view name() const override { return name_; }
  int phase() const override { return kReportSummaryPhase; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return false; }
  // A run that fails (a dead job) writes its summary first, saying so (AdvanceRun).
  bool runs_when_failed() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const ReportOptions& o = ctx.run.options.report;
    if (!o.wanted()) return {};
    auto location = ctx.run.opener(o.location, /*destination=*/true);
    Status s = location.ok() ? WriteReportSummary(ctx.store, ctx.run.run, o, **location,
                                                  ClockOr(ctx.options.clock).Now(), /*done=*/true)
                             : location.status();
    // a lost part stays lost: the summary that says so is written, nothing to retry
    const bool final = report::IsIncompleteReport(s);
    s = s.WithContext(std::string(name_) + ": --report " + o.location);
    return final ? FailedAtOnce(s) : EndedWith(s, ctx.claimed.job.attempts);
  }

 private:
  const std::string name_;
};

}  // namespace

JobSpec ReportSummaryJob() {
  JobSpec spec;
  spec.kind = kReportSummaryKind;
  spec.payload = "{}";
  spec.not_before = kParked;
  spec.max_attempts = 5;
  return spec;
}

std::shared_ptr<const JobHandler> MakeReportSummaryHandler(std::string_view name) {
  return std::make_shared<ReportSummaryHandler>(name);
}

Status WriteReportSummary(JobStore& store, const Run& run, const ReportOptions& o,
                          storage::Backend& location, TimePoint ended, bool done) {
  report::RunSummaryInput in;
  in.run_id = ReportRunId(run);
  FERRY_ASSIGN_OR_RETURN(in.format, report::ParseFormat(o.format));
  FERRY_ASSIGN_OR_RETURN(in.level, report::ParseLevel(o.level));
  in.started = run.created;
  in.ended = ended;
  FERRY_ASSIGN_OR_RETURN(in.parts, RecordedParts(store, run.id));
  FERRY_ASSIGN_OR_RETURN(const RunCounts counts, store.CountJobs(run.id));
  if (const uint64_t dead = counts.jobs[static_cast<size_t>(JobState::kDead)]; dead > 0) {
    const std::string id = std::to_string(run.id);
    in.not_checked.push_back(
        "the run failed: " + std::to_string(dead) + " of its jobs are dead (ferry jobs dlq " + id +
        "); the objects they had left are not in this report, or are rows that say failed; "
        "ferry jobs redrive " + id + " finishes the run and writes this summary again");
  }
  if (auto options = DecodeRunOptions(run.spec.options); options.ok()) {
    // stopped by --max-delete (or the config key that set it): its deletes are still parked
    if (auto why = DeleteGuardRefusal(*options, counts);
        why && counts.of(kDeleteKind).of(JobState::kDone) == 0 &&
        counts.of(kReplicateDeletesKind).of(JobState::kDone) == 0 &&
        counts.of(kMoveSourcesKind).of(JobState::kDone) == 0) {
      in.not_checked.push_back("the run stopped before its deletes: " + *why);
    }
  }
  if (done) {
    FERRY_RETURN_IF_ERROR(RemoveUnrecordedParts(location, run, in.parts));
  } else {
    in.not_checked.push_back("the run is not done: the rows of its unfinished jobs are not in "
                             "this report yet (a rerun resumes it and writes the summary again)");
  }
  return report::WriteRunSummary(location, in);
}

}  // namespace ferry::jobs
