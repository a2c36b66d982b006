// The "scan" kind: lists one chunk of a key range of both sides and plans it (scan.cc), then
// finishes with the jobs it found: transfer batches, parked deletes and the rest of the range.
#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/worker_internal.h"

namespace ferry::jobs {
namespace {

// ScanChunk's view of the worker: key ranges in, payloads out.
class ScanControlOf : public ScanControl {
 public:
  explicit ScanControlOf(JobControl& control) : control_(control) {}
  bool WantsSplit() override { return control_.WantsSplit(); }
  Status HandOff(const KeyRange& kept, const std::vector<JobSpec>& more) override {
    return control_.HandOff(EncodeScan(kept), more);
  }

 private:
  JobControl& control_;
};

class ScanHandler : public JobHandler {
 public:
  std::string_view name() const override { return kScanKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    JobResult result;
    auto range = DecodeScan(j.spec.payload);
    ScanControlOf control(ctx.control);
    // --report: the skips of each piece handed on, then of the rest (job_report.h).
    const std::shared_ptr<RunReport> report = ReportOf(ctx.run);
    const std::shared_ptr<report::JobRows> rows = report ? report->NewRows() : nullptr;
    int piece = 0;
    auto record = [&](std::vector<JobSpec>& more) {
      if (auto r = report->Record(*rows, j, ++piece)) more.push_back(*r);
    };
    ScanContext scan{
        .run = ctx.run, .options = ctx.options, .control = control, .stats = ctx.stats};
    if (report != nullptr) {
      scan.rows = rows.get();
      scan.record_rows = record;
    }
    Status s = range.ok() ? ScanChunk(scan, *range, result.more, ctx.cancel) : range.status();
    if (s.ok() && report != nullptr) record(result.more);
    s = s.WithContext("scan");
    result.outcome = OutcomeOf(s, j.attempts);
    // A listing out of order (or another bug) is not retried: jobs this scan handed on may
    // hold deletes planned from it, and a retry from the moved range start would hide it.
    if (s.code() == ErrorCode::kInternal) result.outcome.kind = Outcome::Kind::kFail;
    if (!s.ok()) result.more.clear();
    return result;
  }
};

}  // namespace

std::shared_ptr<const JobHandler> MakeScanHandler() { return std::make_shared<ScanHandler>(); }

}  // namespace ferry::jobs
