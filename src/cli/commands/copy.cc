// ferry cp SRC DST / ferry sync SRC DST / ferry move SRC DST: option parsing, then either a
// durable run (app::RunDurable, the default) or an in-memory one (transfer::RunSync,
// --no-state or --dry-run; a move always: move.h); the summary is printed by summary.cc.
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/durable.h"
#include "app/engine.h"
#include "app/files_from.h"
#include "app/notify_run.h"
#include "app/state_files.h"
#include "app/views.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/copy_internal.h"
#include "cli/commands/metrics.h"
#include "cli/engine_options.h"
#include "obs/log.h"
#include "state/state_url.h"
#include "plan/filter.h"
#include "storage/access.h"
#include "transfer/adaptive.h"
#include "transfer/progress.h"
#include "transport/kinds/kinds.h"

namespace ferry::cli {

// cp and sync: without a number (flag or [transfer]), the requests in flight adapt to the link,
// up to 64 (transfer/adaptive.h); the memory holds one part at least.
app::EngineSettings CopyEngine(const CopyArgs& a, uint64_t part_size) {
  return WithEngineArgs(
      app::EngineSettings{.profile = app::EngineProfile::kRequests,
                          .default_concurrency = transfer::kAdaptiveMaxConcurrency,
                          .adaptive_allowed = true,
                          .min_memory = part_size,
                          .min_memory_for = "--part-size"},
      a.engine);
}

namespace {

Status ApplySize(const std::string& text, const std::optional<std::string>& fallback,
                 const char* flag, uint64_t& out) {
  const std::string& t = text.empty() ? fallback.value_or("") : text;
  if (t.empty()) return Status::Ok();
  auto v = plan::ParseSize(t);
  if (!v.ok()) return v.status().WithContext(flag);
  out = *v;
  return Status::Ok();
}

Result<transfer::SyncOptions> BuildOptions(const CopyArgs& a, const app::Config& config,
                                           bool verbose) {
  transfer::SyncOptions o;
  transfer::TransferOptions& t = o.transfer;
  FERRY_RETURN_IF_ERROR(CheckReportArgs(a.report, /*durable=*/!a.no_state && !a.dry_run));
  FERRY_RETURN_IF_ERROR(
      ApplySize(a.part_size, config.transfer.part_size, "--part-size", t.part_size));
  FERRY_RETURN_IF_ERROR(ApplySize(a.threshold, config.transfer.multipart_threshold,
                                  "--multipart-threshold", t.multipart_threshold));
  if (t.part_size < (5u << 20)) return Status::InvalidArgument("--part-size: at least 5MiB");
  if (a.part_jobs_min_parts < 0 || a.part_jobs_min_parts == 1) {
    return Status::InvalidArgument("--part-jobs-min-parts: 0 (never) or at least 2");
  }
  if (a.part_jobs_min_parts > 0 && (a.no_state || a.dry_run || a.move)) {
    return Status::InvalidArgument("--part-jobs-min-parts needs a durable run (not --no-state, "
                                   "not --dry-run, not ferry move)");
  }
  // --concurrency and --memory checked here, before anything is opened; the engine is opened
  // by the run (RunWithState, RunInMemory).
  FERRY_RETURN_IF_ERROR(app::ResolveEngine(CopyEngine(a, t.part_size), config.transfer).status());
  t.storage_class = a.storage_class;
  t.preserve_lock = a.preserve_lock;
  t.preserve_acl = a.preserve_acl;
  FERRY_ASSIGN_OR_RETURN(t.acl, storage::ParseGrants(a.grants));
  if (!a.acl.empty()) {
    if (!a.grants.empty()) return Status::InvalidArgument("--acl and --grants exclude each other");
    FERRY_ASSIGN_OR_RETURN(t.acl.canned, storage::ParseCannedAcl(a.acl));
  }
  FERRY_ASSIGN_OR_RETURN(t.checksum_algorithm,
                         app::ParseChecksumAlgorithmFlag(a.write.checksum_algorithm));
  FERRY_ASSIGN_OR_RETURN(t.overrides, app::ParseMetadataFlags(a.write));
  t.dry_run = a.dry_run;
  t.verbose = verbose;
  t.decide.delete_extra = a.delete_extra;
  t.decide.checksum = a.checksum;
  t.decide.size_only = a.size_only;
  t.decide.update_only_newer = a.update;
  FERRY_RETURN_IF_ERROR(ApplyRestoreFlags(a, t.restore));  // archived sources
  if (a.move) {
    FERRY_RETURN_IF_ERROR(ApplyMoveFlags({.max_delete = a.max_delete,
                                          .durable = !a.no_state && !a.dry_run,
                                          .size_only = a.size_only,
                                          .compress = a.compress},
                                         o));
  } else {
    FERRY_RETURN_IF_ERROR(ApplyDeleteFlags(a.delete_extra, a.max_delete, config, o));
  }
  // [sync]'s cutoffs are sync's defaults, as its max_delete is (cutoff.h)
  FERRY_RETURN_IF_ERROR(ApplyCutoffFlags(a.cutoff, a.sync ? &config : nullptr, o.cutoff));
  // A durable run's --max-transfer and --max-duration are its command's worker's
  // (WorkerOptions::cutoff, DurableDeadline).
  if (o.cutoff.any() && !a.no_state && !a.dry_run) {
    const char* flag = o.cutoff.max_transfer > 0 ? "--max-transfer" : "--max-duration";
    if (a.detach) {
      return Status::InvalidArgument(std::string(flag) +
                                     " stops this command's worker: it does not go with "
                                     "--detach (workers run the run without it)");
    }
    // a cut worker claims no part job an owner waits for (a hard deadline stops them all)
    const bool soft_deadline =
        o.cutoff.max_duration.count() > 0 && o.cutoff.mode != transfer::CutoffMode::kHard;
    if (a.part_jobs_min_parts > 0 && (o.cutoff.max_transfer > 0 || soft_deadline)) {
      return Status::InvalidArgument(std::string(flag) +
                                     " does not go with --part-jobs-min-parts yet");
    }
  }
  o.progress = !a.json && !a.no_progress && (a.progress || isatty(STDERR_FILENO));
  return o;
}

// --preserve-lock needs a destination bucket with object lock (archives carry the lock too:
// --compress keeps it), --acl/--grants one that keeps ACLs (S3), and --compress carries no
// ACLs: refused before anything is copied, in one line.
Status CheckAccessFlags(const CopyArgs& a, storage::Backend& src, storage::Backend& dst,
                        std::stop_token stop) {
  const bool acl = !a.acl.empty() || !a.grants.empty();
  if (a.preserve_acl) {
    if (acl) return Status::InvalidArgument("--preserve-acl and --acl/--grants exclude each other");
    if (a.compress) {
      return Status::InvalidArgument("--preserve-acl does not work with --compress (archives "
                                     "carry no ACLs)");
    }
    if (!src.features().acl || !dst.features().acl) {
      return Status::InvalidArgument("--preserve-acl: " +
                                     (src.features().acl ? dst.Describe() : src.Describe()) +
                                     " keeps no ACLs (S3 stores on both sides do)");
    }
  }
  if (acl && a.compress) {
    return Status::InvalidArgument("--acl and --grants do not work with --compress (archives "
                                   "carry no ACLs)");
  }
  if (a.write.any() && a.compress) {
    return Status::InvalidArgument(
        "--checksum-algorithm, --metadata, --content-type and --metadata-directive do not work "
        "with --compress (archives keep each object's own)");
  }
  if (!a.write.checksum_algorithm.empty() && !dst.features().verifies_content_md5) {
    return Status::InvalidArgument("--checksum-algorithm: " + dst.Describe() +
                                   " keeps no additional checksums (an S3 destination does)");
  }
  const bool metadata_flags = !a.write.metadata.empty() || !a.write.content_type.empty() ||
                              !a.write.metadata_directive.empty();
  if (metadata_flags && !dst.features().metadata) {
    return Status::InvalidArgument("--metadata/--content-type/--metadata-directive: " +
                                   dst.Describe() + " keeps no metadata (an S3 destination does)");
  }
  if (acl && !dst.features().acl) {
    return Status::InvalidArgument("--acl/--grants: " + dst.Describe() +
                                   " keeps no ACLs (an S3 destination does)");
  }
  if (!a.preserve_lock) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(bool locked, dst.HasObjectLock(stop));
  if (!locked) {
    return Status::FailedPrecondition(
        "--preserve-lock: destination " + dst.Describe() +
        " has no object lock (create it with ferry mb --object-lock); nothing was copied");
  }
  return Status::Ok();
}

Result<plan::FilterOptions> BuildFilterOptions(const CopyArgs& a) {
  plan::FilterOptions f;
  f.include = a.include;
  f.exclude = a.exclude;
  const auto now = std::chrono::system_clock::now();
  auto size = [](const std::string& text, const char* flag) -> Result<std::optional<uint64_t>> {
    if (text.empty()) return std::optional<uint64_t>();
    auto v = plan::ParseSize(text);
    if (!v.ok()) return v.status().WithContext(flag);
    return std::optional<uint64_t>(*v);
  };
  auto age = [&](const std::string& text, const char* flag)
      -> Result<std::optional<std::chrono::system_clock::time_point>> {
    if (text.empty()) return std::optional<std::chrono::system_clock::time_point>();
    auto v = plan::ParseAge(text);
    if (!v.ok()) return v.status().WithContext(flag);
    return std::optional<std::chrono::system_clock::time_point>(now - *v);
  };
  FERRY_ASSIGN_OR_RETURN(f.min_size, size(a.min_size, "--min-size"));
  FERRY_ASSIGN_OR_RETURN(f.max_size, size(a.max_size, "--max-size"));
  FERRY_ASSIGN_OR_RETURN(f.newer_than, age(a.newer_than, "--newer-than"));
  FERRY_ASSIGN_OR_RETURN(f.older_than, age(a.older_than, "--older-than"));
  FERRY_RETURN_IF_ERROR(plan::Filter::Make(f, now).status());  // validates globs and bounds
  return f;
}

// --files-from's list, or --source-inventory's and --dest-inventory's keys, read, checked and
// sorted before the run (null without them).
Result<std::unique_ptr<app::FilesFrom>> OpenFilesFrom(const CopyArgs& a, app::Wiring& wiring,
                                                      const app::Location& source,
                                                      const app::Location& destination,
                                                      std::stop_token stop) {
  if (!a.source_inventory.empty() || !a.dest_inventory.empty()) {
    if (!a.files_from.empty()) {
      return Status::InvalidArgument("--files-from and --source-inventory/--dest-inventory both "
                                     "name the run's keys: give one");
    }
    return app::FilesFrom::OpenInventories(wiring,
                                           {.source = source,
                                            .source_inventory = a.source_inventory,
                                            .dest_inventory = a.dest_inventory,
                                            .destination = destination},
                                           stop);
  }
  if (a.files_from.empty()) {
    if (!a.files_from_format.empty()) {
      return Status::InvalidArgument("--files-from-format needs --files-from");
    }
    return std::unique_ptr<app::FilesFrom>();
  }
  return app::FilesFrom::Open(wiring,
                              {.list = a.files_from,
                               .format = a.files_from_format,
                               .source = source},
                              stop);
}

// The key list name a durable inventory run records (RunOptions::files_from).
std::string InventoryRunName(const CopyArgs& a) {
  std::string name = "inventory " + a.source_inventory;
  if (!a.dest_inventory.empty()) name += " and " + a.dest_inventory;
  return name;
}

// A move's locations (they must not overlap) and the --backup-dir location opened and checked
// (null without it), once both sides are open (move.h).
Result<std::unique_ptr<storage::Backend>> CheckMoveAndBackup(
    const CopyArgs& a, const app::Location& src_loc, const app::Location& dst_loc,
    storage::Backend& dst, app::Wiring& wiring, std::stop_token stop) {
  if (a.move) FERRY_RETURN_IF_ERROR(CheckMoveLocations(src_loc, dst_loc));
  return OpenBackupDir(a.backup, dst_loc, dst, wiring, stop);
}

// A key given on the command line is refused first, whatever else is wrong.
Status RefuseKeysOnCommandLine(const CopyArgs& a) {
  FERRY_RETURN_IF_ERROR(
      app::RefuseSecretOnCommandLine("--sse-c-key", a.encryption.customer_key.value));
  return app::RefuseSecretOnCommandLine("--sse-c-copy-source-key",
                                        a.encryption.copy_source_key.value);
}

// What an in-memory run (no state store) is given once the locations are open and checked.
struct InMemoryRun {
  CopyArgs& args;
  Context& ctx;
  app::Wiring& wiring;
  storage::Backend& src;
  storage::Backend& dst;
  transfer::SyncOptions& options;
  plan::Filter filter;
  app::FilesFrom* files_from;  // null without --files-from or an inventory
  const std::vector<notify::Target>& targets;
};

// Runs it on the process's one executor: the summary, the report's end and the run-end
// notification; the exit code.
int RunInMemory(InMemoryRun r) {
  CopyArgs& a = r.args;
  auto engine = app::Engine::Open(CopyEngine(a, r.options.transfer.part_size), r.wiring.config());
  if (!engine.ok()) return ReportError(engine.status());
  transfer::Stats stats;
  StatsMetrics stats_metrics(stats);  // the registry reads the run's counters (metrics.h)
  r.options.filter = std::move(r.filter);
  if (r.files_from) r.options.listing = r.files_from->Driver(stats, &r.options);
  // report_flags.h
  auto report = OpenRunReport(a.report, r.wiring, r.options.transfer, r.ctx.stop);
  if (!report.ok()) return ReportError(report.status());
  const auto started = std::chrono::system_clock::now();
  transfer::SyncResult result =
      transfer::RunSync((*engine)->executor(), r.src, r.dst, r.options, stats, r.ctx.stop);
  stats.request_retries = r.wiring.RequestRetries();
  PrintSummary(a, stats, result, stats.KeptFailures(), stats.failures(), nullptr);
  if (!a.dry_run) {  // after the summary: a receiver that is down delays only the exit
    app::NotifyInMemoryRun(r.targets,
                           {.command = a.move ? "move" : a.sync ? "sync" : "cp",
                            .source = a.src,
                            .destination = a.dst,
                            .stats = &stats,
                            .status = result.status,
                            .cut = result.cutoff != transfer::CutoffReason::kNone,
                            .errors = {},
                            .started = started,
                            .ended = std::chrono::system_clock::now(),
                            .report = a.report.settings.location},
                           r.wiring, r.ctx.stop);
  }
  if (!result.status.ok()) {
    ReportError(result.status);
    // --max-delete: nothing deleted (2); --max-transfer, --max-duration: cut (8, 10).
    const int code = CutoffExitCode(result.cutoff, result.delete_limit_tripped ? 2 : 1);
    return FinishRunReport(report->get(), result, code);
  }
  return FinishRunReport(report->get(), result, stats.failures() > 0 ? 1 : 0);
}

int Run(CopyArgs a, Context& ctx) {
  if (Status s = RefuseKeysOnCommandLine(a); !s.ok()) return ReportError(s);
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto targets = app::RunTargets(*config, a.notify);  // app/notify_run.h
  if (!targets.ok()) return ReportError(targets.status());
  // A move runs in memory unless --state or --detach make it durable (move.h).
  if (a.move && a.state.empty() && !a.detach) a.no_state = true;
  auto options = BuildOptions(a, *config, ctx.global.verbose);
  if (!options.ok()) return ReportError(options.status());
  auto filter_options = BuildFilterOptions(a);
  if (!filter_options.ok()) return ReportError(filter_options.status());
  auto filter = plan::Filter::Make(*filter_options, std::chrono::system_clock::now());
  if (!filter.ok()) return ReportError(filter.status());
  auto src_loc = app::ParseLocation(a.src);
  if (!src_loc.ok()) return ReportError(src_loc.status());
  auto dst_loc = app::ParseLocation(a.dst);
  if (!dst_loc.ok()) return ReportError(dst_loc.status());

  if (Status s = ValidateTransportFlags(a); !s.ok()) return ReportError(s);
  auto abandon_age = plan::ParseAge(a.abort_uploads_after);
  if (!abandon_age.ok()) {
    return ReportError(abandon_age.status().WithContext("--abort-uploads-after"));
  }
  auto encryption = app::EncryptionFromFlags(a.encryption, *src_loc, *dst_loc);
  if (!encryption.ok()) return ReportError(encryption.status());
  if (a.encryption.any() && a.detach) {
    // The workers that run a detached run have their own process: the flags never reach
    // them (keys are not recorded with a run). Their remotes' settings do.
    return ReportError(Status::InvalidArgument(
        "--sse and --sse-c-* cannot go with --detach: set sse, sse_kms_key_id or "
        "sse_c_key_file on the remote in the config file instead"));
  }
  const estimate::Prices prices = config->costs;
  // a move deletes on its source only: its folders stay unless --delete-empty-src-dirs (move.h)
  app::Wiring wiring(std::move(config).value(),
                     app::WiringOptions{.local_fsync = !a.no_fsync,
                                        .local_remove_emptied_folders =
                                            !a.move || a.delete_empty_src_dirs});
  a.config = &wiring.config();  // the summary prices the requests of the run (cost_report.h)
  const StoreCostMetrics store_costs(wiring.config());
  if (a.encryption.any()) {
    wiring.SetEncryption(*src_loc, encryption->source);
    wiring.SetEncryption(*dst_loc, encryption->destination);
  }
  if (a.compress) {
    // What crosses is the archives: from the source's region to the staging location's.
    auto staging_loc = app::ParseLocation(a.staging);
    a.cost = CostInputsFor(prices, RegionOf(wiring, *src_loc),
                           staging_loc.ok() ? RegionOf(wiring, *staging_loc) : "");
  }
  auto src = wiring.OpenBackend(*src_loc, /*create_local=*/false);
  if (!src.ok()) return ReportError(src.status());
  auto dst = wiring.OpenBackend(*dst_loc, /*create_local=*/!a.dry_run);
  if (!dst.ok()) return ReportError(dst.status());
  // Bad buckets and credentials fail here, once, with one line: not per job or per object.
  if (Status s = (*src)->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("source"));
  if (Status s = (*dst)->Check(ctx.stop); !s.ok()) {
    return ReportError(s.WithContext("destination"));
  }
  if (Status s = CheckAccessFlags(a, **src, **dst, ctx.stop); !s.ok()) return ReportError(s);
  auto backup = CheckMoveAndBackup(a, *src_loc, *dst_loc, **dst, wiring, ctx.stop);
  if (!backup.ok()) return ReportError(backup.status());
  if (*backup) options->backup = {.backup = backup->get(), .suffix = a.backup.suffix};
  if (!a.state.empty() && a.dry_run) {
    return ReportError(Status::InvalidArgument("--dry-run cannot be combined with --state"));
  }
  if (a.compress && !a.dry_run) {
    if (Status s = CheckTransport(a, wiring, ctx); !s.ok()) return ReportError(s);
  }
  auto files_from = OpenFilesFrom(a, wiring, *src_loc, *dst_loc, ctx.stop);
  if (!files_from.ok()) return ReportError(files_from.status());
  if (!a.no_state && !a.dry_run) {
    // A durable inventory run records its inventories as its key list's name: a rerun resumes
    // as the same command, from the keys stored with the run.
    if (!a.source_inventory.empty()) a.files_from = InventoryRunName(a);
    return RunWithState(a, ctx, wiring, **dst, *options, *filter_options, files_from->get());
  }

  // The process's one executor: its workers and byte budget serve this run.
  return RunInMemory({.args = a,
                      .ctx = ctx,
                      .wiring = wiring,
                      .src = **src,
                      .dst = **dst,
                      .options = *options,
                      .filter = std::move(*filter),
                      .files_from = files_from->get(),
                      .targets = *targets});
}

// How written objects are written: storage class, encryption, ACLs, lock, checksums, metadata.
void AddCopyWriteOptions(CLI::App* cmd, CopyArgs& args) {
  cmd->add_option("--storage-class", args.storage_class, "storage class of written objects");
  cmd->add_option("--sse", args.encryption.sse,
                  "server-side encryption of written objects: AES256 or aws:kms");
  cmd->add_option("--sse-kms-key-id", args.encryption.kms_key_id,
                  "with --sse aws:kms: the KMS key to encrypt with (default: the store's)");
  cmd->add_option("--sse-c-key-file", args.encryption.customer_key.file,
                  "SSE-C: a file holding the 32-byte customer key of DST's objects (of SRC's "
                  "when DST is a folder), in base64 or as the raw bytes");
  cmd->add_option("--sse-c-key-env", args.encryption.customer_key.env,
                  "SSE-C: the environment variable holding that key in base64");
  cmd->add_option("--sse-c-copy-source-key-file", args.encryption.copy_source_key.file,
                  "SSE-C: a file holding the 32-byte customer key of SRC's objects (S3 to S3), "
                  "in base64 or as the raw bytes");
  cmd->add_option("--sse-c-copy-source-key-env", args.encryption.copy_source_key.env,
                  "SSE-C: the environment variable holding that key in base64");
  // The key itself on the command line is refused with one line naming the forms above (any
  // local user reads a process's argv): declared, and hidden, so that the refusal is ferry's
  // and not the parser's, which would quote the unexpected value.
  cmd->add_option("--sse-c-key", args.encryption.customer_key.value)->group("");
  cmd->add_option("--sse-c-copy-source-key", args.encryption.copy_source_key.value)->group("");
  cmd->add_flag("--preserve-acl", args.preserve_acl,
                "carry each object's own ACL grants (S3 to S3; the source owner's full control "
                "among them)");
  cmd->add_flag("--preserve-lock", args.preserve_lock,
                "carry each object's retention and legal hold (S3 Object Lock; the destination "
                "bucket must have object lock)");
  cmd->add_option("--acl", args.acl,
                  "canned ACL of written objects (private, public-read, public-read-write, "
                  "authenticated-read, bucket-owner-read, bucket-owner-full-control)");
  cmd->add_option("--grants", args.grants,
                  "grants of written objects, PERMISSION=TYPE=VALUE (read, readacp, writeacp, "
                  "full; id, uri, emailaddress), repeatable")
      ->expected(1, -1);
  cmd->add_option("--checksum-algorithm", args.write.checksum_algorithm,
                  "additional checksum of objects written to S3, checked by the store: CRC32, "
                  "CRC32C, CRC64NVME, SHA1 or SHA256 (default: the source's, where it has one)");
  cmd->add_option("--metadata", args.write.metadata,
                  "user metadata NAME=VALUE of written objects, repeatable")
      ->expected(1, -1);
  cmd->add_option("--content-type", args.write.content_type, "Content-Type of written objects");
  cmd->add_option("--metadata-directive", args.write.metadata_directive,
                  "COPY (default: the source's metadata and content headers, with --metadata and "
                  "--content-type over them) or REPLACE (only those given)");
}

enum class CopyCommand { kCp, kSync, kMove };

CLI::App* AddCopySubcommand(CLI::App& app, CopyCommand which) {
  switch (which) {
    case CopyCommand::kSync:
      return app.add_subcommand(
          "sync", "make DST like SRC: copy what is missing or changed (--delete removes extras)");
    case CopyCommand::kMove:
      return app.add_subcommand(
          "move",
          "copy what is missing or changed from SRC to DST, then delete from SRC each object "
          "the destination proved by a checksum (never one whose copy failed or could not be "
          "verified); in memory, a rerun resumes; on a versioned SRC only the current version "
          "is deleted (a delete marker: the older versions stay)");
    case CopyCommand::kCp:
      break;
  }
  return app.add_subcommand("cp",
                            "copy what is missing or changed from SRC to DST; never deletes");
}

void AddCommand(CLI::App& app, Context& ctx, CopyCommand which) {
  auto args = std::make_shared<CopyArgs>();
  const bool sync = which == CopyCommand::kSync;
  args->sync = sync;
  args->move = which == CopyCommand::kMove;
  CLI::App* cmd = AddCopySubcommand(app, which);
  cmd->add_option("SRC", args->src, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_option("DST", args->dst, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_flag("-n,--dry-run", args->dry_run, "show what would be done, change nothing");
  if (sync) AddDeleteOptions(cmd, args->delete_extra, args->max_delete);  // max_delete.h
  if (args->move) AddMoveOptions(cmd, args->max_delete, args->delete_empty_src_dirs);  // move.h
  AddBackupDirOptions(cmd, args->backup);                                 // move.h
  AddCutoffOptions(cmd, args->cutoff, sync);  // cutoff.h
  cmd->add_option("--include", args->include, "copy only keys matching GLOB (repeatable)");
  cmd->add_option("--exclude", args->exclude, "skip keys matching GLOB (repeatable)");
  cmd->add_option("--files-from", args->files_from,
                  "consider only the keys listed in FILE, - (stdin) or an object (s3://b/key): "
                  "one per line, relative to SRC; .csv: bucket,key rows. A durable run stores the "
                  "sorted keys with the run: a rerun resumes from them");
  cmd->add_option("--files-from-format", args->files_from_format,
                  "plain or csv (default: by the list's name)");
  cmd->add_option("--source-inventory", args->source_inventory,
                  "take the source's keys from an S3 Inventory (CSV) instead of a listing: its "
                  "manifest.json or its configuration's prefix (the newest run); rows are hints, "
                  "each key's current facts are read before anything is written");
  cmd->add_option("--dest-inventory", args->dest_inventory,
                  "with --source-inventory: the destination's keys from its S3 Inventory too "
                  "(sync --delete deletes only keys it names and the source lacks now)");
  AddReportOptions(cmd, args->report);  // report_flags.h
  cmd->add_option("--notify", args->notify,
                  "tell the run's end (done, failed, dead, cut) to URL: http(s)://... (POST of a "
                  "JSON document), sns:TOPIC_ARN or sqs:QUEUE_URL; repeatable; besides the "
                  "config's [[notify]] (docs/design/notify.md)");
  cmd->add_option("--min-size", args->min_size, "skip objects smaller than SIZE (10k, 5MiB)");
  cmd->add_option("--max-size", args->max_size, "skip objects larger than SIZE");
  cmd->add_option("--newer-than", args->newer_than, "only objects modified within AGE (2h, 7d)");
  cmd->add_option("--older-than", args->older_than, "only objects modified before AGE ago");
  AddCopyWriteOptions(cmd, *args);
  cmd->add_flag("--checksum", args->checksum, "compare content checksums, not times");
  cmd->add_flag("--size-only", args->size_only, "compare sizes only");
  cmd->add_flag("--update", args->update, "skip objects that are newer on the destination");
  AddEngineOptions(cmd, args->engine, CopyEngine(*args, 0));
  cmd->add_option("--part-size", args->part_size, "multipart part size (default 16MiB)");
  cmd->add_option("--multipart-threshold", args->threshold,
                  "objects from this size are copied in parts (default 64MiB)");
  cmd->add_option("--state", args->state,
                  args->move ? "state store (SQLite path or postgres://...): a durable move, "
                               "resumable and spread over `ferry worker`s (default: in memory)"
                             : "state store (SQLite path or postgres://...; default: a file per "
                               "source and destination in ~/.local/state/ferry, removed when "
                               "the run is done)");
  cmd->add_flag("--no-state", args->no_state, "keep no state: a run in memory, not resumable");
  cmd->add_flag("--detach", args->detach, "with --state: enqueue the run and return");
  cmd->add_flag("--restart", args->restart,
                "discard the unfinished run of SRC and DST in the state store (its queued work, "
                "deletes included, never runs) and start a new one");
  AddListingOptions(cmd, args->listing);
  cmd->add_option("--max-attempts", args->max_attempts,
                  "with --state: attempts per job before it is dead (default 5)");
  cmd->add_option("--part-jobs-min-parts", args->part_jobs_min_parts,
                  "with --state: an object of at least N parts is spread over the run's workers, "
                  "a job per 4 parts (default 0: never; docs/design/part-jobs.md)");
  cmd->add_option("--abort-uploads-after", args->abort_uploads_after,
                  "abort unfinished uploads on the destination older than AGE (default 24h)");
  cmd->add_flag("--compress", args->compress,
                "pack objects into compressed archives written to --staging, unpacked there into "
                "DST (cross-region transport)");
  cmd->add_option("--staging", args->staging,
                  "with --compress: REMOTE:bucket/prefix for the archives, in DST's region");
  cmd->add_option("--compress-level", args->compress_level,
                  "zstd level, 1..19 (default 0: chosen per content class from the measured "
                  "history, see docs/design/transport.md)");
  cmd->add_option("--archive-size", args->archive_size,
                  "raw bytes packed into one archive (default 64MiB)");
  cmd->add_option("--unpack-region", args->unpack_region,
                  "region of the unpack work: served by `ferry worker --role unpack --region "
                  "NAME` (default: any worker); with --pack-only and no --state, a comma list "
                  "of regions the entries are meant for");
  cmd->add_flag("--pack-only", args->pack_only,
                "with --compress: only pack; `ferry worker --role unpack` (with a shared --state) or "
                "`ferry unpack STAGING DST` (without) does the rest near DST");
  AddRestoreOptions(cmd, *args);  // archived sources (copy_restore.cc)
  cmd->add_flag("--json", args->json, "print a JSON summary on stdout");
  cmd->add_flag("--progress", args->progress, "show progress even when stderr is not a TTY");
  cmd->add_flag("--no-progress", args->no_progress, "never show progress");
  cmd->add_flag("--no-fsync", args->no_fsync,
                "local destination: do not flush files to disk (faster; a power loss can leave "
                "files of the right size holding zeros)");
  cmd->callback([args, &ctx] { ctx.exit_code = Run(*args, ctx); });
}

}  // namespace

void RegisterCopy(CLI::App& app, Context& ctx) {
  AddCommand(app, ctx, CopyCommand::kCp);
  AddCommand(app, ctx, CopyCommand::kSync);
  AddCommand(app, ctx, CopyCommand::kMove);
}

}  // namespace ferry::cli
