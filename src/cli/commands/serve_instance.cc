// ServePlan and ServeInstance (serve_internal.h): what ferry serve reads from its config, and
// one configuration served.
#include <algorithm>
#include <cstdlib>

#include <unistd.h>

#include "app/config_replication_events.h"
#include "app/continuous.h"
#include "app/durable.h"
#include "app/kinds.h"
#include "cli/commands.h"
#include "cli/limits_options.h"
#include "cli/commands/serve_internal.h"
#include "cli/commands/serve_status.h"
#include "http/curl_transport.h"
#include "http/listen_address.h"
#include "limits/limits.h"
#include "obs/log.h"
#include "plan/filter.h"
#include "transport/kinds/kinds.h"

namespace ferry::cli::serving {
namespace {

Result<SnsParts> OpenSns(const app::ServeConfig& serve, transfer::Executor& executor) {
  if (!serve.sns_ca_bundle.empty() && ::access(serve.sns_ca_bundle.c_str(), R_OK) != 0) {
    return Status::InvalidArgument("[serve] sns_ca_bundle: cannot read " + serve.sns_ca_bundle);
  }
  http::CurlOptions co;
  co.connect_timeout_ms = 3000;
  co.low_speed_time_s = 5;
  co.default_timeout_ms = 5000;
  co.ca_bundle = serve.sns_ca_bundle;
  co.connect_to = serve.sns_test_connect_to;
  co.throttle = &limits::ProcessLimits();
  if (!co.connect_to.empty()) {
    obs::Log(obs::Level::kWarn, "[serve] sns_test_connect_to is set (tests only): every SNS host "
                                "is reached at " + co.connect_to);
  }
  SnsParts parts;
  parts.transport = std::make_unique<http::CurlTransport>(co);
  parts.certs = std::make_unique<serve::SnsCertCache>(*parts.transport, SystemClock::Default());
  parts.queue = executor.Open();
  transfer::TaskQueue* queue = parts.queue.get();
  parts.gate = std::make_unique<serve::SnsGate>(
      *parts.transport, *parts.certs, SystemClock::Default(),
      serve::SnsGateOptions{
          .topics = serve.sns_topics,
          .confirm_timeout_ms = 5000,
          .confirm_max_bytes = 64 * 1024,
          // a priority task: taken before new objects, and its Push never waits for room
          .background =
              [queue](std::function<void()> work) {
                queue->Push([work = std::move(work)](std::stop_token) { work(); }, true);
              },
          .max_background = 4});
  return parts;
}

}  // namespace

namespace {

// ServePlan::unpack_regions: per source, the regions its rules' transported destinations name,
// all of them or those [serve] unpack_regions lists; a listed region no rule names is refused
// (it would unpack nothing: a typo, or rules that changed).
Status PlanUnpackRegions(ServePlan& plan) {
  std::set<std::string> named;
  for (const replicate::DurablePass& pass : plan.passes) {
    std::set<std::string> regions;
    for (const replicate::Rule& r : pass.rules.rules) {
      for (const replicate::Destination& d : r.destinations) {
        if (r.enabled && d.transport.compress && !d.transport.region.empty()) {
          regions.insert(d.transport.region);
        }
      }
    }
    named.insert(regions.begin(), regions.end());
    plan.unpack_regions.push_back(std::move(regions));
  }
  if (!plan.serve.unpack_regions) return Status::Ok();
  const std::set<std::string> wanted(plan.serve.unpack_regions->begin(),
                                     plan.serve.unpack_regions->end());
  for (const std::string& region : wanted) {
    if (named.count(region) == 0) {
      std::string known;
      for (const std::string& n : named) known += (known.empty() ? "" : ", ") + n;
      return Status::InvalidArgument(
          "[serve] unpack_regions: no transported destination of the served rules is in region "
          "\"" + region + "\" (" + (known.empty() ? "they name none" : "they name " + known) +
          ")");
    }
  }
  for (std::set<std::string>& regions : plan.unpack_regions) {
    std::erase_if(regions, [&](const std::string& r) { return wanted.count(r) == 0; });
  }
  return Status::Ok();
}

}  // namespace

Result<ServePlan> PlanServe(const ServeArgs& a, const std::string& config_path,
                            std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(app::Config config, app::LoadConfig(config_path));
  ServePlan plan;
  plan.serve = config.serve;
  if (plan.serve.replicate.empty() && config.schedules.empty() && plan.serve.cache.empty() &&
      plan.serve.unpack.empty()) {
    return Status::InvalidArgument(
        "nothing to serve: add [serve] with replicate = [\"remote:bucket\"], [[serve.cache]], "
        "[[serve.unpack]], or [[schedules]], to the config");
  }
  if (!plan.serve.replicate.empty() && config.replication.rules.rules.empty()) {
    return Status::InvalidArgument("[serve] replicate needs rules: add [[replication.rules]] to "
                                   "the config");
  }
  if (!plan.serve.token_env.empty()) {
    const char* value = std::getenv(plan.serve.token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return Status::InvalidArgument("[serve] token_env: the environment variable " +
                                     plan.serve.token_env + " is not set");
    }
    plan.token = value;
  }
  if (!plan.serve.admin_token_env.empty()) {
    const char* value = std::getenv(plan.serve.admin_token_env.c_str());
    if (value == nullptr || *value == '\0') {
      return Status::InvalidArgument("[serve] admin_token_env: the environment variable " +
                                     plan.serve.admin_token_env + " is not set");
    }
    plan.admin_token = value;
  }
  if (const app::ReplicationEventsConfig& ev = plan.serve.replication_events; ev.present) {
    if (!ev.token_env.empty()) {
      const char* value = std::getenv(ev.token_env.c_str());
      if (value == nullptr || *value == '\0') {
        return Status::InvalidArgument("[serve.replication_events] token_env: the environment "
                                       "variable " + ev.token_env + " is not set");
      }
      plan.events_token = value;
    }
    if (!ev.ca_bundle.empty() && ::access(ev.ca_bundle.c_str(), R_OK) != 0) {
      return Status::InvalidArgument("[serve.replication_events] ca_bundle: cannot read " +
                                     ev.ca_bundle);
    }
  }
  plan.no_auth = a.insecure_no_auth || plan.serve.insecure_no_auth;
  if (plan.no_auth && !plan.token.empty()) {
    return Status::InvalidArgument("--insecure-no-auth: [serve] token_env is set: an intake "
                                   "with a token is not insecure; keep one");
  }
  // The listener's TLS files: the command line's pair, else the config's; checked now (one
  // line naming the option or key), before anything runs.
  if (!a.tls_cert.empty() || !a.tls_key.empty()) {
    plan.tls = {.cert_file = a.tls_cert, .key_file = a.tls_key};
  } else {
    plan.tls = {.cert_file = plan.serve.tls_cert,
                .key_file = plan.serve.tls_key,
                .cert_option = "[serve] tls_cert",
                .key_option = "[serve] tls_key"};
  }
  FERRY_RETURN_IF_ERROR(http::ReadServerTls(plan.tls).status());
  // The admin listener's address, checked now (bound once the runs are served).
  if (const std::string& admin = a.admin_listen.empty() ? plan.serve.admin_listen : a.admin_listen;
      !admin.empty()) {
    FERRY_RETURN_IF_ERROR(
        http::ParseListen(admin, a.admin_listen.empty() ? "[serve] admin_listen" : "--admin-listen")
            .status());
  }
  if (a.concurrency < 0 || a.concurrency > 1024) {
    return Status::InvalidArgument("--concurrency: must be between 1 and 1024");
  }
  if (a.lease_ttl < 2 || a.lease_ttl > 3600) {
    return Status::InvalidArgument("--lease-ttl: must be between 2 and 3600 seconds");
  }
  plan.lease_ttl = std::chrono::seconds(a.lease_ttl);
  if (!a.memory.empty()) {
    Result<uint64_t> m = plan::ParseSize(a.memory);
    if (!m.ok()) return m.status().WithContext("--memory");
    if (*m == 0) return Status::InvalidArgument("--memory: must be above 0");
    plan.memory = *m;
  }
  replicate::DurablePass base;
  base.concurrency = a.concurrency > 0 ? a.concurrency : config.transfer.concurrency.value_or(16);
  if (config.transfer.multipart_threshold) {
    base.multipart_threshold = *plan::ParseSize(*config.transfer.multipart_threshold);
  }
  if (config.transfer.part_size) base.part_size = *plan::ParseSize(*config.transfer.part_size);
  if (config.replication.server_side_copy_limit) {
    base.server_side_copy_limit = *config.replication.server_side_copy_limit;
  }
  plan.concurrency = base.concurrency;
  const replicate::RuleSet rules = config.replication.rules;
  plan.wiring = std::make_unique<app::Wiring>(std::move(config));
  FERRY_ASSIGN_OR_RETURN(plan.schedules, PlanSchedules(*plan.wiring));
  FERRY_ASSIGN_OR_RETURN(plan.sqs,
                         app::ResolveSqsQueues(plan.wiring->config(), plan.wiring->transport()));
  for (const std::string& source : plan.serve.replicate) {
    replicate::DurablePass pass = base;
    pass.rules = rules;
    FERRY_ASSIGN_OR_RETURN(app::ReplicationTargets targets,
                           app::ResolveReplication(source, pass.rules));
    Result<app::OpenedReplication> opened = app::OpenReplication(*plan.wiring, targets, stop);
    if (!opened.ok()) return opened.status().WithContext(source);
    pass.source = targets.source_name;
    plan.passes.push_back(std::move(pass));
    plan.targets.push_back(std::move(targets));
  }
  FERRY_RETURN_IF_ERROR(PlanUnpackRegions(plan));
  FERRY_ASSIGN_OR_RETURN(plan.roles, PlanRoles(*plan.wiring, plan.serve, stop));
  return plan;
}

ServeInstance::ServeInstance(ServePlan plan, jobs::JobStore& store)
    : plan_(std::move(plan)), store_(store) {}

Result<std::unique_ptr<ServeInstance>> ServeInstance::Begin(ServePlan plan,
                                                            jobs::JobStore& store, Start how,
                                                            std::stop_token stop) {
  std::unique_ptr<ServeInstance> s(new ServeInstance(std::move(plan), store));
  const ServePlan& p = s->plan_;
  // The SQS intakes (serve/sqs_poller.h): each queue checked before any run starts, polled on
  // its own thread once the runs are served.
  s->sqs_recorder_ = std::make_unique<serve::EventRecorder>(store);
  for (app::SqsQueue q : p.sqs) {
    s->pollers_.push_back(std::make_unique<serve::SqsPoller>(
        std::move(q.endpoint), p.wiring->transport(), *s->sqs_recorder_, std::move(q.options)));
    FERRY_RETURN_IF_ERROR(s->pollers_.back()->Check(stop));
  }
  for (size_t i = 0; i < p.passes.size(); ++i) {
    app::ContinuousRunRequest request{.pass = &p.passes[i],
                                      .destination = p.targets[i].destinations.front().first,
                                      .scan_interval = p.serve.scan_interval,
                                      .scan_now = how.scan_now};
    FERRY_ASSIGN_OR_RETURN(jobs::RunId run, app::ContinuousRun(store, request, stop));
    s->served_.push_back({.source_name = p.targets[i].source_name, .run = run});
  }
  // The intakes: events for each source's bucket and prefix (POST /events with the token
  // and/or from SNS; SQS).
  std::vector<serve::IntakeSource> sources;
  for (size_t i = 0; i < p.targets.size(); ++i) {
    const app::Location& loc = p.targets[i].source;
    sources.push_back({.name = p.targets[i].source_name,
                       .bucket = loc.is_s3() ? loc.bucket : loc.path,
                       .prefix = loc.prefix,
                       .run = s->served_[i].run});
  }
  // The executor of the workers (below) and of the SNS gate's fetches.
  jobs::WorkerOptions w;
  w.owner = jobs::DefaultOwner();
  const int concurrency = p.concurrency;
  w.concurrency = std::max(16, concurrency * 4);
  w.memory_budget = p.memory > 0 ? p.memory : w.memory_budget;
  w.idle_poll = std::chrono::milliseconds(200);
  w.lease_ttl = p.lease_ttl;
  w.registry = &app::Kinds();
  transfer::ExecutorOptions eo;
  eo.concurrency = w.concurrency;
  eo.memory_budget = w.memory_budget;
  s->executor_ = std::make_unique<transfer::Executor>(eo);
  if (!p.serve.sns_topics.empty()) {
    FERRY_ASSIGN_OR_RETURN(s->sns_, OpenSns(p.serve, *s->executor_));
  }
  if (!p.token.empty() || s->sns_.gate || p.no_auth) {
    s->intake_ = std::make_unique<serve::EventIntake>(
        store, serve::IntakeOptions{
                   .token = p.token,
                   .max_body = p.serve.max_event_body,
                   .no_auth = p.no_auth,
                   .max_waiting_events = p.serve.max_waiting_events});
    s->intake_->UseSns(s->sns_.gate.get());
    s->intake_->SetSources(sources);
  }
  s->sqs_recorder_->SetMaxWaiting(p.serve.max_waiting_events);
  s->sqs_recorder_->SetSources(sources);
  obs::DefaultRegistry()
      .AddGauge("ferry_serve_insecure_no_auth",
                "1 while POST /events takes events without a token (--insecure-no-auth)")
      .Get()
      .Set(p.no_auth ? 1 : 0);

  // The workers: one per run served, on one executor.
  // the requests in flight: the executor's, and one long poll per SQS queue and one listing or
  // delete per role beside them
  LimitRequestsInFlight(eo.concurrency + static_cast<int>(s->pollers_.size()) +
                        static_cast<int>(p.roles.size()));
  s->stats_metrics_ = std::make_unique<StatsMetrics>(s->stats_);  // the workers' counters
  w.executor = s->executor_.get();
  s->worker_options_ = w;
  for (size_t i = 0; i < s->served_.size(); ++i) {
    jobs::WorkerOptions o = w;
    o.only_run = s->served_[i].run;
    s->workers_.push_back(
        std::make_unique<jobs::Worker>(store, app::OpenerFor(*p.wiring), o, s->stats_));
    // Compressed transport: a worker per region of the run's unpack jobs that this process
    // serves (as `ferry worker --role unpack --region R` would), on the same executor.
    for (const std::string& region : p.unpack_regions[i]) {
      jobs::WorkerOptions u = o;
      u.region = region;
      u.kinds = {transport::kUnpackKind};
      s->workers_.push_back(
          std::make_unique<jobs::Worker>(store, app::OpenerFor(*p.wiring), u, s->stats_));
    }
  }
  // The replication SLA gauges (replicate/sla.h) of each source from the status store: at the
  // start, every 30 s, and when serving ends.
  FERRY_ASSIGN_OR_RETURN(s->status_, replicate::StatusStore::Open(*store.session()));
  // Before the first refresh and the workers: the records their status changes cause.
  FERRY_RETURN_IF_ERROR(s->BeginReplicationEvents());
  for (size_t i = 0; i < p.passes.size(); ++i) {
    s->sla_.push_back(std::make_unique<replicate::SlaMetrics>(
        obs::DefaultRegistry(), p.targets[i].source_name, &p.passes[i].rules));
    s->refreshers_.push_back(std::make_unique<replicate::SlaRefresher>(
        *s->sla_.back(), *s->status_, SystemClock::Default()));
  }
  for (auto& poller : s->pollers_) {
    poller->Start();
    obs::Log(obs::Level::kInfo, "polling SQS queue " + poller->queue_name());
  }
  s->ended_.resize(s->workers_.size());
  ServeInstance* self = s.get();
  for (size_t i = 0; i < s->workers_.size(); ++i) {
    s->threads_.emplace_back([self, i] {
      Status ended = self->workers_[i]->Run(self->halt_.get_token());
      if (!ended.ok() && ended.code() != ErrorCode::kCancelled) {
        std::lock_guard lock(self->mu_);
        if (self->failure_.ok()) self->failure_ = ended;
      }
    });
  }
  if (s->plan_.roles.size() > 0) {
    s->roles_ = std::make_unique<RoleRunner>(s->plan_.roles, *s->executor_, SystemClock::Default());
  }
  FERRY_RETURN_IF_ERROR(s->BeginSchedules());
  return s;
}

Status ServeInstance::BeginReplicationEvents() {
  const app::ReplicationEventsConfig& ev = plan_.serve.replication_events;
  // From now on the status stores of this process (its workers') write the outbox.
  replicate::SetRecordedReplicationEvents(app::RecordedEvents(ev));
  if (!ev.present) return Status::Ok();
  // awsRegion: the source remote's region.
  std::map<std::string, std::string> regions;
  for (const app::ReplicationTargets& t : plan_.targets) {
    const auto& remotes = plan_.wiring->config().remotes;
    if (auto r = remotes.find(t.source.remote); r != remotes.end()) {
      regions[t.source_name] = r->second.region;
    }
  }
  outbox_ = std::make_unique<replicate::EventOutbox>(*store_.session());
  serve::ReplicationEventsOptions o;
  o.url = ev.url;
  o.token = plan_.events_token;
  o.ca_bundle = ev.ca_bundle;
  o.owner = worker_options_.owner;
  o.batch = ev.batch;
  o.max_pending = ev.max_pending;
  o.context.region_of = [regions](std::string_view source) {
    auto r = regions.find(std::string(source));
    return r == regions.end() ? std::string() : r->second;
  };
  event_sender_ = std::make_unique<serve::ReplicationEventSender>(
      *outbox_, plan_.wiring->transport(), SystemClock::Default(), obs::DefaultRegistry(),
      executor_.get(), std::move(o));
  event_sender_->Start(std::chrono::seconds(1));
  obs::Log(obs::Level::kInfo, "sending replication events to " + serve::WebhookUrlForLog(ev.url));
  return Status::Ok();
}

ServeInstance::~ServeInstance() { Stop(); }

void ServeInstance::Stop() {
  stopping_.store(true);
  StopSchedules();  // no new scheduled run; their workers stop with halt_
  halt_.request_stop();
  if (roles_) roles_->Stop();  // their passes cancelled, their threads joined
  for (auto& p : pollers_) p->RequestStop();
  threads_.clear();  // joins the workers
  refreshers_.clear();  // a last refresh of the gauges
  if (event_sender_) event_sender_->Stop();  // what is left is sent by the next start
  pollers_.clear();
  // the SNS gate's fetches cancelled and waited for; its queue gone before the executor
  if (sns_.gate) sns_.gate->StopBackground();
  sns_.queue.reset();
}

std::string ServeInstance::intake_auth() const {
  if (intake_ == nullptr) return "off";
  const std::string first = plan_.no_auth ? "none" : plan_.token.empty() ? "" : "token";
  if (!sns_.gate) return first;
  return first.empty() ? "sns" : first + "+sns";
}

Status ServeInstance::Failure() const {
  std::lock_guard lock(mu_);
  return failure_;
}

std::string ServeInstance::StatusDocument() {
  static obs::Counter& built =
      obs::DefaultRegistry()
          .AddCounter("ferry_serve_status_documents_total",
                      "GET /api/status documents built from the state store (each a few SQL "
                      "statements); one is answered for a second")
          .Get();
  Clock& clock = SystemClock::Default();
  std::lock_guard lock(status_mu_);
  const Clock::MonoTime now = clock.MonoNow();
  if (!status_document_.empty() && now - status_built_ < kStatusFor) return status_document_;
  std::vector<ServedRun> served;
  for (const Served& s : served_) served.push_back({s.source_name, s.run});
  std::string body = ServeStatusJson(store_, *status_, served, clock, intake_auth());
  if (scheduler_) body = WithSchedules(body, *scheduler_);
  if (roles_) body = WithRoles(body, *roles_);
  built.Add();
  status_document_ = body;
  status_built_ = now;
  return body;
}

std::optional<http::ServerResponse> ServeInstance::Handle(const http::ServerRequest& r) {
  if (r.path == "/healthz") {
    if (stopping_.load()) return http::ServerResponse::Text(503, "stopping\n");
    Status reached = !served_.empty()    ? store_.GetRun(served_.front().run).status()
                     : schedule_store_ ? schedule_store_->Started().status()
                                       : Status::Ok();  // roles only: their passes say
    return reached.ok() ? http::ServerResponse::Text(200, "ok\n")
                        : http::ServerResponse::Text(503, "state store unreachable: " +
                                                              reached.message() + "\n");
  }
  if (r.path == "/api/status") return http::ServerResponse::Json(200, StatusDocument());
  if (r.path == "/events") {
    if (intake_ == nullptr) {
      return http::ServerResponse::Text(
          404, "event intake is off: set [serve] token_env or sns_topics (or, without a token, "
               "--insecure-no-auth)\n");
    }
    if (stopping_.load()) {
      http::ServerResponse busy = http::ServerResponse::Text(503, "stopping\n");
      busy.headers.emplace_back("Retry-After", "5");
      return busy;
    }
    return intake_->Handle(r);
  }
  return std::nullopt;
}

}  // namespace ferry::cli::serving
