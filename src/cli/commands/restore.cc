// ferry restore BACKUP_LOC KEY --to LOCATION [--version V | --as-of TIME] [--include-deleted]
// ferry restore BACKUP_LOC --prefix P --to LOCATION [--as-of TIME] [--include-deleted]
// (--at is --as-of's older name)
// Backed-up objects written back from the archives of a backup location (docs/design/
// backup.md): the catalog says which archive and frames hold the version asked for (the latest
// by default), and only those frames are read, by ranged GETs (backup/restore.h). A target
// that exists is never overwritten silently: identical ones are left, different ones are kept
// and reported (exit 1) unless --force.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>

#include "app/notify_run.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/backup_internal.h"
#include "cli/commands/cost_report.h"
#include "cli/commands/report_flags.h"
#include "cli/engine_options.h"
#include "storage/key.h"
#include "transfer/progress.h"
#include "backup/kinds/restore_kind.h"
#include "backup/restore.h"
#include "backup/restore_select.h"
#include "jobs/job_report.h"
#include "jobs/job_store.h"
#include "jobs/payload.h"
#include "state/state_url.h"

namespace ferry::cli {
namespace {

struct RestoreArgs {
  std::string location;
  std::string key;
  std::string prefix;
  bool has_prefix = false;
  std::string to;
  std::string version;
  std::string at;
  std::string state;
  std::string storage_class;
  bool include_deleted = false;
  bool force = false;
  bool preserve_lock = false;
  bool json = false;
  bool detach = false;
  bool dry_run = false;  // --dry-run: what would be restored and its estimated cost, nothing read
  EngineArgs engine;  // --concurrency, --memory (not with --detach: the worker's hold)
  ReportArgs report;  // --report: a row per object (report_flags.h, backup::restore_rows)
  std::vector<std::string> notify;  // --notify URL: besides the config's [[notify]]
};

// Targets looked at and small objects written 16 at a time by default, their bytes within the
// memory budget.
app::EngineSettings RestoreEngine() {
  return app::EngineSettings{.profile = app::EngineProfile::kRequests, .default_concurrency = 16};
}

Status Validate(const RestoreArgs& a) {
  if (a.has_prefix == !a.key.empty()) {
    return Status::InvalidArgument("restore: give either KEY or --prefix P");
  }
  if (a.has_prefix && !a.version.empty()) {
    return Status::InvalidArgument("--version needs KEY (one object), not --prefix");
  }
  if (!a.version.empty() && !a.at.empty()) {
    return Status::InvalidArgument("--version and --as-of: give one of them");
  }
  if (a.dry_run && a.detach) {
    return Status::InvalidArgument("--dry-run and --detach: give one of them");
  }
  if (a.include_deleted && !a.version.empty()) {
    return Status::InvalidArgument("--version and --include-deleted: give one of them");
  }
  return CheckReportArgs(a.report, /*durable=*/a.detach);
}

uint64_t BytesOf(const std::vector<backup::CatalogEntry>& rows) {
  uint64_t bytes = 0;
  for (const backup::CatalogEntry& e : rows) bytes += e.size;
  return bytes;
}

backup::RestoreSelection SelectionOf(const RestoreArgs& a, int64_t at_ms) {
  return backup::RestoreSelection{.key = a.key,
                                  .prefix = a.prefix,
                                  .has_prefix = a.has_prefix,
                                  .version = a.version,
                                  .at_ms = at_ms,
                                  .include_deleted = a.include_deleted};
}

// --detach: the restore queued as a run of the catalog's state store with its one restore job
// (backup/kinds/restore_kind.h), for `ferry worker --state` to serve. The selection was made
// here once to refuse at once what would select nothing; the job makes it again when it runs
// (the latest backed up then, unless --version or --as-of).
int QueueRestore(const RestoreArgs& a, const BackupLocation& loc, const std::string& state,
                 const backup::RestoreRows& rows, int64_t at_ms,
                 const std::vector<notify::Target>& targets,
                 const jobs::ReportOptions& report) {
  auto store = jobs::OpenJobStore(state);
  if (!store.ok()) return ReportError(store.status());
  auto existing = (*store)->FindUnfinishedRun(loc.text, a.to);
  if (!existing.ok()) return ReportError(existing.status());
  if (*existing) {
    return ReportError(Status::InvalidArgument(
        "run " + std::to_string((*existing)->id) + " from " + loc.text + " to " + a.to +
        " is not finished: ferry jobs status " + std::to_string((*existing)->id) +
        " --state " + state::RedactUrl(state) + " tells where it is"));
  }
  jobs::RunOptions ro;
  ro.command = backup::kRestoreCommand;
  ro.report = report;  // --report: the job's rows, and the summary job's summary.json
  jobs::JobSpec job;
  job.kind = backup::kRestoreKind;
  job.payload = backup::EncodeRestoreJob(backup::RestoreJob{
      .selection = SelectionOf(a, at_ms),
      .force = a.force,
      .storage_class = a.storage_class,
      .preserve_lock = a.preserve_lock});
  job.objects = rows.rows.size();
  for (const backup::CatalogEntry& e : rows.rows) job.bytes += e.size;
  job.max_attempts = ro.max_attempts;
  // The run with its job and the targets told of its end, in one transaction
  // (JobStore::CreateRun): the worker that ends the run writes its notifications
  // (docs/design/notify.md).
  auto with_targets = app::RunTargetsStep(**store, targets);
  if (!with_targets.ok()) return ReportError(with_targets.status().WithContext("--notify"));
  std::vector<jobs::JobSpec> first{job};
  if (report.wanted()) first.push_back(jobs::ReportSummaryJob());
  auto run = (*store)->CreateRun(jobs::RunSpec{loc.text, a.to, jobs::EncodeRunOptions(ro)}, first,
                                 *with_targets);
  if (!run.ok()) return ReportError(run.status());
  std::fprintf(stderr, "restore run %lld queued (%zu objects); workers: ferry worker --state %s\n",
               static_cast<long long>(*run), rows.rows.size(), state::RedactUrl(state).c_str());
  if (a.json) {
    std::printf("%s\n", nlohmann::json({{"run", *run}, {"objects", rows.rows.size()},
                                        {"queued", true}})
                            .dump(2)
                            .c_str());
  }
  return 0;
}

void Print(const RestoreArgs& a, const BackupLocation& loc,
           const std::vector<backup::CatalogEntry>& rows, const backup::RestoreResult& r,
           uint64_t deleted, double seconds, const std::vector<StoreRunCost>& costs) {
  for (const std::string& key : r.kept_keys) {
    std::fprintf(stderr, "kept: %s exists at the target and differs (--force overwrites)\n",
                 storage::PrintableKey(key).c_str());
  }
  for (const auto& [key, why] : r.failures) {
    std::fprintf(stderr, "failed: %s: %s\n", storage::PrintableKey(key).c_str(), why.c_str());
  }
  if (a.json) {
    nlohmann::json j = {{"backup", loc.text},
                        {"to", a.to},
                        {"objects", rows.size()},
                        {"objects_written", r.objects_written},
                        {"bytes_written", r.bytes_written},
                        {"overwritten", r.overwritten},
                        {"identical", r.identical},
                        {"kept", r.kept},
                        {"markers_skipped", r.markers_skipped},
                        {"failed", r.failures.size()},
                        {"deleted_left_out", deleted},
                        {"archives_read", r.archives_read},
                        {"ranged_reads", r.ranged_reads},
                        {"bytes_read", r.bytes_read},
                        {"archive_bytes", r.archive_bytes},
                        {"seconds", seconds},
                        {"cost", StoreCostsJson(costs)},
                        {"ok", r.kept == 0 && r.failures.empty()}};
    if (!a.has_prefix) {
      j["key"] = rows.front().key;
      j["version_id"] = rows.front().version_id;
      j["backed_up"] = TimeText(rows.front().backed_up_ms);
      j["archive"] = rows.front().archive;
    }
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::fprintf(stderr,
               "restore: %" PRIu64 " objects written (%s), %" PRIu64 " overwritten, %" PRIu64
               " identical (left), %" PRIu64 " kept (differ), %zu failed, %" PRIu64
               " folder markers skipped, %" PRIu64
               " deleted at the source (left out); read %s of %s in %" PRIu64
               " archives by %" PRIu64 " ranged GETs, in %.2f s\n",
               r.objects_written,
               transfer::HumanBytes(static_cast<double>(r.bytes_written)).c_str(),
               r.overwritten, r.identical, r.kept, r.failures.size(), r.markers_skipped, deleted,
               transfer::HumanBytes(static_cast<double>(r.bytes_read)).c_str(),
               transfer::HumanBytes(static_cast<double>(r.archive_bytes)).c_str(),
               r.archives_read, r.ranged_reads, seconds);
  PrintStoreCostLines(stderr, costs, false);
}

// What restoring `rows` from `loc` into `to` would send (estimate/planned_requests.h), added to
// the requests this process sent so far (none to the stores: the catalog is a state store).
std::vector<StoreRunCost> RestoreEstimate(const app::Config& config, const BackupLocation& loc,
                                          const app::Location& to,
                                          const std::vector<backup::CatalogEntry>& rows,
                                          backup::CatalogStore& catalog) {
  estimate::PlannedRestore plan{
      .from = StoreLabelOf(loc.location), .to = StoreLabelOf(to), .reads = {},
      .archive_bytes = {}};
  if (auto archives = catalog.Archives(loc.text); archives.ok()) {  // else: sizes unknown
    for (const backup::CatalogArchive& c : *archives) {
      plan.archive_bytes[c.archive] = c.archive_bytes;
    }
  }
  for (const backup::CatalogEntry& e : rows) {
    plan.reads.push_back({.archive = e.archive, .data_offset = e.data_offset,
                          .data_bytes = e.data_bytes});
  }
  estimate::StoreUsages usages;
  estimate::AddPlannedRestore(usages, plan);
  std::vector<StoreRunCost> stores = MeasuredStoreCosts(config);
  AddEstimatedUsage(stores, config, usages);
  AddStoredBytes(stores, plan.to, BytesOf(rows), "");
  return stores;
}

// The restore's end told to `targets` (app/notify_run.h): written objects copied, identical
// ones and folder markers skipped, failures and kept targets failed.
void NotifyRestoreEnd(const std::vector<notify::Target>& targets, const RestoreArgs& a,
                      const backup::RestoreResult& r, const Status& status,
                      std::chrono::system_clock::time_point started, app::Wiring& wiring,
                      std::stop_token stop) {
  app::InMemoryRunFacts facts;
  facts.command = "restore";
  facts.source = a.location;
  facts.destination = a.to;
  facts.counts = {.copied = r.objects_written,
                  .skipped = r.identical + r.markers_skipped,
                  .failed = r.failures.size() + r.kept,
                  .deleted = 0,
                  .bytes = r.bytes_written};
  facts.status = status;
  facts.started = started;
  facts.ended = std::chrono::system_clock::now();
  facts.report = a.report.settings.location;
  for (const auto& [key, why] : r.failures) facts.errors.push_back("restore " + key + ": " + why);
  for (const std::string& key : r.kept_keys) {
    facts.errors.push_back("restore " + key + ": the target exists and differs (--force "
                           "overwrites)");
  }
  app::NotifyInMemoryRun(targets, facts, wiring, stop);
}

// A dry run's rows: each selected entry would be written (the targets are not looked at).
void AddWouldRestoreRows(const backup::RestoreRows& selected, report::RowSink& report) {
  for (const backup::CatalogEntry& e : selected.rows) {
    report::Row row;
    row.key = e.key;
    row.version_id = e.version_id;
    row.size = e.size;
    row.action = report::Action::kWouldCopy;
    row.outcome = report::Outcome::kOk;
    report.Add(std::move(row));
  }
}

// Finishes the run's report (may be null) after the restore ended with `run`; 1 when the
// report is incomplete (its error printed), else `code`.
int FinishRestoreReport(app::OpenReport* report, const Status& run, int code,
                        const std::vector<StoreRunCost>& costs = {}) {
  const std::string cost = costs.empty() ? "" : StoreCostsJson(costs).dump();
  if (Status s = FinishReportOnly(report, run, cost); !s.ok()) {
    ReportError(s);
    return code == 0 ? 1 : code;
  }
  return code;
}

// --dry-run: what would be restored, and the estimate of what it would cost; nothing is read
// from the archives nor written.
int PrintRestoreDryRun(const RestoreArgs& a, const BackupLocation& loc,
                       const backup::RestoreRows& selected,
                       const std::vector<StoreRunCost>& costs) {
  std::set<std::string> archives;
  for (const backup::CatalogEntry& e : selected.rows) archives.insert(e.archive);
  const uint64_t bytes = BytesOf(selected.rows);
  if (a.json) {
    nlohmann::json cost = StoreCostsJson(costs);
    cost["estimate"] = true;
    const nlohmann::json j = {{"backup", loc.text}, {"to", a.to}, {"dry_run", true},
                              {"objects", selected.rows.size()}, {"bytes", bytes},
                              {"archives", archives.size()},
                              {"deleted_left_out", selected.deleted_left_out}, {"cost", cost}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return 0;
  }
  std::fprintf(stderr,
               "dry run: %zu objects (%s) would be restored from %zu archives, %" PRIu64
               " deleted at the source (left out)\n",
               selected.rows.size(), transfer::HumanBytes(static_cast<double>(bytes)).c_str(),
               archives.size(), selected.deleted_left_out);
  PrintStoreCostLines(stderr, costs, true);
  return 0;
}

int RunRestore(const RestoreArgs& a, Context& ctx) {
  if (Status s = Validate(a); !s.ok()) return ReportError(s);
  int64_t at_ms = 0;
  if (!a.at.empty()) {
    auto t = ParseTimeMs(a.at, "--as-of/--at");
    if (!t.ok()) return ReportError(t.status());
    at_ms = *t;
  }
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto targets = app::RunTargets(*config, a.notify);  // refused before anything is read
  if (!targets.ok()) return ReportError(targets.status());
  const app::EngineSettings engine_settings = WithEngineArgs(RestoreEngine(), a.engine);
  if (auto shape = app::ResolveEngine(engine_settings, config->transfer); !shape.ok()) {
    return ReportError(shape.status());
  }
  const app::TransferDefaults transfer_defaults = config->transfer;
  auto loc = ParseBackupLocation(a.location);
  if (!loc.ok()) return ReportError(loc.status());
  auto to_loc = app::ParseLocation(a.to);
  if (!to_loc.ok()) return ReportError(to_loc.status().WithContext("--to"));
  app::Wiring wiring(std::move(config).value());
  auto backup = wiring.OpenBackend(loc->location, false);
  if (!backup.ok()) return ReportError(backup.status());
  if (Status s = (*backup)->Check(ctx.stop); !s.ok()) {
    return ReportError(s.WithContext("backup location"));
  }
  // A dry run does not look at a folder destination (nor create it): it sends no requests.
  std::unique_ptr<storage::Backend> dst;
  if (!a.dry_run || to_loc->is_s3()) {
    auto opened = wiring.OpenBackend(*to_loc, true);
    if (!opened.ok()) return ReportError(opened.status());
    dst = std::move(opened).value();
    if (Status s = dst->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("--to"));
    if (a.preserve_lock) {
      if (Status s = CheckPreserveLock(*dst, ctx.stop); !s.ok()) return ReportError(s);
    }
  }
  const std::string state = BackupStateUrl(a.state, *loc);
  auto catalog = OpenCatalog(state);
  if (!catalog.ok()) return ReportError(catalog.status());
  auto selected = backup::SelectForRestore(*catalog->store, loc->text, SelectionOf(a, at_ms));
  if (!selected.ok()) return ReportError(selected.status());
  if (a.detach) {
    jobs::ReportOptions report;
    if (a.report.settings.wanted()) {  // checked now, in one line; the worker writes the rows
      auto checked = app::OpenReport::Open(wiring, a.report.settings, {}, ctx.stop);
      if (!checked.ok()) return ReportError(checked.status());
      report = {.location = a.report.settings.location,
                .format = a.report.settings.format,
                .level = a.report.settings.level};
    }
    return QueueRestore(a, *loc, state, *selected, at_ms, *targets, report);
  }
  auto report = OpenReportOnly(a.report, wiring, ctx.stop);  // --report, checked before a write
  if (!report.ok()) return ReportError(report.status());
  if (a.dry_run) {
    if (*report) AddWouldRestoreRows(*selected, (*report)->writer());
    const int code = PrintRestoreDryRun(
        a, *loc, *selected,
        RestoreEstimate(wiring.config(), *loc, *to_loc, selected->rows, *catalog->store));
    return FinishRestoreReport(report->get(), Status::Ok(), code);
  }
  const std::vector<backup::CatalogEntry>& rows = selected->rows;
  const uint64_t deleted = selected->deleted_left_out;
  const auto start = std::chrono::steady_clock::now();
  const auto started = std::chrono::system_clock::now();
  auto engine = app::Engine::Open(engine_settings, transfer_defaults);
  if (!engine.ok()) return ReportError(engine.status());
  backup::RestoreOptions o;
  o.force = a.force;
  o.storage_class = a.storage_class;
  o.preserve_lock = a.preserve_lock;
  o.executor = &(*engine)->executor();
  o.report = *report ? &(*report)->writer() : nullptr;
  auto r = backup::RestoreEntries(**backup, rows, *dst, o, ctx.stop);
  if (!r.ok()) {
    const int code = ReportError(r.status());
    NotifyRestoreEnd(*targets, a, {}, r.status(), started, wiring, ctx.stop);
    return FinishRestoreReport(report->get(), r.status(), code);
  }
  std::vector<StoreRunCost> costs = MeasuredStoreCosts(wiring.config());
  AddStoredBytes(costs, StoreLabelOf(*to_loc), r->bytes_written, a.storage_class);
  Print(a, *loc, rows, *r, deleted,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), costs);
  // after the summary: a receiver that is down delays only the exit
  NotifyRestoreEnd(*targets, a, *r, Status::Ok(), started, wiring, ctx.stop);
  return FinishRestoreReport(report->get(), Status::Ok(),
                             r->kept == 0 && r->failures.empty() ? 0 : 1, costs);
}

}  // namespace

void RegisterRestore(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<RestoreArgs>();
  CLI::App* cmd = app.add_subcommand(
      "restore",
      "write backed-up objects (`ferry backup`) back from their archives, reading only their "
      "frames");
  cmd->add_option("BACKUP_LOC", args->location, "the backup location (REMOTE:bucket/prefix)")
      ->required();
  cmd->add_option("KEY", args->key, "the object to restore (or --prefix)");
  cmd->add_option("--prefix", args->prefix, "restore every object whose key starts with P")
      ->each([args](const std::string&) { args->has_prefix = true; });
  cmd->add_option("--to", args->to, "where to write: REMOTE:bucket/prefix, s3://... or a folder")
      ->required();
  cmd->add_option("--version", args->version, "the source version id to restore (default: latest)");
  cmd->add_option("--as-of,--at", args->at,
                  "restore what the source held at TIME: the newest version backed up at or "
                  "before it, unless deleted by then (2026-11-23T01:02:03Z or unix seconds)");
  cmd->add_flag("--include-deleted", args->include_deleted,
                "also restore keys deleted from the source (their last version)");
  cmd->add_flag("--force", args->force,
                "write every target again, also those that exist (their recorded checksum "
                "matching is not proof of their bytes)");
  cmd->add_option("--storage-class", args->storage_class, "storage class of written objects");
  cmd->add_flag("--preserve-lock", args->preserve_lock,
                "write each object with the retention and legal hold it had when backed up (S3 "
                "Object Lock; --to must have object lock; a retention already over is left out)");
  cmd->add_option("--state", args->state,
                  "state store holding the catalog (SQLite path or postgres://...; default: the "
                  "backup location's file in ~/.local/state/ferry)");
  cmd->add_flag("--json", args->json, "print a JSON summary on stdout");
  cmd->add_flag("-n,--dry-run", args->dry_run,
                "print what would be restored and the estimate of its requests, bytes out and "
                "cost at each store; nothing is read from the archives nor written");
  cmd->add_flag("--detach", args->detach,
                "queue the restore as a run of the state store and return: `ferry worker "
                "--state` serves it");
  AddEngineOptions(cmd, args->engine, RestoreEngine());
  AddReportOptions(cmd, args->report);  // report_flags.h
  cmd->add_option("--notify", args->notify,
                   "tell URL when the restore ends (http(s)://... webhook, sns:TOPIC_ARN, "
                   "sqs:QUEUE_URL; repeatable), besides the config's [[notify]] "
                   "(docs/design/notify.md)");
  cmd->callback([args, &ctx] { ctx.exit_code = RunRestore(*args, ctx); });
}

}  // namespace ferry::cli
