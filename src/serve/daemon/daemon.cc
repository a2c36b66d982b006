// The daemon's run (daemon.h): the state store, the listeners, the configuration served
// (instance.h) and the SIGHUP reload loop. SIGTERM or SIGINT: the intake answers 503, the SQS
// pollers stop polling, the workers stop (jobs in flight cancelled, given back to the store at
// once) and Run returns Ok.
#include "serve/daemon/daemon.h"

#include <mutex>

#include "app/kinds.h"
#include "app/state_files.h"
#include "dashboard/dashboard.h"
#include "jobs/backlog_metrics.h"
#include "jobs/run_metrics.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "serve/daemon/instance.h"
#include "serve/daemon/listener.h"
#include "serve/daemon/plan.h"

namespace ferry::serve::daemon {
namespace {

// The configuration served now, swapped by a reload; null while one stops and the next starts.
class CurrentInstance {
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

// One run of the daemon: Run's state, which the listeners' threads read through Handle.
class Daemon {
 public:
  Daemon(const ServeSettings& settings, const DaemonHooks& hooks, std::stop_token stop)
      : a_(settings), hooks_(hooks), stop_(stop) {}
  ~Daemon() { StopListeners(); }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  Status Run();

 private:
  Status Open(ServePlan first);
  Status StartListeners();
  Status ReloadLoop();
  // One SIGHUP: the config read again; a refused one is logged and counted. Errors: nothing
  // serves any more (the new configuration or a listener could not start).
  Status Reload();
  Result<std::shared_ptr<ServeInstance>> Replace(ServePlan plan);
  http::ServerResponse Handle(const http::ServerRequest& r, bool on_admin);
  void WarnNoAuth(const ServePlan& p);
  void StopListeners();

  const ServeSettings& a_;
  const DaemonHooks& hooks_;
  std::stop_token stop_;
  std::unique_ptr<jobs::JobStore> store_;
  Listener listener_;
  Listener admin_listener_;
  AdminAccess admin_access_;
  std::unique_ptr<jobs::BacklogMetrics> backlog_;
  std::unique_ptr<jobs::BacklogRefresher> backlog_refresher_;
  std::unique_ptr<jobs::RunMetrics> run_metrics_;  // read by the scrapes of /metrics
  CurrentInstance current_;
  std::shared_ptr<ServeInstance> serving_;  // Run's thread's: the one it started last
  obs::Registry& registry_ = obs::DefaultRegistry();
  obs::FamilyRef<obs::Counter> reloads_ = registry_.AddCounter(
      "ferry_serve_reloads_total",
      "Config reloads on SIGHUP by result: applied, or refused (the config did not check; the "
      "running one went on)",
      {"result"});
};

Status Daemon::Run() {
  Result<ServePlan> first = PlanServe(a_, stop_);
  if (!first.ok()) return first.status();
  FERRY_RETURN_IF_ERROR(Open(std::move(*first)));
  FERRY_RETURN_IF_ERROR(StartListeners());
  WarnNoAuth(serving_->plan());
  Status failed = ReloadLoop();
  current_.set(nullptr);
  if (serving_) serving_->Stop();
  serving_.reset();
  // No thread of this process runs a job any more: its jobs in flight go to the other serve and
  // worker processes of the store now, not when their leases run out.
  (void)store_->ExpireLeases(jobs::DefaultOwner());
  StopListeners();
  if (!failed.ok() && failed.code() != ErrorCode::kCancelled) return failed;
  obs::Log(obs::Level::kInfo, "ferry serve stopped");
  return Status::Ok();
}

// The store, the listeners' settings and the first configuration served.
Status Daemon::Open(ServePlan first) {
  const std::string state =
      a_.state.empty() ? app::StateDir() + "/replication.db" : a_.state;
  FERRY_ASSIGN_OR_RETURN(store_, jobs::OpenJobStore(state));
  if (store_->session() == nullptr) {
    return Status::InvalidArgument("--state: ferry serve needs a SQL state store");
  }
  listener_.options = ListenerOptions(a_, first);
  admin_listener_.options = AdminListenerOptions(a_, first);
  FERRY_ASSIGN_OR_RETURN(listener_.pem, http::ReadServerTls(listener_.options.tls));
  admin_listener_.pem = listener_.pem;
  admin_access_.set(AdminRules(a_, first));
  // the fleet's backlog gauges (jobs/backlog_metrics.h): every run in the store, served here or
  // by `ferry worker`s, so that workers can be scaled on them even when none runs
  backlog_ = std::make_unique<jobs::BacklogMetrics>(registry_, &app::RoleOf);
  backlog_refresher_ =
      std::make_unique<jobs::BacklogRefresher>(*backlog_, *store_, SystemClock::Default());
  // the runs' gauges the alarms watch (jobs/run_metrics.h): dead jobs, stalls, failed runs
  run_metrics_ = std::make_unique<jobs::RunMetrics>(registry_, *store_, SystemClock::Default());
  FERRY_ASSIGN_OR_RETURN(
      std::unique_ptr<ServeInstance> began,
      ServeInstance::Begin(std::move(first), *store_,
                           {.scan_now = true, .export_stats = hooks_.export_stats}, stop_));
  serving_ = std::move(began);
  current_.set(serving_);
  return Status::Ok();
}

// Both listeners: /events (the public one only) and /healthz to anyone, the admin paths as
// AdminAccess says; /healthz, /api/status and /events answer 503 while no configuration serves.
http::ServerResponse Daemon::Handle(const http::ServerRequest& r, bool on_admin) {
  const bool open_path = r.path == "/healthz" || (!on_admin && r.path == "/events");
  if (!open_path) {
    if (on_admin && r.path == "/events") return http::ServerResponse::Text(404, "not found\n");
    if (auto refused = admin_access_.Refusal(r, on_admin)) return *std::move(refused);
    if (r.path == "/metrics") {
      http::ServerResponse m = http::ServerResponse::Text(200, registry_.RenderPrometheus());
      m.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return m;
    }
    if (auto page = dashboard::Handle(r, registry_)) return *std::move(page);
  }
  std::shared_ptr<ServeInstance> now = current_.get();
  if (now == nullptr) {
    if (r.path == "/healthz" || r.path == "/api/status" || r.path == "/events") {
      return Unavailable(stop_.stop_requested() ? "stopping" : "reloading the config");
    }
    return http::ServerResponse::Text(404, "not found\n");
  }
  std::optional<http::ServerResponse> answered = now->Handle(r);
  return answered ? *std::move(answered) : http::ServerResponse::Text(404, "not found\n");
}

Status Daemon::StartListeners() {
  const http::ServerHandler handler = [this](const http::ServerRequest& r) {
    return Handle(r, false);
  };
  FERRY_ASSIGN_OR_RETURN(listener_.server, http::HttpServer::Start(listener_.options, handler));
  if (!admin_listener_.options.listen.empty()) {
    const http::ServerHandler admin = [this](const http::ServerRequest& r) {
      return Handle(r, true);
    };
    FERRY_ASSIGN_OR_RETURN(admin_listener_.server,
                           http::HttpServer::Start(admin_listener_.options, admin));
    hooks_.announce("ferry serve: admin paths (/metrics, /api/status, the dashboard) on " +
                    admin_listener_.server->url());
  }
  const std::string url = listener_.server->url();
  hooks_.announce("ferry serve: listening on " + url +
                  " (events: " + (serving_->intake_on() ? url + "/events" : "off") + ")");
  return Status::Ok();
}

void Daemon::WarnNoAuth(const ServePlan& p) {
  if (!p.no_auth) return;
  obs::Log(obs::Level::kWarn, "--insecure-no-auth: POST /events takes events without a token "
                              "from anyone who can reach " + listener_.server->url());
}

Status Daemon::ReloadLoop() {
  uint64_t seen = hooks_.listen_for_hangups();
  while (!stop_.stop_requested()) {
    if (Status f = serving_->Failure(); !f.ok()) return f;
    const uint64_t now = hooks_.wait_for_hangup(seen, std::chrono::milliseconds(250), stop_);
    if (now == seen || stop_.stop_requested()) continue;
    seen = now;
    FERRY_RETURN_IF_ERROR(Reload());
  }
  return Status::Ok();
}

Status Daemon::Reload() {
  obs::Log(obs::Level::kInfo, "SIGHUP: reading the config again");
  Result<ServePlan> plan = PlanServe(a_, stop_);
  if (!plan.ok()) {
    reloads_.WithLabels({"refused"}).Add();
    obs::Log(obs::Level::kError, "config reload refused, still serving the previous config: " +
                                     plan.status().message());
    return Status::Ok();
  }
  http::ServerOptions relisten = ListenerOptions(a_, *plan);
  http::ServerOptions admin_relisten = AdminListenerOptions(a_, *plan);
  const AdminAccess::Rules admin_rules = AdminRules(a_, *plan);
  // [limits] of the new file (checked when it was read); the command line's still win
  if (Status l = hooks_.apply_limits(plan->wiring->config().limits); !l.ok()) {
    obs::Log(obs::Level::kError, "config reload: limits not changed: " + l.message());
  }
  serving_.reset();
  Result<std::shared_ptr<ServeInstance>> next = Replace(std::move(*plan));
  if (!next.ok()) return next.status().WithContext("config reload");
  serving_ = *std::move(next);
  const http::ServerHandler handler = [this](const http::ServerRequest& r) {
    return Handle(r, false);
  };
  const http::ServerHandler admin = [this](const http::ServerRequest& r) {
    return Handle(r, true);
  };
  if (Status l = Relisten(listener_, std::move(relisten), handler); !l.ok()) {
    return l.WithContext("config reload");
  }
  if (Status l = RelistenAdmin(admin_listener_, std::move(admin_relisten), admin); !l.ok()) {
    return l.WithContext("config reload");
  }
  admin_access_.set(admin_rules);
  WarnNoAuth(serving_->plan());
  reloads_.WithLabels({"applied"}).Add();
  obs::Log(obs::Level::kInfo, "config reloaded");
  return Status::Ok();
}

// Stops the configuration served, gives its jobs in flight back to the store (no lease of this
// process is still held by anyone of it), and starts `plan` in its place. Errors: the new
// one's (nothing serves).
Result<std::shared_ptr<ServeInstance>> Daemon::Replace(ServePlan plan) {
  std::shared_ptr<ServeInstance> old = current_.get();
  current_.set(nullptr);
  if (old) old->Stop();
  old.reset();
  if (Result<uint64_t> given = store_->ExpireLeases(jobs::DefaultOwner()); !given.ok()) {
    obs::Log(obs::Level::kWarn, "could not give back the leases of the configuration stopped: " +
                                    given.status().message());
  }
  FERRY_ASSIGN_OR_RETURN(
      std::unique_ptr<ServeInstance> next,
      ServeInstance::Begin(std::move(plan), *store_,
                           {.scan_now = false, .export_stats = hooks_.export_stats}, stop_));
  std::shared_ptr<ServeInstance> shared = std::move(next);
  current_.set(shared);
  return shared;
}

// The listeners stop first: no request reaches what is destroyed after them.
void Daemon::StopListeners() {
  admin_listener_.server.reset();
  listener_.server.reset();
}

}  // namespace

Status Run(const ServeSettings& settings, const DaemonHooks& hooks, std::stop_token stop) {
  Daemon daemon(settings, hooks, stop);
  return daemon.Run();
}

}  // namespace ferry::serve::daemon
