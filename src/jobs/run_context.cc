// Opening a run on a worker, and moving runs between phases.
#include <algorithm>
#include <map>

#include "jobs/delete_guard.h"
#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/kinds/run_hook.h"
#include "jobs/worker_internal.h"
#include "obs/log.h"

namespace ferry::jobs {
namespace {

// --backup-dir of the run (RunOptions::backup_dir): its location opened through this worker's
// opener, where it must be able to copy from the destination on the server (the command
// checked that on its machine; a worker with other remotes may not: it cannot serve the run).
Status OpenBackupDir(RunContext& ctx, const BackendOpener& opener, transfer::Stats& stats) {
  if (ctx.options.backup_dir.empty()) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(ctx.backup_location, opener(ctx.options.backup_dir, true));
  if (!ctx.backup_location->CanCopyFrom(*ctx.dst)) {
    return Status::InvalidArgument("--backup-dir " + ctx.options.backup_dir + " of run " +
                                   std::to_string(ctx.run.id) + " cannot copy from " +
                                   ctx.dst->Describe() + " on the server here");
  }
  ctx.backup = std::make_unique<transfer::BackupDir>(
      transfer::BackupDirOptions{.backup = ctx.backup_location.get(),
                                 .suffix = ctx.options.backup_suffix},
      *ctx.dst, stats);
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<RunContext>> OpenRunContext(JobStore& store, RunId run,
                                                   const BackendOpener& opener,
                                                   const WorkerOptions& options,
                                                   const KindRegistry& kinds,
                                                   transfer::Stats& stats) {
  auto ctx = std::make_unique<RunContext>();
  FERRY_ASSIGN_OR_RETURN(ctx->run, store.GetRun(run));
  FERRY_ASSIGN_OR_RETURN(ctx->options, DecodeRunOptions(ctx->run.spec.options));
  FERRY_ASSIGN_OR_RETURN(ctx->src, opener(ctx->run.spec.source, false));
  FERRY_ASSIGN_OR_RETURN(ctx->dst, opener(ctx->run.spec.destination, true));
  const bool checked = options.only_run_checked && options.only_run == run;
  if (!checked) {
    FERRY_RETURN_IF_ERROR(ctx->src->Check({}).WithContext("source"));
    FERRY_RETURN_IF_ERROR(ctx->dst->Check({}).WithContext("destination"));
  }
  Clock& clock = ClockOr(options.clock);
  FERRY_ASSIGN_OR_RETURN(ctx->filter, plan::Filter::Make(ctx->options.filter, clock.Now()));
  FERRY_RETURN_IF_ERROR(OpenBackupDir(*ctx, opener, stats));
  // The hooks open with the worker's opener (locations beyond the two sides: staging).
  ctx->opener = opener;
  const RunOpening opening{.store = store, .options = options, .checked = checked};
  for (const auto& hook : kinds.run_hooks()) {
    FERRY_ASSIGN_OR_RETURN(bool serves, hook->Open(*ctx, opening));
    if (serves) {
      ctx->hook = hook.get();
      break;
    }
  }
  if (ctx->hook == nullptr && ctx->options.transport.enabled()) {
    return Status::NotSupported("run " + std::to_string(run) +
                                " is a compressed run: this worker knows no compressed transport");
  }
  FERRY_CHECK(options.executor != nullptr);  // set by the Worker
  transfer::TransferOptions t;
  t.multipart_threshold = ctx->options.multipart_threshold;
  t.part_size = ctx->options.part_size;
  t.server_side_copy_limit = ctx->options.server_side_copy_limit;
  t.storage_class = ctx->options.storage_class;
  t.preserve_lock = ctx->options.preserve_lock;
  t.preserve_acl = ctx->options.preserve_acl;
  t.acl = ctx->options.acl;
  t.checksum_algorithm = ctx->options.checksum_algorithm;
  t.overrides = ctx->options.overrides;
  t.restore = ctx->options.restore;
  t.restore.clock = options.clock;
  t.verbose = options.verbose;
  // The transfer kind calls the destination's Sync before a job's outcome records its objects
  // done (the engine serves only that kind).
  t.defer_durability = true;
  t.decide = ctx->options.decide;
  // --backup-dir: a delete the engine makes keeps its object first (the transfer kind fences
  // each overwrite with RunContext::backup, the delete job each delete).
  if (ctx->backup != nullptr) t.before_delete = ctx->backup->BeforeDelete();
  // --report: every row the engine makes goes to the job whose object it is (job_report.h).
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<RunReport> report,
                         OpenRunReport(*ctx, ClockOr(options.clock)));
  if (report != nullptr && ctx->hook != nullptr) {
    return Status::NotSupported("run " + std::to_string(run) +
                                ": --report does not go with a run served by a run hook");
  }
  t.report = report.get();  // kept alive by the context's kind state
  if (options.cutoff != nullptr) {
    // The command's --max-transfer (WorkerOptions::cutoff): asked as each copy starts; the cut
    // cancels the copies in flight in hard mode, and what it kept from starting or cancelled
    // is left (TransferOptions::cut), for the transfer job to give back.
    transfer::Cutoff* cutoff = options.cutoff;
    RunContext* run_ctx = ctx.get();
    t.may_start = [cutoff, run_ctx](const transfer::CopyRequest& r) {
      if (cutoff->MayStart(r.src.size)) return true;
      if (cutoff->ShouldCancel() && run_ctx->engine != nullptr) run_ctx->engine->Cancel();
      return false;
    };
    t.cut = [cutoff] { return cutoff->cut(); };
  }
  ctx->engine = std::make_unique<transfer::TransferEngine>(*options.executor, t, *ctx->src,
                                                          *ctx->dst, stats);
  return ctx;
}

namespace {

// Whether the deletes of `run` may be unparked now: its --max-delete (RunOptions) against the
// deletes its scans planned. Past it the run fails with its deletes parked and this says so,
// whichever worker or command moves the run on. Counts are final here: every scan is done.
// Unparks the jobs of `run` of the kinds that run when a run fails (JobHandler::
// runs_when_failed: its report's summary) that are still to run; whether there were any.
Result<bool> UnparkFinishers(JobStore& store, RunId run, const RunCounts& c,
                             const KindRegistry& registry) {
  bool finishing = false;
  for (const auto& [kind, k] : c.by_kind) {
    if (k.active() == 0 || !registry.RunsWhenFailed(kind)) continue;
    FERRY_RETURN_IF_ERROR(store.Unpark(run, kind).status());
    finishing = true;
  }
  return finishing;
}

// Whether the deletes of `run` may run. Past its --max-delete, the run fails, once its
// finishers (its report's summary) have run: until then `finishing` is set and it stays.
Result<bool> DeletesWithinLimit(JobStore& store, RunId run, const RunCounts& counts,
                                const KindRegistry& registry, bool& finishing) {
  FERRY_ASSIGN_OR_RETURN(jobs::Run r, store.GetRun(run));
  // Options this ferry cannot read carry no limit it knows of (its scans could not have run:
  // OpenRunContext decodes them the same way).
  auto options = DecodeRunOptions(r.spec.options);
  if (!options.ok()) return true;
  const std::optional<std::string> why = DeleteGuardRefusal(*options, counts);
  if (!why) return true;
  FERRY_ASSIGN_OR_RETURN(finishing, UnparkFinishers(store, run, counts, registry));
  if (finishing) return false;
  FERRY_RETURN_IF_ERROR(store.SetRunState(run, RunState::kFailed));
  // Short: the command that runs it prints the reason as its error (`ferry jobs` shows it).
  obs::Log(obs::Level::kWarn, "run " + std::to_string(run) +
                                  " stopped before its deletes, past its --max-delete: none made");
  return false;
}

}  // namespace

Result<RunProgress> Worker::AdvanceRun(JobStore& store, RunId run, const KindRegistry* kinds,
                                       Clock& clock) {
  const KindRegistry& registry = kinds != nullptr ? *kinds : KindRegistry::Builtin();
  auto counts = store.CountJobs(run);
  // A run purged while it was worked on (`ferry jobs purge --dead`) has ended.
  if (counts.status().code() == ErrorCode::kNotFound) return RunProgress::kBlocked;
  FERRY_ASSIGN_OR_RETURN(RunCounts c, std::move(counts));
  // A run that has ended stays where it is. A failed one goes on only when a Redrive gives it
  // work again (which makes it kRunning): without that, a dead job removed by a purge would
  // look like no dead job at all, and the run would unpark its later phases.
  if (c.state == RunState::kFailed) return RunProgress::kBlocked;
  if (c.state == RunState::kDone) return RunProgress::kDone;
  // The run's jobs by phase, in phase order.
  struct PhaseCounts {
    uint64_t active = 0;  // queued (parked included) or leased
    uint64_t dead = 0;
    std::vector<std::string> kinds;
  };
  std::map<int, PhaseCounts> phases;
  for (const auto& [kind, k] : c.by_kind) {
    // An event's jobs come at any time in a continuous run: no round waits for them.
    if (c.continuous && registry.OutsideRounds(kind)) continue;
    PhaseCounts& p = phases[registry.PhaseOf(kind)];
    p.active += k.active();
    p.dead += k.of(JobState::kDead);
    p.kinds.push_back(kind);
  }
  for (const auto& [phase, p] : phases) {
    if (p.active > 0) {
      if (phase > c.phase) {  // unpark first: a crash in between is harmless
        // The --max-delete guard, on the plan's count, before a single delete can run.
        if (std::any_of(p.kinds.begin(), p.kinds.end(), GuardedDeleteKind)) {
          bool finishing = false;
          FERRY_ASSIGN_OR_RETURN(bool within,
                                 DeletesWithinLimit(store, run, c, registry, finishing));
          if (!within) return finishing ? RunProgress::kWorking : RunProgress::kBlocked;
        }
        for (const std::string& kind : p.kinds) {
          FERRY_RETURN_IF_ERROR(store.Unpark(run, kind).status());
        }
        FERRY_RETURN_IF_ERROR(store.SetRunPhase(run, phase));
      }
      return RunProgress::kWorking;
    }
    if (p.dead > 0) {
      // A continuous run (ferry serve) never fails: its dead jobs stay for the record and a
      // redrive, and its next round does their work again.
      if (c.continuous) continue;
      // Later phases stay parked: a run that did not copy everything must not delete anything.
      // Only the kinds that run when a run fails (its report's summary) are unparked first, and
      // the run fails once they have run.
      FERRY_ASSIGN_OR_RETURN(bool finishing, UnparkFinishers(store, run, c, registry));
      if (finishing) return RunProgress::kWorking;
      FERRY_RETURN_IF_ERROR(store.SetRunState(run, RunState::kFailed));
      return RunProgress::kBlocked;
    }
  }
  FERRY_ASSIGN_OR_RETURN(jobs::Run r, store.GetRun(run));
  if (r.spec.continuous) {
    // Never done: the next round starts with a scan of the whole key space, after the interval.
    auto options = DecodeRunOptions(r.spec.options);
    JobSpec first = FirstScanJob(run, options.ok() ? options->max_attempts : 5);
    first.not_before = clock.Now() + r.spec.rescan_interval;
    FERRY_RETURN_IF_ERROR(store.Restart(run, first, registry.OutsideRoundKinds()).status());
    return RunProgress::kWorking;
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
