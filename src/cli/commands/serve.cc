// ferry serve: replication as a service (docs/design/serve.md). For each source of [serve]
// `replicate`, a continuous replication run of the state store by the config's rules: a
// repair scan at start and every `scan_interval`, and one replicate-event job per key that a
// bucket notification names (POST /events: RGW/MinIO webhooks with the token, AWS S3 through
// SNS verified by serve/sns_gate.h; or an SQS queue of [[serve.sqs]] polled on a thread of its
// own). Workers of this process (and any `ferry worker` or other `ferry serve` on the same
// store) run them on one executor. One listener serves /healthz, /metrics, /api/status
// (serve_status.h), /events and the dashboard (dashboard/dashboard.h: /, /assets/*,
// /api/metrics). SIGTERM or SIGINT: the intake answers 503, the SQS pollers stop polling, the workers
// stop (a job in flight is given back to the store by its lease) and it exits 0.
#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

#include <unistd.h>

#include "app/config.h"
#include "app/durable.h"
#include "app/replication.h"
#include "app/sqs.h"
#include "app/state_files.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/metrics.h"
#include "cli/commands/serve_status.h"
#include "dashboard/dashboard.h"
#include "http/curl_transport.h"
#include "http/server.h"
#include "app/kinds.h"
#include "jobs/payload.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "plan/filter.h"
#include "replicate/kinds/kinds.h"
#include "replicate/payload.h"
#include "replicate/sla.h"
#include "replicate/status_store.h"
#include "serve/intake.h"
#include "serve/sns_certs.h"
#include "serve/sns_gate.h"
#include "serve/sqs_poller.h"
#include "state/state_url.h"
#include "transfer/executor.h"

namespace ferry::cli {
namespace {

struct ServeArgs {
  std::string state;
  std::string listen;  // overrides [serve] listen
  int concurrency = 0;
  std::string memory;
};

std::string DefaultStatePath() { return app::StateDir() + "/replication.db"; }

// One source served: its continuous run.
struct Served {
  app::ReplicationTargets targets;
  jobs::RunId run = 0;
};

// Finds the continuous run of `pass` or creates it with its first scan job. A continuous run
// of the source with other rules or options (the config changed) is ended and a new one starts
// (what the old one recorded stays in the status store: nothing is written twice). An
// unfinished `ferry replicate` pass of the source is refused: two runs would scan one source.
Result<jobs::RunId> ContinuousRun(jobs::JobStore& store, const replicate::DurablePass& pass,
                                  const std::string& destination,
                                  std::chrono::seconds scan_interval, std::stop_token stop) {
  jobs::RunOptions ro;
  ro.command = "replicate";  // a replication pass that starts over: the same kinds serve it
  ro.multipart_threshold = pass.multipart_threshold;
  ro.part_size = pass.part_size;
  ro.server_side_copy_limit = pass.server_side_copy_limit;
  FERRY_ASSIGN_OR_RETURN(std::string options,
                         replicate::EncodeDurablePass(pass, jobs::EncodeRunOptions(ro)));
  FERRY_ASSIGN_OR_RETURN(std::optional<jobs::Run> existing,
                         store.FindUnfinishedRun(pass.source, destination));
  if (existing && !existing->spec.continuous) {
    return Status::InvalidArgument("unfinished `ferry replicate` run " +
                                   std::to_string(existing->id) + " from " + pass.source +
                                   ": finish it (rerun it) or discard it (--restart) first");
  }
  if (existing && existing->spec.options == options &&
      existing->spec.rescan_interval == scan_interval) {
    FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, existing->id).status());
    // The repair scan runs at start too: what was written while no one served the source (its
    // events lost) is replicated now, not an interval later. The next round's scan is brought
    // forward; when a round is under way instead (the process that served it died in it) and
    // none of its scans waits, one more scan of the whole source joins it. Continuous runs lock
    // each key they write, so two scans of a key never both write it.
    FERRY_RETURN_IF_ERROR(store.Hasten(existing->id).status());
    FERRY_ASSIGN_OR_RETURN(jobs::RunCounts counts, store.CountJobs(existing->id));
    if (counts.of(jobs::kScanKind).of(jobs::JobState::kQueued) == 0 &&
        counts.of(replicate::kReplicateScanKind).of(jobs::JobState::kQueued) == 0) {
      jobs::JobSpec scan;
      scan.run = existing->id;
      scan.kind = replicate::kReplicateScanKind;
      scan.payload = jobs::EncodeScan(jobs::KeyRange{});
      scan.max_attempts = ro.max_attempts;
      FERRY_RETURN_IF_ERROR(store.Enqueue({scan}).status());
    }
    obs::Log(obs::Level::kInfo, "serving replication run " + std::to_string(existing->id),
             {{"source", pass.source}});
    return existing->id;
  }
  if (existing) {
    // The rules or options changed: the old run ends once its jobs' leases have run out.
    FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, existing->id).status());
    jobs::TimePoint until{};
    FERRY_ASSIGN_OR_RETURN(uint64_t removed, store.AbandonRun(existing->id, &until));
    obs::Log(obs::Level::kWarn, "the replication config changed: ended run " +
                                    std::to_string(existing->id) + " (" +
                                    std::to_string(removed) + " jobs removed)");
    FERRY_RETURN_IF_ERROR(app::WaitForLeases(until, existing->id, stop));
  }
  jobs::RunSpec spec{pass.source, destination, options};
  spec.continuous = true;
  spec.rescan_interval = std::chrono::duration_cast<std::chrono::milliseconds>(scan_interval);
  FERRY_ASSIGN_OR_RETURN(jobs::RunId run, store.CreateRun(spec));
  jobs::JobSpec scan;
  scan.run = run;
  scan.kind = replicate::kReplicateScanKind;
  scan.payload = jobs::EncodeScan(jobs::KeyRange{});
  scan.max_attempts = ro.max_attempts;
  FERRY_RETURN_IF_ERROR(store.Enqueue({scan}).status());
  obs::Log(obs::Level::kInfo, "started replication run " + std::to_string(run),
           {{"source", pass.source}});
  return run;
}

// The SNS half of the intake ([serve] sns_topics): its own HTTPS transport (the SNS hosts,
// verified against the system CA store or sns_ca_bundle), the certificate cache and the gate.
struct SnsParts {
  std::unique_ptr<http::CurlTransport> transport;
  std::unique_ptr<serve::SnsCertCache> certs;
  std::unique_ptr<serve::SnsGate> gate;
};

Result<SnsParts> OpenSns(const app::ServeConfig& serve) {
  if (!serve.sns_ca_bundle.empty() && ::access(serve.sns_ca_bundle.c_str(), R_OK) != 0) {
    return Status::InvalidArgument("[serve] sns_ca_bundle: cannot read " + serve.sns_ca_bundle);
  }
  http::CurlOptions co;
  co.connect_timeout_ms = 3000;
  co.low_speed_time_s = 5;
  co.default_timeout_ms = 5000;
  co.ca_bundle = serve.sns_ca_bundle;
  co.connect_to = serve.sns_test_connect_to;
  if (!co.connect_to.empty()) {
    obs::Log(obs::Level::kWarn, "[serve] sns_test_connect_to is set (tests only): every SNS host "
                                "is reached at " + co.connect_to);
  }
  SnsParts parts;
  parts.transport = std::make_unique<http::CurlTransport>(co);
  parts.certs = std::make_unique<serve::SnsCertCache>(*parts.transport, SystemClock::Default());
  parts.gate = std::make_unique<serve::SnsGate>(
      *parts.transport, *parts.certs, SystemClock::Default(),
      serve::SnsGateOptions{
          .topics = serve.sns_topics, .confirm_timeout_ms = 5000, .confirm_max_bytes = 64 * 1024});
  return parts;
}

int RunServe(const ServeArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  const app::ServeConfig serve = config->serve;
  if (!serve.present || serve.replicate.empty()) {
    return ReportError(Status::InvalidArgument(
        "nothing to serve: add [serve] with replicate = [\"remote:bucket\"] to the config"));
  }
  if (config->replication.rules.rules.empty()) {
    return ReportError(Status::InvalidArgument(
        "[serve] replicate needs rules: add [[replication.rules]] to the config"));
  }
  std::string token;
  if (!serve.token_env.empty()) {
    const char* value = std::getenv(serve.token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return ReportError(Status::InvalidArgument("[serve] token_env: the environment variable " +
                                                 serve.token_env + " is not set"));
    }
    token = value;
  }
  if (a.concurrency < 0 || a.concurrency > 1024) {
    return ReportError(Status::InvalidArgument("--concurrency: must be between 1 and 1024"));
  }
  uint64_t memory = 0;
  if (!a.memory.empty()) {
    auto m = plan::ParseSize(a.memory);
    if (!m.ok()) return ReportError(m.status().WithContext("--memory"));
    if (*m == 0) return ReportError(Status::InvalidArgument("--memory: must be above 0"));
    memory = *m;
  }
  replicate::DurablePass base;
  base.concurrency = a.concurrency > 0 ? a.concurrency : config->transfer.concurrency.value_or(16);
  if (config->transfer.multipart_threshold) {
    base.multipart_threshold = *plan::ParseSize(*config->transfer.multipart_threshold);
  }
  if (config->transfer.part_size) base.part_size = *plan::ParseSize(*config->transfer.part_size);
  if (config->replication.server_side_copy_limit) {
    base.server_side_copy_limit = *config->replication.server_side_copy_limit;
  }
  const replicate::RuleSet config_rules = config->replication.rules;
  auto sqs_queues = app::ResolveSqsQueues(*config);
  if (!sqs_queues.ok()) return ReportError(sqs_queues.status());
  app::Wiring wiring(std::move(config).value());

  std::vector<Served> served;
  std::vector<replicate::DurablePass> passes;
  for (const std::string& source : serve.replicate) {
    replicate::DurablePass pass = base;
    pass.rules = config_rules;
    auto targets = app::ResolveReplication(source, pass.rules);
    if (!targets.ok()) return ReportError(targets.status());
    auto opened = app::OpenReplication(wiring, *targets, ctx.stop);
    if (!opened.ok()) return ReportError(opened.status().WithContext(source));
    pass.source = targets->source_name;
    passes.push_back(std::move(pass));
    served.push_back({.targets = std::move(*targets), .run = 0});
  }
  const std::string state = a.state.empty() ? DefaultStatePath() : a.state;
  auto opened_store = jobs::OpenJobStore(state);
  if (!opened_store.ok()) return ReportError(opened_store.status());
  std::unique_ptr<jobs::JobStore> store = std::move(*opened_store);
  if (store->session() == nullptr) {
    return ReportError(Status::InvalidArgument("--state: ferry serve needs a SQL state store"));
  }
  // The SQS intakes (serve/sqs_poller.h): each queue checked before any run starts, polled on
  // its own thread once the runs are served.
  serve::EventRecorder sqs_recorder(*store);
  std::vector<std::unique_ptr<serve::SqsPoller>> pollers;
  for (app::SqsQueue& q : *sqs_queues) {
    pollers.push_back(std::make_unique<serve::SqsPoller>(std::move(q.endpoint), wiring.transport(),
                                                         sqs_recorder, std::move(q.options)));
    if (Status s = pollers.back()->Check(ctx.stop); !s.ok()) return ReportError(s);
  }
  for (size_t i = 0; i < served.size(); ++i) {
    auto run = ContinuousRun(*store, passes[i], served[i].targets.destinations.front().first,
                             serve.scan_interval, ctx.stop);
    if (!run.ok()) return ReportError(run.status());
    served[i].run = *run;
  }

  // The intakes: events for each source's bucket and prefix (POST /events with the token
  // and/or from SNS; SQS).
  std::vector<serve::IntakeSource> sources;
  for (const Served& s : served) {
    const app::Location& loc = s.targets.source;
    sources.push_back({.name = s.targets.source_name,
                       .bucket = loc.is_s3() ? loc.bucket : loc.path,
                       .prefix = loc.prefix,
                       .run = s.run});
  }
  SnsParts sns;
  if (!serve.sns_topics.empty()) {
    auto opened_sns = OpenSns(serve);
    if (!opened_sns.ok()) return ReportError(opened_sns.status());
    sns = std::move(*opened_sns);
  }
  std::unique_ptr<serve::EventIntake> intake;
  if (!token.empty() || sns.gate) {
    intake = std::make_unique<serve::EventIntake>(
        *store, serve::IntakeOptions{.token = token, .max_body = serve.max_event_body});
    intake->UseSns(sns.gate.get());
    intake->SetSources(sources);
  }
  sqs_recorder.SetSources(sources);
  // The replica status of the runs (the SLA gauges below, /api/status).
  auto status = replicate::StatusStore::Open(*store->session());
  if (!status.ok()) return ReportError(status.status());
  std::vector<ServedRun> status_runs;
  for (const Served& s : served) status_runs.push_back({s.targets.source_name, s.run});
  std::atomic<bool> stopping{false};
  obs::Registry& registry = obs::DefaultRegistry();
  http::ServerOptions so;
  so.listen = a.listen.empty() ? serve.listen : a.listen;
  so.option = a.listen.empty() ? "[serve] listen" : "--listen";
  so.max_body = serve.max_event_body;
  so.max_connections = 256;
  so.idle_seconds = 10;
  auto server = http::HttpServer::Start(so, [&](const http::ServerRequest& r) {
    if (r.path == "/healthz") {
      if (stopping.load()) return http::ServerResponse::Text(503, "stopping\n");
      Result<jobs::Run> run = store->GetRun(served.front().run);
      return run.ok() ? http::ServerResponse::Text(200, "ok\n")
                      : http::ServerResponse::Text(503, "state store unreachable: " +
                                                            run.status().message() + "\n");
    }
    if (r.path == "/metrics") {
      http::ServerResponse m = http::ServerResponse::Text(200, registry.RenderPrometheus());
      m.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return m;
    }
    if (r.path == "/api/status") {
      return http::ServerResponse::Json(
          200, ServeStatusJson(*store, **status, status_runs, SystemClock::Default()));
    }
    if (auto page = dashboard::Handle(r, registry)) return *std::move(page);
    if (r.path == "/events") {
      if (intake == nullptr) {
        return http::ServerResponse::Text(
            404, "event intake is off: set [serve] token_env or sns_topics\n");
      }
      if (stopping.load()) {
        http::ServerResponse busy = http::ServerResponse::Text(503, "stopping\n");
        busy.headers.emplace_back("Retry-After", "5");
        return busy;
      }
      return intake->Handle(r);
    }
    return http::ServerResponse::Text(404, "not found\n");
  });
  if (!server.ok()) return ReportError(server.status());
  std::printf("ferry serve: listening on %s (events: %s)\n", (*server)->url().c_str(),
              intake ? ((*server)->url() + "/events").c_str() : "off");
  std::fflush(stdout);
  for (auto& p : pollers) {
    p->Start();
    obs::Log(obs::Level::kInfo, "polling SQS queue " + p->queue_name());
  }

  // The workers: one per run served, on one executor.
  jobs::WorkerOptions w;
  w.owner = jobs::DefaultOwner();
  w.concurrency = std::max(16, base.concurrency * 4);
  w.memory_budget = memory > 0 ? memory : w.memory_budget;
  w.idle_poll = std::chrono::milliseconds(200);
  w.registry = &app::Kinds();
  transfer::ExecutorOptions eo;
  eo.concurrency = w.concurrency;
  eo.memory_budget = w.memory_budget;
  transfer::Executor executor(eo);
  w.executor = &executor;
  transfer::Stats stats;
  StatsMetrics stats_metrics(stats);  // the workers' counters in the registry (metrics.h)
  std::vector<std::unique_ptr<jobs::Worker>> workers;
  for (const Served& s : served) {
    jobs::WorkerOptions one = w;
    one.only_run = s.run;
    workers.push_back(std::make_unique<jobs::Worker>(*store, app::OpenerFor(wiring), one, stats));
  }
  // The replication SLA gauges (replicate/sla.h) of each source from the status store: at the
  // start, every 30 s, and when serving ends.
  std::vector<std::unique_ptr<replicate::SlaMetrics>> sla;
  std::vector<std::unique_ptr<replicate::SlaRefresher>> refreshers;
  for (size_t i = 0; i < served.size(); ++i) {
    sla.push_back(std::make_unique<replicate::SlaMetrics>(
        registry, served[i].targets.source_name, &passes[i].rules));
    refreshers.push_back(
        std::make_unique<replicate::SlaRefresher>(*sla.back(), **status, SystemClock::Default()));
  }
  std::vector<Status> ended(workers.size());
  std::stop_source halt;
  std::stop_callback forward(ctx.stop, [&] {
    stopping.store(true);
    halt.request_stop();
    for (auto& p : pollers) p->RequestStop();
  });
  {
    std::vector<std::jthread> threads;
    for (size_t i = 0; i < workers.size(); ++i) {
      threads.emplace_back([&, i] {
        ended[i] = workers[i]->Run(halt.get_token());
        if (!ended[i].ok() && ended[i].code() != ErrorCode::kCancelled) halt.request_stop();
      });
    }
  }
  stopping.store(true);
  for (const Status& s : ended) {
    if (!s.ok() && s.code() != ErrorCode::kCancelled) return ReportError(s);
  }
  obs::Log(obs::Level::kInfo, "ferry serve stopped");
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "replicate continuously from bucket events, with a repair scan ([serve] config)");
  cmd->add_option("--state", args->state,
                  "state store: a SQLite path or postgres://... (default: " +
                      std::string("the user's ferry state dir, replication.db)"));
  cmd->add_option("--listen", args->listen, "HOST:PORT (default: [serve] listen)");
  cmd->add_option("--concurrency", args->concurrency, "keys replicated at once per run");
  cmd->add_option("--memory", args->memory, "buffer memory of the process (e.g. 256MiB)");
  cmd->callback([args, &ctx] { ctx.exit_code = RunServe(*args, ctx); });
}

}  // namespace ferry::cli
