// RunReport and the report-part kind (job_report.h).
#include "jobs/job_report.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <set>

#include "jobs/kinds/registry.h"
#include "obs/log.h"

namespace ferry::jobs {
namespace {

report::Format FormatOf(const ReportOptions& o) {
  auto f = report::ParseFormat(o.format);
  return f.ok() ? *f : report::Format::kCsv;
}
report::Level LevelOf(const ReportOptions& o) {
  auto l = report::ParseLevel(o.level);
  return l.ok() ? *l : report::Level::kChanges;
}

class ReportPartHandler : public JobHandler {
 public:
  std::string_view name() const override { return kReportPartKind; }
  int phase() const override { return kReportPartPhase; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return false; }
  JobResult Run(JobContext&) const override { return JobResult{}; }  // a record, nothing to do
};

}  // namespace

RunReport::RunReport(std::unique_ptr<storage::Backend> location, const RunOptions& options,
                     const Run& run, Clock& clock)
    : location_(std::move(location)),
      format_(FormatOf(options.report)),
      level_(LevelOf(options.report)),
      run_(run.id),
      run_tag_(ReportRunId(run)),
      clock_(clock) {}

std::string ReportRunId(const Run& run) {
  const std::time_t t = std::chrono::system_clock::to_time_t(run.created);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[24];
  std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
  return std::string(stamp) + "-r" + std::to_string(run.id);
}

void RunReport::Add(report::Row row) {
  std::shared_ptr<report::JobRows> to;
  {
    std::lock_guard lock(mu_);
    auto it = routes_.find(row.key);
    if (it != routes_.end()) to = it->second;
  }
  if (to != nullptr) to->Add(std::move(row));
}

std::shared_ptr<report::JobRows> RunReport::NewRows() const {
  return std::make_shared<report::JobRows>(format_, level_, clock_);
}

void RunReport::Route(const std::string& key, const std::shared_ptr<report::JobRows>& rows) {
  std::lock_guard lock(mu_);
  routes_[key] = rows;
}

void RunReport::Unroute(const std::string& key, const report::JobRows* rows) {
  std::lock_guard lock(mu_);
  auto it = routes_.find(key);
  if (it != routes_.end() && it->second.get() == rows) routes_.erase(it);
}

namespace {

// The claim time of an attempt (Job::updated as claimed), in milliseconds, base 36: short, and
// different for each claim of a job.
std::string ClaimTag(TimePoint claimed) {
  uint64_t ms = static_cast<uint64_t>(std::max<int64_t>(
      0, std::chrono::duration_cast<std::chrono::milliseconds>(claimed.time_since_epoch()).count()));
  std::string out;
  do {
    out.insert(out.begin(), "0123456789abcdefghijklmnopqrstuvwxyz"[ms % 36]);
    ms /= 36;
  } while (ms > 0);
  return out;
}

}  // namespace

std::optional<JobSpec> RunReport::Record(report::JobRows& rows, const Job& job, int piece) {
  if (rows.empty()) return std::nullopt;
  std::string stem = "part-" + run_tag_ + "-j" + std::to_string(job.id) + "-a" +
                     std::to_string(job.attempts) + "-" + ClaimTag(job.updated);
  if (piece > 0) stem += "-" + std::to_string(piece);
  JobSpec spec;
  spec.run = run_;
  spec.kind = kReportPartKind;
  spec.payload = report::EncodeRecordedPart(rows.Write(*location_, stem));
  rows.Clear();
  spec.not_before = kParked;
  spec.max_attempts = 1;
  return spec;
}

void RecordAttempt(RunReport& report, report::JobRows& rows, const Job& job, JobResult& result) {
  const Outcome::Kind kind = result.outcome.kind;
  const bool again = (kind == Outcome::Kind::kRetry && job.attempts < job.spec.max_attempts) ||
                     kind == Outcome::Kind::kWait;
  if (again) {
    rows.DropIf([](const report::Row& row) { return row.outcome == report::Outcome::kFailed; });
  }
  if (auto record = report.Record(rows, job)) result.records.push_back(std::move(*record));
}

Result<std::shared_ptr<RunReport>> OpenRunReport(RunContext& ctx, Clock& clock) {
  const ReportOptions& o = ctx.options.report;
  if (!o.wanted()) return std::shared_ptr<RunReport>();
  FERRY_RETURN_IF_ERROR(report::ParseFormat(o.format).status());
  FERRY_RETURN_IF_ERROR(report::ParseLevel(o.level).status());
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> location,
                         ctx.opener(o.location, /*destination=*/true));
  auto made = std::make_shared<RunReport>(std::move(location), ctx.options, ctx.run, clock);
  SetKindState(ctx, "report", made);
  return made;
}

std::shared_ptr<RunReport> ReportOf(RunContext& ctx) {
  return FindKindState<RunReport>(ctx, "report");
}

std::shared_ptr<const JobHandler> MakeReportPartHandler() {
  return std::make_shared<ReportPartHandler>();
}

Status RemoveUnrecordedParts(storage::Backend& location, const Run& run,
                             const std::vector<report::RecordedPart>& parts) {
  std::set<std::string> recorded;
  for (const auto& p : parts) recorded.insert(p.name);
  FERRY_ASSIGN_OR_RETURN(auto cursor, location.List("part-" + ReportRunId(run) + "-j"));
  std::vector<std::string> orphans;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (recorded.count(o->key) == 0) orphans.push_back(o->key);
  }
  if (orphans.empty()) return Status::Ok();
  obs::Log(obs::Level::kInfo, "report: removed the parts of attempts that never committed",
           {{"parts", orphans.size()}});
  return location.DeleteMany(orphans, std::stop_token{});
}

Result<std::vector<report::RecordedPart>> RecordedParts(JobStore& store, RunId run) {
  std::vector<report::RecordedPart> out;
  FERRY_RETURN_IF_ERROR(
      ForEachJobOfKind(store, run, kReportPartKind, [&](const Job& j) -> Status {
        FERRY_ASSIGN_OR_RETURN(report::RecordedPart p,
                               report::DecodeRecordedPart(j.spec.payload));
        out.push_back(std::move(p));
        return Status::Ok();
      }));
  return out;
}

}  // namespace ferry::jobs
