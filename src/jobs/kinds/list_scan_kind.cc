// The "list-scan" kind: one chunk of a --files-from run's sorted list (at most kListChunkKeys
// keys, stored in its payload when the run was created): its keys looked up on both sides and
// planned (list_scan.h), then it finishes with the transfer and parked delete jobs it found. A
// chunk of an inventory run carries the inventories' rows instead (list_scan_rows.h): planned
// from them, with the stores read only for the keys the plan would write or delete.
// A chunk is never split or handed on: a retry (a lost lease, a failed lookup) looks the same
// keys up again and plans them afresh, and what it found is enqueued only with its Finish.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/list_scan.h"
#include "jobs/list_scan_rows.h"
#include "jobs/worker_internal.h"

namespace ferry::jobs {
namespace {

// A list chunk neither splits nor hands on: it is bounded already.
class NoSplits : public ScanControl {
 public:
  bool WantsSplit() override { return false; }
  Status HandOff(const KeyRange&, const std::vector<JobSpec>&) override {
    return Status::Internal("a list-scan job hands nothing on");
  }
};

class ListScanHandler : public JobHandler {
 public:
  std::string_view name() const override { return kListScanKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    std::optional<ListScanRows> inventory_rows;  // an inventory run's chunk: its rows
    std::vector<std::string> keys;                // else a key list's
    if (IsListScanRows(j.spec.payload)) {
      auto decoded = DecodeListScanRows(j.spec.payload);
      if (!decoded.ok()) return FailedAtOnce(decoded.status().WithContext("list-scan"));
      inventory_rows = std::move(decoded).value();
    } else {
      auto decoded = DecodeListScan(j.spec.payload);
      if (!decoded.ok()) return FailedAtOnce(decoded.status().WithContext("list-scan"));
      keys = std::move(decoded).value();
    }
    std::stop_source stop;
    std::stop_callback on_lost(ctx.cancel, [&stop] { stop.request_stop(); });
    std::stop_callback on_stop(ctx.worker_stop, [&stop] { stop.request_stop(); });
    NoSplits control;
    ScanContext scan{
        .run = ctx.run, .options = ctx.options, .control = control, .stats = ctx.stats};
    const std::shared_ptr<RunReport> report = ReportOf(ctx.run);
    const std::shared_ptr<report::JobRows> rows = report ? report->NewRows() : nullptr;
    scan.rows = rows.get();
    JobResult result;
    Status s = (inventory_rows
                    ? ScanRows(scan, std::move(*inventory_rows), result.more, stop.get_token())
                    : ScanKeys(scan, keys, result.more, stop.get_token()))
                   .WithContext("list-scan");
    if (s.ok() && report != nullptr) {  // its skips (job_report.h)
      if (auto r = report->Record(*rows, j)) result.more.push_back(*r);
    }
    result.outcome = OutcomeOf(s, j.attempts);
    if (!s.ok()) result.more.clear();
    return result;
  }
};

}  // namespace

std::shared_ptr<const JobHandler> MakeListScanHandler() {
  return std::make_shared<ListScanHandler>();
}

}  // namespace ferry::jobs
