// Opening a run on a worker, and moving runs between phases.
#include "jobs/worker_internal.h"

namespace ferry::jobs {

Result<std::unique_ptr<RunContext>> OpenRunContext(JobStore& store, RunId run,
                                                   const BackendOpener& opener,
                                                   const WorkerOptions& options,
                                                   transfer::Stats& stats) {
  auto ctx = std::make_unique<RunContext>();
  FERRY_ASSIGN_OR_RETURN(ctx->run, store.GetRun(run));
  FERRY_ASSIGN_OR_RETURN(ctx->options, DecodeRunOptions(ctx->run.spec.options));
  FERRY_ASSIGN_OR_RETURN(ctx->src, opener(ctx->run.spec.source, false));
  FERRY_ASSIGN_OR_RETURN(ctx->dst, opener(ctx->run.spec.destination, true));
  FERRY_RETURN_IF_ERROR(ctx->src->Check({}).WithContext("source"));
  FERRY_RETURN_IF_ERROR(ctx->dst->Check({}).WithContext("destination"));
  FERRY_ASSIGN_OR_RETURN(
      ctx->filter, plan::Filter::Make(ctx->options.filter, std::chrono::system_clock::now()));
  transfer::TransferOptions t;
  t.concurrency = options.concurrency;
  t.memory_budget = options.memory_budget;
  t.multipart_threshold = ctx->options.multipart_threshold;
  t.part_size = ctx->options.part_size;
  t.server_side_copy_limit = ctx->options.server_side_copy_limit;
  t.storage_class = ctx->options.storage_class;
  t.verbose = options.verbose;
  t.decide = ctx->options.decide;
  ctx->engine = std::make_unique<transfer::TransferEngine>(t, *ctx->src, *ctx->dst, stats);
  return ctx;
}

Result<RunProgress> Worker::AdvanceRun(JobStore& store, RunId run) {
  auto counts = store.CountJobs(run);
  // A run purged while it was worked on (`ferry jobs purge --dead`) has ended.
  if (counts.status().code() == ErrorCode::kNotFound) return RunProgress::kBlocked;
  FERRY_ASSIGN_OR_RETURN(RunCounts c, std::move(counts));
  // A run that has ended stays where it is. A failed one goes on only when a Redrive gives it
  // work again (which makes it kScanning): without that, a dead job removed by a purge would
  // look like no dead job at all, and the run would unpark its deletes.
  if (c.state == RunState::kFailed) return RunProgress::kBlocked;
  if (c.state == RunState::kDone) return RunProgress::kDone;
  auto active = [&](JobKind k) {
    const auto i = static_cast<size_t>(k);
    return c.by_kind[i][static_cast<size_t>(JobState::kQueued)] +
           c.by_kind[i][static_cast<size_t>(JobState::kLeased)];
  };
  auto dead = [&](JobKind k) {
    return c.by_kind[static_cast<size_t>(k)][static_cast<size_t>(JobState::kDead)];
  };
  if (active(JobKind::kScan) + active(JobKind::kTransfer) > 0) return RunProgress::kWorking;
  if (dead(JobKind::kScan) + dead(JobKind::kTransfer) > 0) {
    // Deletes stay parked: a run that did not copy everything must not delete anything.
    FERRY_RETURN_IF_ERROR(store.SetRunState(run, RunState::kFailed));
    return RunProgress::kBlocked;
  }
  if (active(JobKind::kDelete) > 0) {
    if (c.state != RunState::kDeleting) {  // unpark first: a crash in between is harmless
      FERRY_RETURN_IF_ERROR(store.Unpark(run, JobKind::kDelete).status());
      FERRY_RETURN_IF_ERROR(store.SetRunState(run, RunState::kDeleting));
    }
    return RunProgress::kWorking;
  }
  if (dead(JobKind::kDelete) > 0) {
    FERRY_RETURN_IF_ERROR(store.SetRunState(run, RunState::kFailed));
    return RunProgress::kBlocked;
  }
  FERRY_RETURN_IF_ERROR(store.SetRunState(run, RunState::kDone));
  return RunProgress::kDone;
}

bool IsTransient(const Status& s) {
  // The one classification (base/status.h): access denied, bad input, a missing bucket fail
  // the job at once; a changed source, a corrupted transfer, throttling are retried.
  return IsRetryable(s);
}

}  // namespace ferry::jobs
