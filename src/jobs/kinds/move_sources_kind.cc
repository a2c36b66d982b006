// The "move-sources" kind: a durable `ferry move`'s source deletes (jobs/move_sources.h).
// Phase 1: parked until every scan and transfer of the run is done, and unparked only within
// the run's --max-delete (jobs/delete_guard.h). Each job looks at the source again and deletes
// only the keys still holding the bytes its run proved at the destination; what its run could
// not prove, or what changed since, stays on the source and ends the job dead with the keys
// named, once its deletes are made, so that the run fails saying so.
#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/move_sources.h"
#include "jobs/worker_internal.h"
#include "obs/log.h"
#include "transfer/report_rows.h"

namespace ferry::jobs {
namespace {

// The error a job with kept source objects dies with: the first one named, and how many more.
std::string KeptError(const std::vector<std::pair<std::string, std::string>>& kept) {
  std::string e = "move: " + std::to_string(kept.size()) + " source object" +
                  (kept.size() == 1 ? "" : "s") + " kept (" + kept.front().first +
                  ": kept on the source: " + kept.front().second;
  if (kept.size() > 1) e += "; and " + std::to_string(kept.size() - 1) + " more";
  return e + ")";
}

class MoveSourcesHandler : public JobHandler {
 public:
  std::string_view name() const override { return kMoveSourcesKind; }
  // A percentage's base is parked beside them (delete_guard.h).
  std::vector<std::string_view> companions() const override { return {kDeleteScopeKind}; }
  int phase() const override { return 1; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    std::stop_source stop;
    std::stop_callback on_lost(ctx.cancel, [&stop] { stop.request_stop(); });
    std::stop_callback on_stop(ctx.worker_stop, [&stop] { stop.request_stop(); });
    auto payload = DecodeMoveSources(j.spec.payload);
    if (!payload.ok()) return FailedAtOnce(payload.status());
    // Current facts: only the keys still holding the object proved are deleted.
    auto now = transfer::LookAgainAtSources(*ctx.run.src, std::move(payload->moved),
                                            stop.get_token());
    if (!now.ok()) {
      return EndedWith(now.status().WithContext("move: looking at the source again"),
                       j.attempts);
    }
    if (!now->doomed.empty()) {
      if (Status s = ctx.run.src->DeleteMany(now->doomed, stop.get_token()); !s.ok()) {
        return EndedWith(s.WithContext("move: delete from the source"), j.attempts);
      }
    }
    // --delete-empty-src-dirs: the folders those deletes emptied go too (a folder source)
    if (ctx.run.options.delete_empty_src_dirs) ctx.run.src->RemoveEmptiedFolders(now->doomed);
    ctx.stats.sources_deleted += now->doomed.size();
    std::vector<std::pair<std::string, std::string>> kept = std::move(payload->kept);
    kept.insert(kept.end(), now->kept.begin(), now->kept.end());
    const std::shared_ptr<RunReport> report = ReportOf(ctx.run);
    const std::shared_ptr<report::JobRows> rows = report ? report->NewRows() : nullptr;
    for (std::string& key : now->doomed) {
      if (rows) rows->Add(transfer::SourceDeleteRow(std::move(key), Status::Ok(), false));
    }
    for (const auto& [key, why] : kept) {
      const Status s = Status::FailedPrecondition("kept on the source: " + why);
      ctx.stats.sources_kept += 1;
      ctx.stats.AddFailure(key, "move", s);
      obs::Log(obs::Level::kWarn, "not moved", {{"key", key}, {"reason", s.message()}});
      if (rows) rows->Add(report::FailedRow(key, 0, "move", s));
    }
    JobResult result;
    if (!kept.empty()) {
      result = FailedAtOnce(Status::FailedPrecondition(KeptError(kept)));
      // The dead job keeps what stayed, each with why (ferry jobs dlq, the command's summary:
      // app::DeadObjects); its deletes are made.
      result.outcome.payload = EncodeMoveSources({.moved = {}, .kept = kept});
    }
    if (report != nullptr) {
      if (auto r = report->Record(*rows, j)) result.records.push_back(*r);
    }
    return result;
  }
};

}  // namespace

std::shared_ptr<const JobHandler> MakeMoveSourcesHandler() {
  return std::make_shared<MoveSourcesHandler>();
}

}  // namespace ferry::jobs
