// ferry backup SRC BACKUP_LOC: a compressed backup (docs/design/backup.md). A durable run of
// the usual scan and pack jobs whose archives stay at BACKUP_LOC (TransportOptions::backup):
// no unpack jobs; every archive is recorded with its entries in the catalog of the state
// store, and a scan packs only the objects that changed since the catalog's latest entry of
// their key, and notes the keys gone from the source (tombstones once the run's listing is
// complete). The catalog lives in --state, or in an automatic file per backup location that
// is kept (restores read it).
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "app/config_notify.h"
#include "app/durable.h"
#include "app/engine.h"
#include "app/views.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/backup_internal.h"
#include "cli/commands/cost_report.h"
#include "cli/commands/metrics.h"
#include "cli/engine_options.h"
#include "plan/filter.h"
#include "state/state_url.h"
#include "storage/key.h"
#include "transfer/adaptive.h"
#include "transfer/progress.h"

namespace ferry::cli {
namespace {

struct BackupArgs {
  std::string src;
  std::string location;
  std::string state;
  int compress_level = 0;     // 0 = adaptive per content class
  std::string archive_size;   // raw bytes per archive ("" = 64MiB)
  EngineArgs engine;  // --concurrency, --memory
  int max_attempts = 5;
  bool restart = false;
  bool json = false;
  ListingArgs listing;
  std::vector<std::string> notify;  // --notify URL (app/config_notify.h), besides [[notify]]
};

// As `ferry sync`: without a number (flag or [transfer]) the requests in flight adapt to the
// link, up to 64; a number is fixed.
app::EngineSettings BackupEngine(const BackupArgs& a) {
  return WithEngineArgs(
      app::EngineSettings{.profile = app::EngineProfile::kRequests,
                          .default_concurrency = transfer::kAdaptiveMaxConcurrency,
                          .adaptive_allowed = true},
      a.engine);
}

// How a backup run ended, as its summary tells it.
struct BackupOutcome {
  int64_t run = 0;       // the run's id in the state store
  bool done = false;     // the run finished
  double seconds = 0;    // how long it ran
  uint64_t deleted = 0;  // keys gone from the source, recorded as tombstones for this run
  std::vector<backup::CatalogArchive> archives;  // the catalog's archives at the location
  std::vector<StoreRunCost> costs;  // what the run cost at each store (docs/design/cost.md)
};

void PrintSummary(const BackupArgs& a, const BackupLocation& loc, const transfer::Stats& s,
                  const BackupOutcome& outcome) {
  uint64_t entries = 0, stored = 0;
  for (const auto& c : outcome.archives) {
    entries += c.entries;
    stored += c.archive_bytes;
  }
  const uint64_t in = s.transport_bytes_in, wire = s.transport_bytes_wire;
  const double ratio = wire > 0 ? static_cast<double>(in) / static_cast<double>(wire) : 0;
  if (a.json) {
    const nlohmann::json j = {{"source", a.src},
                              {"backup", loc.text},
                              {"run", outcome.run},
                              {"objects_listed", s.objects_listed.load()},
                              {"objects_packed", s.entries_packed.load()},
                              {"unchanged", s.objects_skipped.load()},
                              {"deleted", outcome.deleted},
                              {"archives", s.archives_staged.load()},
                              {"bytes_in", in},
                              {"archive_bytes", wire},
                              {"ratio", ratio},
                              {"catalog_archives", outcome.archives.size()},
                              {"catalog_entries", entries},
                              {"catalog_bytes", stored},
                              {"seconds", outcome.seconds},
                              {"cost", StoreCostsJson(outcome.costs)},
                              {"ok", outcome.done}};
    std::printf("%s\n", j.dump(2).c_str());
    return;
  }
  std::fprintf(stderr,
               "backup: %" PRIu64 " objects packed into %" PRIu64 " archives (%s in, %s stored, "
               "ratio %.2f), %" PRIu64 " unchanged, %" PRIu64 " deleted at the source, in %.2f s\n",
               s.entries_packed.load(), s.archives_staged.load(),
               transfer::HumanBytes(static_cast<double>(in)).c_str(),
               transfer::HumanBytes(static_cast<double>(wire)).c_str(), ratio,
               s.objects_skipped.load(), outcome.deleted, outcome.seconds);
  std::fprintf(stderr, "catalog: %" PRIu64 " object versions in %zu archives (%s) at %s\n",
               entries, outcome.archives.size(),
               transfer::HumanBytes(static_cast<double>(stored)).c_str(),
               loc.text.c_str());
  PrintStoreCostLines(stderr, outcome.costs, false);
}

int RunBackup(const BackupArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  std::vector<notify::Target> notify_flags;  // the config's [[notify]] are RunDurable's own
  for (const std::string& url : a.notify) {
    auto t = app::ParseNotifyFlag(url);
    if (!t.ok()) return ReportError(t.status());
    notify_flags.push_back(*t);
  }
  auto src_loc = app::ParseLocation(a.src);
  if (!src_loc.ok()) return ReportError(src_loc.status());
  auto loc = ParseBackupLocation(a.location);
  if (!loc.ok()) return ReportError(loc.status());
  const BackupRunSpec spec{.source = a.src,
                           .location = a.location,
                           .compress_level = a.compress_level,
                           .archive_size = a.archive_size,
                           .max_attempts = a.max_attempts};
  if (auto checked = app::BackupRunOptions(spec); !checked.ok()) {
    return ReportError(checked.status());
  }
  jobs::WorkerOptions listing_options;
  if (Status s = ApplyListingOptions(a.listing, listing_options); !s.ok()) return ReportError(s);
  app::Wiring wiring(std::move(config).value());
  // The process's one executor (app/engine.h), for the worker that runs the backup here.
  auto engine = app::Engine::Open(BackupEngine(a), wiring.config());
  if (!engine.ok()) return ReportError(engine.status());
  auto src = wiring.OpenBackend(*src_loc, false);
  if (!src.ok()) return ReportError(src.status());
  auto backup = wiring.OpenBackend(loc->location, false);
  if (!backup.ok()) return ReportError(backup.status());
  // Bad buckets and credentials fail here, once, with one line.
  if (Status s = (*src)->Check(ctx.stop); !s.ok()) return ReportError(s.WithContext("source"));
  if (Status s = (*backup)->Check(ctx.stop); !s.ok()) {
    return ReportError(s.WithContext("backup location"));
  }
  const std::string state = BackupStateUrl(a.state, *loc);
  auto store = jobs::OpenJobStore(state);
  if (!store.ok()) return ReportError(store.status());
  auto prepared = app::PrepareBackupRun(**store, wiring, spec);
  if (!prepared.ok()) return ReportError(prepared.status());
  app::DurableRunRequest req = std::move(prepared->request);
  req.worker = listing_options;
  req.worker.owner = jobs::DefaultOwner();
  req.worker.concurrency = (*engine)->requests();
  req.worker.executor = &(*engine)->executor();
  req.worker.verbose = ctx.global.verbose;
  req.worker.only_run_checked = true;  // both checked just now (the staging is the location)
  req.restart = a.restart;
  req.notify = notify_flags;
  if (!a.state.empty()) req.state_for_messages = state::RedactUrl(state);
  transfer::Stats stats;
  StatsMetrics stats_metrics(stats);  // the registry reads the run's counters (metrics.h)
  auto r = app::RunDurable(**store, wiring, req, stats, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  const bool done = r->progress == jobs::RunProgress::kDone;
  uint64_t failed = 0;
  for (const auto& f : app::DeadObjects(**store, r->run, &failed)) {
    std::fprintf(stderr, "failed: %s: %s\n", storage::PrintableKey(f.key).c_str(),
                 f.status.message().c_str());
  }
  std::vector<backup::CatalogArchive> archives;
  uint64_t deleted = 0;
  if (state::SqlSession* session = (*store)->session(); session != nullptr) {
    auto catalog = backup::CatalogStore::Open(*session);
    if (!catalog.ok()) return ReportError(catalog.status());
    auto settled = app::SettleDeletions(**store, **catalog, loc->text, r->run);
    if (!settled.ok()) return ReportError(settled.status().WithContext("recording deletions"));
    deleted = *settled;
    if (auto listed = (*catalog)->Archives(loc->text); listed.ok()) archives = *listed;
  }
  // the archives written at the backup location, kept there in STANDARD
  std::vector<StoreRunCost> costs = MeasuredStoreCosts(wiring.config());
  AddStoredBytes(costs, StoreLabelOf(loc->location), stats.transport_bytes_wire.load(), "");
  PrintSummary(a, *loc, stats,
               BackupOutcome{.run = r->run,
                             .done = done,
                             .seconds = r->seconds,
                             .deleted = deleted,
                             .archives = std::move(archives),
                             .costs = std::move(costs)});
  if (ctx.stop.stop_requested()) {
    return ReportError(Status::Cancelled("interrupted; rerun the same backup to resume"));
  }
  if (!done) {
    std::fprintf(stderr, "backup run %lld did not finish (see ferry jobs dlq --state %s)\n",
                 static_cast<long long>(r->run), state::RedactUrl(state).c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void RegisterBackup(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<BackupArgs>();
  CLI::App* cmd = app.add_subcommand(
      "backup",
      "pack SRC into compressed archives kept at BACKUP_LOC, recorded in a catalog; only what "
      "changed since the last backup is packed (restore with `ferry restore`)");
  cmd->add_option("SRC", args->src, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  cmd->add_option("BACKUP_LOC", args->location,
                  "where the archives are kept (REMOTE:bucket/prefix)")
      ->required();
  cmd->add_option("--notify", args->notify,
                  "tell the run's end (done, failed, dead) to URL: http(s)://..., sns:TOPIC_ARN or "
                  "sqs:QUEUE_URL; repeatable; besides the config's [[notify]]");
  cmd->add_option("--state", args->state,
                  "state store holding the run and the catalog (SQLite path or postgres://...; "
                  "default: a file per backup location in ~/.local/state/ferry, kept)");
  cmd->add_option("--compress-level", args->compress_level,
                  "zstd level, 1..19 (default 0: chosen per content class from the measured "
                  "history, see docs/design/transport.md)");
  cmd->add_option("--archive-size", args->archive_size,
                  "raw bytes packed into one archive (default 64MiB)");
  AddEngineOptions(cmd, args->engine, BackupEngine(*args));
  cmd->add_option("--max-attempts", args->max_attempts,
                  "attempts per job before it is dead (default 5)");
  cmd->add_flag("--restart", args->restart,
                "discard the unfinished backup run of SRC and BACKUP_LOC and start a new one");
  AddListingOptions(cmd, args->listing);
  cmd->add_flag("--json", args->json, "print a JSON summary on stdout");
  cmd->callback([args, &ctx] { ctx.exit_code = RunBackup(*args, ctx); });
}

}  // namespace ferry::cli
