// ferry cp / ferry sync as a durable run (app::RunDurable, the default): the run's options from
// the command line, the state store (an automatic state file or --state), the engine of the
// worker that runs it here, the uploads of killed runs aborted, --max-duration's deadline, and
// the summary of what the run did. copy.cc chooses it; copy_internal.h has its contract.
#include <chrono>
#include <cstdio>
#include <memory>

#include "app/config_notify.h"
#include "app/durable.h"
#include "app/engine.h"
#include "app/report_open.h"
#include "app/state_files.h"
#include "app/views.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/copy_internal.h"
#include "cli/commands/metrics.h"
#include "obs/log.h"
#include "state/state_url.h"
#include "transfer/progress.h"
#include "transport/kinds/kinds.h"

namespace ferry::cli {
namespace {

jobs::RunOptions ToRunOptions(const CopyArgs& a, const transfer::SyncOptions& o,
                              const plan::FilterOptions& filter) {
  jobs::RunOptions r;
  r.command = a.move ? "move" : a.sync ? "sync" : "cp";
  r.delete_extra = a.delete_extra;
  r.max_delete = o.max_delete;
  r.filter = filter;
  r.decide = o.transfer.decide;
  r.multipart_threshold = o.transfer.multipart_threshold;
  r.part_size = o.transfer.part_size;
  r.server_side_copy_limit = o.transfer.server_side_copy_limit;
  r.storage_class = o.transfer.storage_class;
  r.preserve_lock = o.transfer.preserve_lock;
  r.preserve_acl = o.transfer.preserve_acl;
  r.acl = o.transfer.acl;
  r.checksum_algorithm = o.transfer.checksum_algorithm;
  r.overrides = o.transfer.overrides;
  r.max_attempts = a.max_attempts;
  r.part_jobs_min_parts = a.part_jobs_min_parts;
  r.restore = o.transfer.restore;  // archived sources
  r.restore.clock = nullptr;
  r.backup_dir = a.backup.dir;  // checked by the command (move.h), opened by each worker
  r.backup_suffix = a.backup.suffix;
  r.delete_empty_src_dirs = a.move && a.delete_empty_src_dirs;
  if (a.compress) {
    r.transport.staging = a.staging;
    r.transport.region = a.unpack_region;
    r.transport.level = a.compress_level;
    // What the adaptive level weighs: the configured price of the link the archives cross.
    r.transport.price_per_gib = a.cost.per_gb;
    r.transport.price_per_cpu_second = a.cost.prices.per_cpu_second;
    // No state store shared with the destination side: it lists the staging prefix.
    r.transport.unpack_jobs = !(a.pack_only && a.state.empty());
    if (!a.archive_size.empty()) {
      if (auto v = plan::ParseSize(a.archive_size); v.ok()) r.transport.batch_bytes = *v;
    }
  }
  return r;
}

// Uploads that ferry started on this destination and that no run will resume any more (a
// killed run's, older than --abort-uploads-after) cost storage: abort them. Only uploads the
// state store recorded are candidates (app::AbortAbandonedUploads).
void AbortAbandoned(const CopyArgs& a, Context& ctx, storage::Backend& dst,
                    jobs::JobStore& store) {
  auto age = plan::ParseAge(a.abort_uploads_after);
  if (!age.ok()) return;  // checked by Run
  auto n = app::AbortAbandonedUploads(store, a.dst, dst, std::chrono::system_clock::now() - *age,
                                      ctx.stop);
  if (n.ok() && *n > 0) {
    obs::Log(obs::Level::kInfo, "aborted abandoned uploads",
             {{"uploads", *n}, {"older_than", a.abort_uploads_after}});
  }
}

// --pack-only: how the staged archives get unpacked, on stderr (not with --json). `done`: a
// run without a state store that packed everything (`ferry unpack` lists the staging prefix);
// else the run's unpack jobs wait for `ferry worker --role unpack` (one per region).
void PrintUnpackHint(const CopyArgs& a, const DurableSummary& d, bool done) {
  if (a.json) return;
  if (done) {
    if (!a.state.empty()) return;
    std::fprintf(stderr, "archives staged in %s; unpack with: ferry unpack %s %s\n",
                 a.staging.c_str(), a.staging.c_str(), a.dst.c_str());
    return;
  }
  const bool regions = a.unpack_region.find(',') != std::string::npos;
  const std::string region = regions                   ? " --region R"
                             : a.unpack_region.empty() ? ""
                                                       : " --region " + a.unpack_region;
  const std::string per = regions ? " (one per region R of " + a.unpack_region + ")" : "";
  std::fprintf(stderr, "run %lld packed; unpack with: ferry worker --role unpack --state %s%s%s\n",
               static_cast<long long>(d.run), d.state.c_str(), region.c_str(), per.c_str());
}

// The run's options beside the copy's: the report's location (checked now, before the run, in
// one line) and a key list's jobs.
Status DescribeRun(const CopyArgs& a, Context& ctx, app::Wiring& wiring,
                   app::FilesFrom* files_from, app::DurableRunRequest& req) {
  if (a.report.settings.wanted()) {  // every worker of the run writes its jobs' parts there
    auto checked = app::OpenReport::Open(wiring, a.report.settings, {}, ctx.stop);
    if (!checked.ok()) return checked.status();
    req.options.report = {.location = a.report.settings.location,
                          .format = a.report.settings.format,
                          .level = a.report.settings.level};
  }
  if (files_from != nullptr) {
    // The list's sorted keys become the run's list-scan jobs, stored with it: a rerun resumes
    // from them (the list is not read into the run again), workers anywhere read them there.
    req.options.files_from = a.files_from;
    req.first_jobs = [files_from, attempts = a.max_attempts] {
      return files_from->ListScanJobs(attempts);
    };
  }
  return Status::Ok();
}

// What the worker of this process runs: everything, or with --pack-only the packing only (workers
// near the destination unpack); with --compress it unpacks for its region too.
void SetWorkerKinds(const CopyArgs& a, jobs::WorkerOptions& worker) {
  if (a.compress && a.pack_only) {
    worker.kinds = {jobs::kScanKind, jobs::kTransferKind, transport::kPackKind};
    worker.exit_when_kinds_drained = true;
  } else if (a.compress) {
    worker.region = a.unpack_region;
  }
}

// A durable run that ran here and returned: what the summary and the exit status say.
struct DurableEnd {
  const app::DurableRunResult& r;
  transfer::Stats& stats;
  const DurableDeadline& deadline;
  const DurableTransferCut& transfer_cut;
  std::unique_ptr<jobs::JobStore>& store;  // closed here, before the state file may go
  const std::string& state;
  bool automatic = false;  // the state file is ferry's own (no --state)
};

int FinishDurableRun(const CopyArgs& a, Context& ctx, app::Wiring& wiring, DurableEnd end) {
  const app::DurableRunResult& r = end.r;
  DurableSummary d;
  d.run = r.run;
  d.resumed = r.resumed;
  d.dead_jobs = r.counts.jobs[static_cast<size_t>(jobs::JobState::kDead)];
  d.state_transactions = end.store->transactions();
  d.state = state::RedactUrl(end.state);
  const bool done = r.progress == jobs::RunProgress::kDone;
  // A notification not delivered yet lives in the state file: kept for the next run or a worker.
  d.kept = app::KeepStateFile(end.automatic, done) || r.notify_pending > 0;
  uint64_t failed = 0;
  std::vector<transfer::Failure> failures = app::DeadObjects(*end.store, r.run, &failed);
  transfer::SyncResult summary;
  summary.seconds = r.seconds;
  summary.deletes_skipped = !done && end.stats.deletes_planned > 0 && r.deletes_refused.empty();
  // A move that did not finish deleted no source object, unless its delete phase began.
  if (a.move && !done && end.stats.sources_deleted == 0 && r.deletes_refused.empty()) {
    summary.deletes_skipped = true;
  }
  if (ctx.stop.stop_requested()) summary.status = Status::Cancelled("interrupted; rerun to resume");
  if (end.deadline.passed() && !done) {
    summary.status = Status::Cancelled(end.deadline.Describe());
    summary.cutoff = transfer::CutoffReason::kMaxDuration;
  } else if (end.transfer_cut.cut() && !done) {
    summary.status = Status::Cancelled(end.transfer_cut.Describe());
    summary.cutoff = end.transfer_cut.reason();
  }
  end.store.reset();
  if (!d.kept) app::RemoveStateFile(end.state);  // a finished automatic run leaves nothing behind
  end.stats.request_retries = wiring.RequestRetries();
  PrintSummary(a, end.stats, summary, failures, failed, &d);
  if (!summary.status.ok()) ReportError(summary.status);
  if (!r.report.ok()) {  // --report: a part lost, or no summary (docs/design/report.md)
    ReportError(r.report);
    if (done) return 1;
  }
  if (!r.deletes_refused.empty()) return ReportError(Status::InvalidArgument(r.deletes_refused));
  if (a.pack_only && !done && d.dead_jobs == 0 && summary.status.ok()) {
    PrintUnpackHint(a, d, done);  // packed: the run goes on in the unpack workers
    return 0;
  }
  if (a.pack_only && done) PrintUnpackHint(a, d, done);
  return done ? 0 : CutoffExitCode(summary.cutoff, 1);
}

}  // namespace

int RunWithState(const CopyArgs& a, Context& ctx, app::Wiring& wiring, storage::Backend& dst,
                 const transfer::SyncOptions& options, const plan::FilterOptions& filter,
                 app::FilesFrom* files_from) {
  if (files_from != nullptr && a.compress) {
    return ReportError(Status::InvalidArgument("--files-from does not go with --compress yet"));
  }
  if (options.cutoff.max_transfer > 0 && a.compress) {  // pack jobs are not cut (yet)
    return ReportError(Status::InvalidArgument(
        "--max-transfer does not go with a durable --compress run yet: add --no-state, or run "
        "without it"));
  }
  if (!a.backup.dir.empty() && (a.compress || a.part_jobs_min_parts > 0)) {
    // pack and unpack jobs, and part jobs' completion, keep no backups yet
    return ReportError(Status::InvalidArgument(
        std::string("--backup-dir does not go with ") +
        (a.compress ? "--compress" : "--part-jobs-min-parts") +
        " yet: run without it, or without --backup-dir"));
  }
  if (a.report.settings.wanted() && a.compress) {  // pack and unpack jobs write no rows yet
    return ReportError(Status::InvalidArgument(
        "--report does not go with --compress yet: run without it, or --no-state"));
  }
  app::DurableRunRequest req;
  if (Status s = ApplyListingOptions(a.listing, req.worker); !s.ok()) return ReportError(s);
  const bool automatic = a.state.empty();
  const std::string state =
      automatic ? app::AutoStatePath(a.move ? "move" : a.sync ? "sync" : "cp", a.src, a.dst)
                : a.state;
  auto store = jobs::OpenJobStore(state);
  if (!store.ok()) return ReportError(store.status());
  if (!a.detach) AbortAbandoned(a, ctx, dst, **store);
  req.source = a.src;
  req.destination = a.dst;
  for (const std::string& url : a.notify) {  // checked before the run (copy.cc)
    if (auto t = app::ParseNotifyFlag(url); t.ok()) req.notify.push_back(*t);
  }
  req.options = ToRunOptions(a, options, filter);
  if (Status s = DescribeRun(a, ctx, wiring, files_from, req); !s.ok()) return ReportError(s);
  req.worker.owner = jobs::DefaultOwner();
  // The process's one executor, for the worker that runs the run here (none when detached).
  std::unique_ptr<app::Engine> engine;
  if (!a.detach) {
    auto opened = app::Engine::Open(CopyEngine(a, options.transfer.part_size), wiring.config());
    if (!opened.ok()) return ReportError(opened.status());
    engine = std::move(opened).value();
    req.worker.concurrency = engine->requests();
    req.worker.executor = &engine->executor();
  }
  req.worker.verbose = ctx.global.verbose;
  req.worker.only_run_checked = true;  // Run checked a.src, a.dst and the staging just now
  SetWorkerKinds(a, req.worker);
  req.detach = a.detach;
  req.restart = a.restart;
  if (!automatic) req.state_for_messages = state::RedactUrl(state);
  transfer::Stats stats;
  StatsMetrics stats_metrics(stats);  // the registry reads the run's counters (metrics.h)
  std::unique_ptr<TransportCostMetrics> cost_metrics;
  if (a.compress) cost_metrics = std::make_unique<TransportCostMetrics>(stats, a.cost);
  std::unique_ptr<transfer::ProgressLine> progress;
  if (options.progress && !a.detach) {
    progress = std::make_unique<transfer::ProgressLine>(stats, nullptr);
  }
  // --max-duration (hard): the run stops as on Ctrl-C at its deadline, unfinished and resumable.
  const bool hard = options.cutoff.mode == transfer::CutoffMode::kHard;
  DurableDeadline deadline(hard ? options.cutoff.max_duration : std::chrono::milliseconds(0),
                           ctx.stop, SystemClock::Default());
  // --max-transfer, a soft or cautious --max-duration: the worker here stops at them, its run
  // unfinished and resumable.
  DurableTransferCut transfer_cut(options.cutoff, SystemClock::Default());
  req.worker.cutoff = transfer_cut.cutoff();
  auto r = app::RunDurable(**store, wiring, req, stats, deadline.token());
  progress.reset();
  if (!r.ok() && deadline.passed()) {
    ReportError(Status::Cancelled(deadline.Describe()));
    return kExitMaxDuration;
  }
  if (!r.ok()) return ReportError(r.status());
  if (a.detach) {
    std::fprintf(stderr, "run %lld queued; workers: ferry worker --state %s\n",
                 static_cast<long long>(r->run), state::RedactUrl(state).c_str());
    return 0;
  }
  return FinishDurableRun(a, ctx, wiring,
                          DurableEnd{.r = *r,
                                     .stats = stats,
                                     .deadline = deadline,
                                     .transfer_cut = transfer_cut,
                                     .store = *store,
                                     .state = state,
                                     .automatic = automatic});
}

}  // namespace ferry::cli
