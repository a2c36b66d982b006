// ferry serve: replication as a service (docs/design/serve.md). For each source of [serve]
// `replicate`, a continuous replication run of the state store by the config's rules: a
// repair scan at start and every `scan_interval`, and one replicate-event job per key that a
// bucket notification names (POST /events: RGW/MinIO webhooks with the token, AWS S3 through
// SNS verified by serve/sns_gate.h; or an SQS queue of [[serve.sqs]] polled on a thread of its
// own). Workers of this process (and any `ferry worker` or other `ferry serve` on the same
// store) run them on one executor (serve_instance.cc). The listener serves /events and /healthz
// to anyone; the admin paths — /metrics, /api/status (serve_status.h) and the dashboard
// (dashboard/dashboard.h: /, /assets/*, /api/metrics) — tell failed keys, error texts and lease
// owners, so they are served (AdminAccess): on the admin listener when there is one
// (--admin-listen, [serve] admin_listen; 404 on the other), else on the listener while it is
// bound to loopback only (403 otherwise), and with [serve] admin_token_env only to
// `Authorization: Bearer <its value>` (401). Roles (serve_roles.h): cache expiry
// ([[serve.cache]], as `ferry cache serve`) and unpack followers ([[serve.unpack]], as `ferry
// unpack --follow`), each a loop of its own, the unpacks on the same executor.
// SIGHUP: the config is read again; when it checks, the configuration served is stopped (its
// jobs in flight given back to the store at once) and the new one started, the listener
// answering 503 with Retry-After meanwhile; when it does not, the running one goes on and the
// error is logged. A changed listen address, body limit, or TLS certificate or key (other
// files, or the same files rewritten: a renewed certificate) restarts the listener with them
// (Relisten); one that cannot start leaves the previous listener serving. SIGTERM or SIGINT: the intake answers 503, the SQS pollers stop polling, the
// workers stop (jobs in flight cancelled, given back to the store at once) and it exits 0.
#include <netinet/in.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include "app/kinds.h"
#include "app/state_files.h"
#include "cli/commands.h"
#include "cli/commands/serve_internal.h"
#include "cli/hangups.h"
#include "cli/limits_options.h"
#include "dashboard/dashboard.h"
#include "http/listen_address.h"
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

// Whether `listen` binds a loopback address only (127.0.0.0/8, ::1): who reaches it is on
// this machine.
bool LoopbackOnly(const std::string& listen) {
  Result<http::ListenAddress> a = http::ParseListen(listen, "listen");
  if (!a.ok()) return false;
  if (a->ipv6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a->address);
    return std::memcmp(&in6->sin6_addr, &in6addr_loopback, sizeof(in6_addr)) == 0;
  }
  const auto* in4 = reinterpret_cast<const sockaddr_in*>(&a->address);
  return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
}

// Who may read the admin paths (/metrics, /api/status, the dashboard), from the plan served
// now: set at start and on each reload, read by the listeners' threads.
class AdminAccess {
 public:
  struct Rules {
    std::string token;          // "": no token asked
    bool admin_listener = false;  // the admin paths are the admin listener's only
    bool public_loopback = true;  // the listener binds loopback only
  };
  void set(Rules r) {
    std::lock_guard lock(mu_);
    rules_ = std::move(r);
  }
  // The refusal of an admin path's request `r` on the listener (`on_admin` false) or the admin
  // listener, or nullopt when it may be answered.
  std::optional<http::ServerResponse> Refusal(const http::ServerRequest& r, bool on_admin) const {
    Rules now;
    {
      std::lock_guard lock(mu_);
      now = rules_;
    }
    if (!on_admin && now.admin_listener) return http::ServerResponse::Text(404, "not found\n");
    if (!on_admin && !now.public_loopback && now.token.empty()) {
      return http::ServerResponse::Text(
          403, r.path + " is not served on a listener other hosts reach: set [serve] "
                        "admin_listen (or --admin-listen), or admin_token_env\n");
    }
    if (now.token.empty()) return std::nullopt;
    const std::string header = r.Header("authorization");
    constexpr std::string_view kBearer = "Bearer ";
    if (header.size() > kBearer.size() && header.compare(0, kBearer.size(), kBearer) == 0 &&
        SameToken(header.substr(kBearer.size()), now.token)) {
      return std::nullopt;
    }
    http::ServerResponse refused = http::ServerResponse::Text(401, "a token is required\n");
    refused.headers.emplace_back("WWW-Authenticate", "Bearer");
    return refused;
  }

 private:
  // Compared in a time that does not depend on where they differ.
  static bool SameToken(const std::string& a, const std::string& b) {
    if (a.size() != b.size()) return false;
    unsigned char diff = 0;
    for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
    return diff == 0;
  }

  mutable std::mutex mu_;
  Rules rules_;  // GUARDED_BY(mu_)
};

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

// The admin listener's settings (an empty `listen`: none): the command line's --admin-listen
// wins; the listener's TLS files; no body.
http::ServerOptions AdminListenerOptions(const ServeArgs& a, const ServePlan& plan) {
  http::ServerOptions so;
  so.listen = a.admin_listen.empty() ? plan.serve.admin_listen : a.admin_listen;
  so.option = a.admin_listen.empty() ? "[serve] admin_listen" : "--admin-listen";
  so.tls = plan.tls;
  so.max_body = 0;
  so.max_connections = 32;
  so.idle_seconds = 10;
  so.registry = &obs::DefaultRegistry();
  so.name = "serve_admin";
  return so;
}

AdminAccess::Rules AdminRules(const ServeArgs& a, const ServePlan& plan) {
  return {.token = plan.admin_token,
          .admin_listener = !AdminListenerOptions(a, plan).listen.empty(),
          .public_loopback = LoopbackOnly(ListenerOptions(a, plan).listen)};
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

// Relisten for the admin listener, which a reload may also start (admin_listen set now) or
// stop (unset now).
Status RelistenAdmin(Listener& l, http::ServerOptions next, const http::ServerHandler& handler) {
  if (next.listen.empty()) {
    if (l.server) obs::Log(obs::Level::kInfo, "the admin listener stopped (admin_listen unset)");
    l.server.reset();
    l.options = std::move(next);
    return Status::Ok();
  }
  if (l.server) return Relisten(l, std::move(next), handler);
  Result<http::TlsPem> pem = http::ReadServerTls(next.tls);
  if (!pem.ok()) return Status::Ok();  // PlanServe checked them: changed since
  Result<std::unique_ptr<http::HttpServer>> started = http::HttpServer::Start(next, handler);
  if (!started.ok()) {
    obs::Log(obs::Level::kError, "config reload: the admin listener could not start: " +
                                     started.status().message());
    return Status::Ok();  // the admin paths stay refused on the listener; serving goes on
  }
  l.server = std::move(*started);
  l.options = std::move(next);
  l.pem = std::move(*pem);
  obs::Log(obs::Level::kInfo, "admin listener started on " + l.server->url());
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
  Listener admin_listener;
  admin_listener.options = AdminListenerOptions(a, *first);
  {
    Result<http::TlsPem> pem = http::ReadServerTls(listener.options.tls);
    if (!pem.ok()) return ReportError(pem.status());
    listener.pem = std::move(*pem);
    admin_listener.pem = listener.pem;
  }
  AdminAccess admin_access;
  admin_access.set(AdminRules(a, *first));
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
  // Both listeners: /events (the public one only) and /healthz to anyone, the admin paths as
  // AdminAccess says.
  const auto handle = [&](const http::ServerRequest& r, bool on_admin) {
    const bool open_path = r.path == "/healthz" || (!on_admin && r.path == "/events");
    if (!open_path) {
      if (on_admin && r.path == "/events") return http::ServerResponse::Text(404, "not found\n");
      if (auto refused = admin_access.Refusal(r, on_admin)) return *std::move(refused);
      if (r.path == "/metrics") {
        http::ServerResponse m = http::ServerResponse::Text(200, registry.RenderPrometheus());
        m.content_type = "text/plain; version=0.0.4; charset=utf-8";
        return m;
      }
      if (auto page = dashboard::Handle(r, registry)) return *std::move(page);
    }
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
  const http::ServerHandler handler = [&](const http::ServerRequest& r) { return handle(r, false); };
  const http::ServerHandler admin_handler = [&](const http::ServerRequest& r) {
    return handle(r, true);
  };
  {
    auto server = http::HttpServer::Start(listener.options, handler);
    if (!server.ok()) return ReportError(server.status());
    listener.server = std::move(*server);
  }
  if (!admin_listener.options.listen.empty()) {
    auto server = http::HttpServer::Start(admin_listener.options, admin_handler);
    if (!server.ok()) return ReportError(server.status());
    admin_listener.server = std::move(*server);
    std::printf("ferry serve: admin paths (/metrics, /api/status, the dashboard) on %s\n",
                admin_listener.server->url().c_str());
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
    http::ServerOptions admin_relisten = AdminListenerOptions(a, *plan);
    const AdminAccess::Rules admin_rules = AdminRules(a, *plan);
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
    if (Status l = RelistenAdmin(admin_listener, std::move(admin_relisten), admin_handler);
        !l.ok()) {
      failed = l.WithContext("config reload");
      break;
    }
    admin_access.set(admin_rules);
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
  cmd->add_option("--admin-listen", args->admin_listen,
                  "HOST:PORT (PORT alone: 127.0.0.1) of a second listener for /metrics, "
                  "/api/status and the dashboard, then not served on --listen (default: "
                  "[serve] admin_listen)");
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
