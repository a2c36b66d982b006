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

#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/backup_internal.h"
#include "cli/engine_options.h"
#include "storage/key.h"
#include "transfer/progress.h"
#include "backup/kinds/restore_kind.h"
#include "backup/restore.h"
#include "backup/restore_select.h"
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
  EngineArgs engine;  // --concurrency, --memory (not with --detach: the worker's hold)
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
  if (a.include_deleted && !a.version.empty()) {
    return Status::InvalidArgument("--version and --include-deleted: give one of them");
  }
  return Status::Ok();
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
                 const backup::RestoreRows& rows, int64_t at_ms) {
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
  // The run with its job, in one transaction (JobStore::CreateRun).
  auto run = (*store)->CreateRun(jobs::RunSpec{loc.text, a.to, jobs::EncodeRunOptions(ro)}, {job});
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
           uint64_t deleted, double seconds) {
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
  auto dst = wiring.OpenBackend(*to_loc, true);
  if (!dst.ok()) return ReportError(dst.status());
  if (Status s = (*dst)->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("--to"));
  if (a.preserve_lock) {
    if (Status s = CheckPreserveLock(**dst, ctx.stop); !s.ok()) return ReportError(s);
  }
  const std::string state = BackupStateUrl(a.state, *loc);
  auto catalog = OpenCatalog(state);
  if (!catalog.ok()) return ReportError(catalog.status());
  auto selected = backup::SelectForRestore(*catalog->store, loc->text, SelectionOf(a, at_ms));
  if (!selected.ok()) return ReportError(selected.status());
  if (a.detach) return QueueRestore(a, *loc, state, *selected, at_ms);
  const std::vector<backup::CatalogEntry>& rows = selected->rows;
  const uint64_t deleted = selected->deleted_left_out;
  const auto start = std::chrono::steady_clock::now();
  auto engine = app::Engine::Open(engine_settings, transfer_defaults);
  if (!engine.ok()) return ReportError(engine.status());
  backup::RestoreOptions o;
  o.force = a.force;
  o.storage_class = a.storage_class;
  o.preserve_lock = a.preserve_lock;
  o.executor = &(*engine)->executor();
  auto r = backup::RestoreEntries(**backup, rows, **dst, o, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  Print(a, *loc, rows, *r, deleted,
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return r->kept == 0 && r->failures.empty() ? 0 : 1;
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
  cmd->add_flag("--detach", args->detach,
                "queue the restore as a run of the state store and return: `ferry worker "
                "--state` serves it");
  AddEngineOptions(cmd, args->engine, RestoreEngine());
  cmd->callback([args, &ctx] { ctx.exit_code = RunRestore(*args, ctx); });
}

}  // namespace ferry::cli
