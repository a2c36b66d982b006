// ferry worker --state URL: serve every run in a state store until interrupted.
// ferry jobs list|show|dlq|redrive|purge --state URL: inspect and act on durable jobs.
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>

#include "app/config_replication_events.h"
#include "app/durable.h"
#include "app/notify_run.h"
#include "app/state_files.h"
#include "app/views.h"
#include "app/engine.h"
#include "cli/commands.h"
#include "cli/commands/cost_report.h"
#include "cli/commands/metrics.h"
#include "cli/engine_options.h"
#include "cli/hangups.h"
#include "cli/limits_options.h"
#include "app/kinds.h"
#include "jobs/backlog_metrics.h"
#include "jobs/redrive.h"
#include "jobs/run_metrics.h"
#include "jobs/kinds/registry.h"
#include "obs/log.h"
#include "state/state_url.h"
#include "storage/key.h"
#include "transfer/progress.h"

namespace ferry::cli {
namespace {

struct JobsArgs {
  std::string state;
  int64_t id = 0;
  int limit = 50;
  bool dead_too = false;
  bool json = false;
  EngineArgs engine;  // worker --concurrency, --memory
  ListingArgs listing;
  int lease_ttl = 60;
  std::string kinds;   // worker --kinds: "" = every kind
  std::string region;  // worker --region
  std::string role;    // worker --role: a named set of kinds
  int64_t run = 0;          // worker --run: serve this run only (0 = every run)
  bool until_done = false;  // worker --until-done: return once --run has ended
};

// One line per job; in text, a transfer job that kept its failed objects' own errors is
// followed by one indented "failed: KEY: ERROR" line per object (its line shows the first).
void PrintJobs(const std::vector<jobs::Job>& list, bool json) {
  for (const auto& j : list) {
    const std::string line =
        json ? app::JobJson(j).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
             : app::JobLine(j);
    std::printf("%s\n", line.c_str());
    if (json) continue;
    for (const app::ObjectError& e : app::JobObjectErrors(j)) {
      std::printf("    failed: %s: %s\n", storage::PrintableKey(e.key).c_str(), e.error.c_str());
    }
  }
}

// For the commands given a RUN: one that names no run of the store is bad input (0 = all).
Status CheckRun(jobs::JobStore& store, const JobsArgs& a) {
  if (a.id == 0) return Status::Ok();
  auto run = store.GetRun(a.id);
  if (run.ok()) return Status::Ok();
  if (run.status().code() != ErrorCode::kNotFound) return run.status();
  return Status::InvalidArgument("run " + std::to_string(a.id) + " not found in " +
                                 state::RedactUrl(a.state));
}

int RunList(const JobsArgs& a) {
  if (Status s = app::CheckStateExists(a.state); !s.ok()) return ReportError(s);
  auto store = jobs::OpenJobStore(a.state);
  if (!store.ok()) return ReportError(store.status());
  auto views = app::ListRunViews(**store, a.limit, app::Kinds(),
                                 std::chrono::system_clock::now());
  if (!views.ok()) return ReportError(views.status());
  for (const app::RunView& v : *views) {
    const std::string line =
        a.json ? app::RunJson(v).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
               : app::RunLine(v);
    std::printf("%s\n", line.c_str());
  }
  return 0;
}

int RunShow(const JobsArgs& a) {
  if (Status s = app::CheckStateExists(a.state); !s.ok()) return ReportError(s);
  auto store = jobs::OpenJobStore(a.state);
  if (!store.ok()) return ReportError(store.status());
  if (Status s = CheckRun(**store, a); !s.ok()) return ReportError(s);
  auto list = (*store)->ListJobs(a.id, std::nullopt, a.limit);
  if (!list.ok()) return ReportError(list.status());
  PrintJobs(*list, a.json);
  return 0;
}

int RunDlq(const JobsArgs& a) {
  if (Status s = app::CheckStateExists(a.state); !s.ok()) return ReportError(s);
  auto store = jobs::OpenJobStore(a.state);
  if (!store.ok()) return ReportError(store.status());
  if (Status s = CheckRun(**store, a); !s.ok()) return ReportError(s);
  auto list = (*store)->ListJobs(a.id, jobs::JobState::kDead, a.limit);
  if (!list.ok()) return ReportError(list.status());
  PrintJobs(*list, a.json);
  return 0;
}

int RunRedrive(const JobsArgs& a) {
  if (Status s = app::CheckStateExists(a.state); !s.ok()) return ReportError(s);
  auto store = jobs::OpenJobStore(a.state);
  if (!store.ok()) return ReportError(store.status());
  if (Status s = CheckRun(**store, a); !s.ok()) return ReportError(s);
  // its report's summary armed again too, so that the run's end writes it anew (jobs/redrive.h)
  auto n = jobs::RedriveRun(**store, a.id, app::Kinds());
  if (!n.ok()) return ReportError(n.status());
  std::fprintf(stderr, "requeued %llu dead jobs\n", static_cast<unsigned long long>(*n));
  return 0;
}

int RunPurge(const JobsArgs& a) {
  if (Status s = app::CheckStateExists(a.state); !s.ok()) return ReportError(s);
  auto store = jobs::OpenJobStore(a.state);
  if (!store.ok()) return ReportError(store.status());
  auto n = (*store)->Purge(a.dead_too);
  if (!n.ok()) return ReportError(n.status());
  std::fprintf(stderr, "purged %llu jobs\n", static_cast<unsigned long long>(*n));
  return 0;
}

// --kinds or --role into `w.kinds` (every kind when neither is given).
Status ApplyWorkerKinds(const JobsArgs& a, jobs::WorkerOptions& w) {
  if (!a.kinds.empty()) {
    auto kinds = app::Kinds().ParseKinds(a.kinds);
    if (!kinds.ok()) return kinds.status().WithContext("--kinds");
    w.kinds = std::move(kinds).value();
  }
  if (!a.role.empty()) {
    if (!a.kinds.empty()) return Status::InvalidArgument("give --role or --kinds");
    FERRY_ASSIGN_OR_RETURN(w.kinds, app::RoleKinds(a.role));
  }
  return Status::Ok();
}

// The requests in flight, 64 unless given; never adapted (a fleet's workers are sized).
app::EngineSettings WorkerEngine() {
  return app::EngineSettings{.profile = app::EngineProfile::kRequests, .default_concurrency = 64};
}

// What the worker did, on stderr when it returns.
void PrintWorkerTotals(const transfer::Stats& stats) {
  std::fprintf(stderr, "ferry worker: %llu objects copied (%s), %llu failed\n",
               static_cast<unsigned long long>(stats.objects_copied.load()),
               transfer::HumanBytes(static_cast<double>(stats.bytes_copied.load())).c_str(),
               static_cast<unsigned long long>(stats.failures()));
  if (stats.archives_unpacked.load() > 0 || stats.archives_staged.load() > 0) {
    std::fprintf(stderr,
                 "ferry worker: %llu archives packed (%s on the wire), %llu unpacked, %llu "
                 "checksums verified\n",
                 static_cast<unsigned long long>(stats.archives_staged.load()),
                 transfer::HumanBytes(static_cast<double>(stats.transport_bytes_wire.load()))
                     .c_str(),
                 static_cast<unsigned long long>(stats.archives_unpacked.load()),
                 static_cast<unsigned long long>(stats.entries_verified.load()));
  }
  if (const std::string levels = stats.LevelsUsedText(); !levels.empty()) {
    std::fprintf(stderr, "ferry worker: adaptive zstd levels (level x archives): %s\n",
                 levels.c_str());
  }
}

// SIGHUP: the config's [limits] read again (the command line's --bwlimit and --max-rps still
// win); the rest of the config holds until a restart.
void ReloadWorkerLimits(Context& ctx) {
  auto again = app::LoadConfig(ctx.global.config_path);
  Status l = again.ok() ? ApplyLimits(ctx.global, again->limits) : again.status();
  if (!l.ok()) {
    obs::Log(obs::Level::kError, "SIGHUP: limits not changed: " + l.message());
  } else {
    obs::Log(obs::Level::kInfo, "SIGHUP: [limits] read again from the config");
  }
}

int RunWorker(const JobsArgs& a, Context& ctx) {
  jobs::WorkerOptions w;
  if (Status s = ApplyListingOptions(a.listing, w); !s.ok()) return ReportError(s);
  if (Status s = ApplyWorkerKinds(a, w); !s.ok()) return ReportError(s);
  w.region = a.region;
  if (a.until_done && a.run == 0) {
    return ReportError(Status::InvalidArgument("--until-done needs --run"));
  }
  // SIGHUPs are the worker's from here on: one that comes while it starts reloads its [limits]
  // and never stops it (main's signal thread stops a process that has no listener: a reload
  // sent right after a start used to end the worker, limits_test FLAKY in session 44)
  std::optional<Hangups::Listening> hangups;
  const uint64_t hangups_at_start = ctx.hangups != nullptr ? ctx.hangups->count() : 0;
  if (ctx.hangups != nullptr) hangups.emplace(*ctx.hangups, [&ctx] { ReloadWorkerLimits(ctx); });
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto store = jobs::OpenJobStore(a.state);
  if (!store.ok()) return ReportError(store.status());
  if (a.run != 0) {
    if (auto run = (*store)->GetRun(a.run); !run.ok()) {
      return ReportError(run.status().WithContext("--run " + std::to_string(a.run)));
    }
    w.only_run = a.run;
    w.exit_when_done = a.until_done;
  }
  // the process's one executor: every run this worker serves shares its workers and budgets
  auto engine = app::Engine::Open(WithEngineArgs(WorkerEngine(), a.engine), *config);
  if (!engine.ok()) return ReportError(engine.status());
  // the engine set the limits of the config read above: a SIGHUP since then asked for newer ones
  if (ctx.hangups != nullptr && ctx.hangups->count() != hangups_at_start) {
    ReloadWorkerLimits(ctx);
  }
  // [serve.replication_events]: the failures and late completions this worker records are
  // written to the outbox, which `ferry serve` delivers.
  replicate::SetRecordedReplicationEvents(app::RecordedEvents(config->serve.replication_events));
  app::Wiring wiring(std::move(config).value());
  // ferry_cost_dollars_total{remote}: what the worker's requests cost (cost_report.h)
  const StoreCostMetrics store_costs(wiring.config());
  w.owner = jobs::DefaultOwner();
  w.registry = &app::Kinds();  // every kind of this ferry
  w.concurrency = (*engine)->requests();
  w.executor = &(*engine)->executor();
  w.lease_ttl = std::chrono::seconds(std::max(2, a.lease_ttl));
  w.verbose = ctx.global.verbose;
  transfer::Stats stats;
  StatsMetrics stats_metrics(stats);  // the registry reads the worker's counters (metrics.h)
  jobs::Worker worker(**store, app::OpenerFor(wiring), w, stats);
  // the fleet's backlog gauges (jobs/backlog_metrics.h) and the runs' gauges the alarms watch
  // (jobs/run_metrics.h) where a scraper can read them
  std::optional<jobs::BacklogMetrics> backlog;
  std::optional<jobs::BacklogRefresher> backlog_refresher;
  std::optional<jobs::RunMetrics> run_metrics;
  if (!ctx.global.metrics_listen.empty()) {
    backlog.emplace(obs::DefaultRegistry(), &app::RoleOf);
    backlog_refresher.emplace(*backlog, **store, SystemClock::Default());
    run_metrics.emplace(obs::DefaultRegistry(), **store, SystemClock::Default());
  }
  obs::Log(obs::Level::kInfo, "ferry worker serving",
           {{"worker", w.owner},
            {"state", state::RedactUrl(a.state)},
            {"kinds", !a.role.empty() ? a.role : a.kinds.empty() ? std::string("all") : a.kinds},
            {"region", a.region}});
  // Run-end notifications left in the store's outbox (docs/design/notify.md): delivered now,
  // every 30 s and when the worker stops.
  const auto notifications = app::StartOutboxDelivery(**store, wiring, std::chrono::seconds(30));
  jobs::RunProgress progress = jobs::RunProgress::kWorking;
  Status s = worker.Run(ctx.stop, &progress);
  PrintWorkerTotals(stats);
  if (!s.ok()) return ReportError(s);
  if (a.until_done && progress != jobs::RunProgress::kDone && !ctx.stop.stop_requested()) {
    std::fprintf(stderr, "ferry worker: run %lld is blocked on dead jobs (ferry jobs dlq %lld)\n",
                 static_cast<long long>(a.run), static_cast<long long>(a.run));
    return 1;
  }
  return 0;
}

CLI::App* StateOption(CLI::App* cmd, JobsArgs& args) {
  cmd->add_option("--state", args.state, "state store: sqlite path or postgres://...")
      ->required();
  return cmd;
}

}  // namespace

void RegisterJobs(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<JobsArgs>();
  CLI::App* worker = app.add_subcommand("worker", "work on the runs of a state store");
  StateOption(worker, *args);
  AddEngineOptions(worker, args->engine, WorkerEngine());
  worker->add_option("--lease-ttl", args->lease_ttl,
                     "seconds a claimed job stays ours without renewal (default 60)");
  worker->add_option("--kinds", args->kinds,
                     "only these job kinds, comma-separated, and the kinds they wait for "
                     "(transfer: part; delete: delete-scope; any: report-part) (default: every "
                     "kind)");
  worker->add_option("--role", args->role,
                     "compressed transport: unpack (unpack and delete jobs, near the "
                     "destination) or pack (scan, transfer and pack jobs)");
  worker->add_option("--region", args->region,
                     "serve the jobs of this region and those of none (default: none only)");
  worker->add_option("--run", args->run, "serve only this run (default: every run)")
      ->check(CLI::PositiveNumber);
  worker->add_flag("--until-done", args->until_done,
                   "with --run: return once the run is done (exit 0) or blocked on dead jobs "
                   "(exit 1)");
  AddListingOptions(worker, args->listing);
  worker->callback([args, &ctx] { ctx.exit_code = RunWorker(*args, ctx); });

  CLI::App* jobs = app.add_subcommand("jobs", "inspect and act on durable runs and jobs");
  jobs->require_subcommand(1);
  struct Sub {
    const char* name;
    const char* help;
    int (*run)(const JobsArgs&);
    const char* id_help;
  };
  static const Sub kSubs[] = {
      {"list", "runs and their job counts", &RunList, nullptr},
      {"show", "jobs of a run (RUN, 0 = all)", &RunShow, "run id"},
      {"dlq", "dead jobs with their last error", &RunDlq, "run id (0 = all)"},
      {"redrive", "queue dead jobs again", &RunRedrive, "run id (0 = all)"},
      {"purge", "delete ended runs (done or discarded; --dead: and dead jobs)", &RunPurge,
       nullptr},
  };
  for (const Sub& sub : kSubs) {
    CLI::App* cmd = jobs->add_subcommand(sub.name, sub.help);
    StateOption(cmd, *args);
    if (sub.id_help != nullptr) cmd->add_option("RUN", args->id, sub.id_help);
    cmd->add_option("--limit", args->limit, "at most this many lines");
    cmd->add_flag("--json", args->json, "JSON lines");
    if (std::string(sub.name) == "purge") {
      cmd->add_flag("--dead", args->dead_too,
                    "dead jobs too; their runs end for good (none of their deletes ever runs)");
    }
    auto run = sub.run;
    cmd->callback([args, run, &ctx] { ctx.exit_code = run(*args); });
  }
}

}  // namespace ferry::cli
