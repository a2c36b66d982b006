// The "delete" kind: deletes a batch of destination-only keys that the source still lacks
// (delete_job.cc). Phase 1: its jobs wait, parked, until every scan and transfer of the run is
// done, so that a run that did not copy everything deletes nothing.
#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/worker_internal.h"

namespace ferry::jobs {
namespace {

class DeleteHandler : public JobHandler {
 public:
  std::string_view name() const override { return kDeleteKind; }
  // The counts parked beside the deletes would otherwise hold the run (delete_guard.h).
  std::vector<std::string_view> companions() const override { return {kDeleteScopeKind}; }
  int phase() const override { return 1; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    // The worker's stop or the loss of the lease stops the batch.
    std::stop_source stop;
    std::stop_callback on_lost(ctx.cancel, [&stop] { stop.request_stop(); });
    std::stop_callback on_stop(ctx.worker_stop, [&stop] { stop.request_stop(); });
    auto keys = DecodeDelete(j.spec.payload);
    const std::shared_ptr<RunReport> report = ReportOf(ctx.run);
    const std::shared_ptr<report::JobRows> rows = report ? report->NewRows() : nullptr;
    Status s = keys.ok() ? RunDeleteJob(ctx.run, std::move(*keys), ctx.stats, stop.get_token(),
                                        rows.get())
                         : keys.status();
    JobResult result = EndedWith(s.WithContext("delete"), j.attempts);
    if (s.ok() && report != nullptr) {  // its deletes (job_report.h)
      if (auto r = report->Record(*rows, j)) result.records.push_back(*r);
    }
    return result;
  }
};

// "delete-scope": the destination objects in scope of one scan chunk, counted in the job's
// `objects` for `--max-delete P%` (Worker::AdvanceRun reads their sum before it unparks the
// deletes). Parked with the deletes of its region, so that whoever serves those finishes it.
class DeleteScopeHandler : public JobHandler {
 public:
  std::string_view name() const override { return kDeleteScopeKind; }
  int phase() const override { return 1; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return false; }
  JobResult Run(JobContext&) const override { return JobResult{}; }
};

}  // namespace

std::shared_ptr<const JobHandler> MakeDeleteHandler() {
  return std::make_shared<DeleteHandler>();
}

std::shared_ptr<const JobHandler> MakeDeleteScopeHandler() {
  return std::make_shared<DeleteScopeHandler>();
}

}  // namespace ferry::jobs
