// ferry serve: replication as a service (docs/design/serve.md). For each source of [serve]
// `replicate`, a continuous replication run of the state store by the config's rules: a
// repair scan at start and every `scan_interval`, and one replicate-event job per key that a
// bucket notification names (POST /events: RGW/MinIO webhooks with the token, AWS S3 through
// SNS verified by serve/sns_gate.h; or an SQS queue of [[serve.sqs]] polled on a thread of its
// own). Workers of this process (and any `ferry worker` or other `ferry serve` on the same
// store) run them on one executor (serve_instance.cc). One listener serves /healthz, /metrics,
// /api/status (serve_status.h), /events and the dashboard (dashboard/dashboard.h: /, /assets/*,
// /api/metrics) for as long as the process runs. Roles (serve_roles.h): cache expiry
// ([[serve.cache]], as `ferry cache serve`) and unpack followers ([[serve.unpack]], as `ferry
// unpack --follow`), each a loop of its own, the unpacks on the same executor.
// SIGHUP: the config is read again; when it checks, the configuration served is stopped (its
// jobs in flight given back to the store at once) and the new one started, the listener
// answering 503 with Retry-After meanwhile; when it does not, the running one goes on and the
// error is logged. A changed listen address, body limit, or TLS certificate or key (other
// files, or the same files rewritten: a renewed certificate) restarts the listener with them
// (Relisten); one that cannot start leaves the previous listener serving. SIGTERM or SIGINT: the intake answers 503, the SQS pollers stop polling, the
// workers stop (jobs in flight cancelled, given back to the store at once) and it exits 0.
#include <cstdio>
#include <memory>
#include <mutex>

#include "app/kinds.h"
#include "app/state_files.h"
#include "cli/commands.h"
#include "cli/commands/serve_internal.h"
#include "cli/hangups.h"
#include "cli/limits_options.h"
#include "dashboard/dashboard.h"
#include "jobs/backlog_metrics.h"
#include "obs/log.h"
#include "obs/metrics.h"

namespace ferry::cli {
namespace {

using serving::ServeArgs;
using serving::ServeInstance;
using serving::ServePlan;

std::string DefaultStatePath() { return app::StateDir() + "/replication.db"; }

// The configuration served now, swapped by a reload; null while one stops and the next starts.
class Current {
 public:
  std::shared_ptr<ServeInstance> get() const {
    std::lock_guard lock(mu_);
    return instance_;
  }
  void set(std::shared_ptr<ServeInstance> i) {
    std::lock_guard lock(mu_);
    instance_ = std::move(i);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<ServeInstance> instance_;
};

http::ServerResponse Unavailable(const char* why) {
  http::ServerResponse r = http::ServerResponse::Text(503, std::string(why) + "\n");
  r.headers.emplace_back("Retry-After", "2");
  return r;
}

// Stops `old`, gives its jobs in flight back to the store (no lease of this process is still
// held by anyone of it), and starts `plan` in its place. Errors: the new one's (nothing serves).
Result<std::shared_ptr<ServeInstance>> Replace(Current& current, jobs::JobStore& store,
                                               ServePlan plan, std::stop_token stop) {
  std::shared_ptr<ServeInstance> old = current.get();
  current.set(nullptr);
  if (old) old->Stop();
  old.reset();
  if (Result<uint64_t> given = store.ExpireLeases(jobs::DefaultOwner()); !given.ok()) {
    obs::Log(obs::Level::kWarn, "could not give back the leases of the configuration stopped: " +
                                    given.status().message());
  }
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<ServeInstance> next,
                         ServeInstance::Begin(std::move(plan), store, {.scan_now = false}, stop));
  std::shared_ptr<ServeInstance> shared = std::move(next);
  current.set(shared);
  return shared;
}

// The listener's settings from a plan (the command line's --listen wins).
http::ServerOptions ListenerOptions(const ServeArgs& a, const ServePlan& plan) {
  http::ServerOptions so;
  so.listen = a.listen.empty() ? plan.serve.listen : a.listen;
  so.option = a.listen.empty() ? "[serve] listen" : "--listen";
  so.tls = plan.tls;
  so.max_body = plan.serve.max_event_body;
  so.max_connections = 256;
  so.idle_seconds = 10;
  so.registry = &obs::DefaultRegistry();
  so.name = "serve";
  return so;
}

// The listener and what it was started with, so that a reload can tell whether it must start
// again: its address, body limit, TLS files and their text as read then.
struct Listener {
  std::unique_ptr<http::HttpServer> server;
  http::ServerOptions options;
  http::TlsPem pem;
};

// After a reload that checked: the listener started again with `next` when anything it was
// started with changed (the TLS files' text included). The old one stops first (its port is
// free for the new one); if the new one cannot start, the old settings are started again and
// the error logged. Errors: neither could start (nothing listens).
Status Relisten(Listener& l, http::ServerOptions next, const http::ServerHandler& handler) {
  Result<http::TlsPem> pem = http::ReadServerTls(next.tls);
  if (!pem.ok()) return Status::Ok();  // PlanServe checked them: changed since; keep serving
  if (next.listen == l.options.listen && next.max_body == l.options.max_body &&
      next.tls.cert_file == l.options.tls.cert_file &&
      next.tls.key_file == l.options.tls.key_file && pem->cert == l.pem.cert &&
      pem->key == l.pem.key) {
    return Status::Ok();
  }
  l.server.reset();
  Result<std::unique_ptr<http::HttpServer>> started = http::HttpServer::Start(next, handler);
  if (started.ok()) {
    l.server = std::move(*started);
    l.options = std::move(next);
    l.pem = std::move(*pem);
    obs::Log(obs::Level::kInfo, "listener started again on " + l.server->url() +
                                    (l.options.tls.cert_file.empty() ? "" : " (TLS files read again)"));
    return Status::Ok();
  }
  obs::Log(obs::Level::kError, "config reload: the listener could not start with the new "
                               "settings, the previous ones kept: " + started.status().message());
  Result<std::unique_ptr<http::HttpServer>> again = http::HttpServer::Start(l.options, handler);
  if (!again.ok()) return again.status().WithContext("the listener could not start again");
  l.server = std::move(*again);
  return Status::Ok();
}

int RunServe(const ServeArgs& a, Context& ctx) {
  Result<ServePlan> first = serving::PlanServe(a, ctx.global.config_path, ctx.stop);
  if (!first.ok()) return ReportError(first.status());
  const std::string state = a.state.empty() ? DefaultStatePath() : a.state;
  auto opened_store = jobs::OpenJobStore(state);
  if (!opened_store.ok()) return ReportError(opened_store.status());
  std::unique_ptr<jobs::JobStore> store = std::move(*opened_store);
  if (store->session() == nullptr) {
    return ReportError(Status::InvalidArgument("--state: ferry serve needs a SQL state store"));
  }
  Listener listener;
  listener.options = ListenerOptions(a, *first);
  {
    Result<http::TlsPem> pem = http::ReadServerTls(listener.options.tls);
    if (!pem.ok()) return ReportError(pem.status());
    listener.pem = std::move(*pem);
  }
  // the fleet's backlog gauges (jobs/backlog_metrics.h): every run in the store, served here or
  // by `ferry worker`s, so that workers can be scaled on them even when none runs
  jobs::BacklogMetrics backlog(obs::DefaultRegistry(), &app::RoleOf);
  jobs::BacklogRefresher backlog_refresher(backlog, *store, SystemClock::Default());
  auto began = ServeInstance::Begin(std::move(*first), *store, {.scan_now = true}, ctx.stop);
  if (!began.ok()) return ReportError(began.status());
  Current current;
  std::shared_ptr<ServeInstance> serving = std::move(*began);
  current.set(serving);
  obs::Registry& registry = obs::DefaultRegistry();
  auto reloads = registry.AddCounter(
      "ferry_serve_reloads_total",
      "Config reloads on SIGHUP by result: applied, or refused (the config did not check; the "
      "running one went on)",
      {"result"});
  const http::ServerHandler handler = [&](const http::ServerRequest& r) {
    if (r.path == "/metrics") {
      http::ServerResponse m = http::ServerResponse::Text(200, registry.RenderPrometheus());
      m.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return m;
    }
    if (auto page = dashboard::Handle(r, registry)) return *std::move(page);
    std::shared_ptr<ServeInstance> now = current.get();
    if (now == nullptr) {
      if (r.path == "/healthz" || r.path == "/api/status" || r.path == "/events") {
        return Unavailable(ctx.stop.stop_requested() ? "stopping" : "reloading the config");
      }
      return http::ServerResponse::Text(404, "not found\n");
    }
    std::optional<http::ServerResponse> answered = now->Handle(r);
    return answered ? *std::move(answered) : http::ServerResponse::Text(404, "not found\n");
  };
  {
    auto server = http::HttpServer::Start(listener.options, handler);
    if (!server.ok()) return ReportError(server.status());
    listener.server = std::move(*server);
  }
  std::printf("ferry serve: listening on %s (events: %s)\n", listener.server->url().c_str(),
              serving->intake_on() ? (listener.server->url() + "/events").c_str() : "off");
  std::fflush(stdout);
  const auto warn_no_auth = [&](const ServePlan& p) {
    if (!p.no_auth) return;
    obs::Log(obs::Level::kWarn, "--insecure-no-auth: POST /events takes events without a token "
                                "from anyone who can reach " + listener.server->url());
  };
  warn_no_auth(serving->plan());

  Hangups::Listening listening(*ctx.hangups);
  uint64_t seen = ctx.hangups->count();
  Status failed;
  while (!ctx.stop.stop_requested()) {
    if (Status f = serving->Failure(); !f.ok()) {
      failed = f;
      break;
    }
    const uint64_t now = ctx.hangups->WaitFor(seen, std::chrono::milliseconds(250), ctx.stop);
    if (now == seen || ctx.stop.stop_requested()) continue;
    seen = now;
    obs::Log(obs::Level::kInfo, "SIGHUP: reading the config again");
    Result<ServePlan> plan = serving::PlanServe(a, ctx.global.config_path, ctx.stop);
    if (!plan.ok()) {
      reloads.WithLabels({"refused"}).Add();
      obs::Log(obs::Level::kError, "config reload refused, still serving the previous config: " +
                                       plan.status().message());
      continue;
    }
    http::ServerOptions relisten = ListenerOptions(a, *plan);
    // [limits] of the new file (checked when it was read); the command line's still win
    if (Status l = ApplyLimits(ctx.global, plan->wiring->config().limits); !l.ok()) {
      obs::Log(obs::Level::kError, "config reload: limits not changed: " + l.message());
    }
    serving.reset();
    Result<std::shared_ptr<ServeInstance>> next = 
        Replace(current, *store, std::move(*plan), ctx.stop);
    if (!next.ok()) {
      failed = next.status().WithContext("config reload");
      break;
    }
    serving = *std::move(next);
    if (Status l = Relisten(listener, std::move(relisten), handler); !l.ok()) {
      failed = l.WithContext("config reload");
      break;
    }
    warn_no_auth(serving->plan());
    reloads.WithLabels({"applied"}).Add();
    obs::Log(obs::Level::kInfo, "config reloaded");
  }
  current.set(nullptr);
  if (serving) serving->Stop();
  serving.reset();
  // No thread of this process runs a job any more: its jobs in flight go to the other serve and
  // worker processes of the store now, not when their leases run out.
  (void)store->ExpireLeases(jobs::DefaultOwner());
  if (!failed.ok() && failed.code() != ErrorCode::kCancelled) return ReportError(failed);
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
  cmd->add_option("--listen", args->listen,
                  "HOST:PORT, or PORT alone for 127.0.0.1 (default: [serve] listen)");
  cmd->add_flag("--insecure-no-auth", args->insecure_no_auth,
                "POST /events takes events without a token (a trusted network only; warned at "
                "start; refused with [serve] token_env)");
  cmd->add_option("--tls-cert", args->tls_cert,
                  "serve HTTPS with this certificate (PEM, its chain after it); needs "
                  "--tls-key (default: [serve] tls_cert)");
  cmd->add_option("--tls-key", args->tls_key,
                  "the certificate's private key (PEM, not encrypted); needs --tls-cert "
                  "(default: [serve] tls_key)");
  cmd->add_option("--concurrency", args->concurrency, "keys replicated at once per run");
  cmd->add_option("--memory", args->memory, "buffer memory of the process (e.g. 256MiB)");
  cmd->add_option("--lease-ttl", args->lease_ttl,
                  "seconds a job stays this process's without a renewal: how long the jobs of "
                  "a killed process wait before another claims them (default 60)");
  cmd->callback([args, &ctx] { ctx.exit_code = RunServe(*args, ctx); });
}

}  // namespace ferry::cli
