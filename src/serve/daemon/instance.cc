// ServeInstance (instance.h): one configuration of `ferry serve` served.
#include "serve/daemon/instance.h"

#include <unistd.h>

#include <algorithm>

#include "app/config_replication_events.h"
#include "app/continuous.h"
#include "app/durable.h"
#include "app/kinds.h"
#include "app/notify_run.h"
#include "http/curl_transport.h"
#include "limits/limits.h"
#include "obs/log.h"
#include "serve/daemon/status.h"
#include "transport/kinds/kinds.h"

namespace ferry::serve::daemon {
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
  parts.certs = std::make_unique<SnsCertCache>(*parts.transport, SystemClock::Default());
  parts.queue = executor.Open();
  transfer::TaskQueue* queue = parts.queue.get();
  parts.gate = std::make_unique<SnsGate>(
      *parts.transport, *parts.certs, SystemClock::Default(),
      SnsGateOptions{
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

ServeInstance::ServeInstance(ServePlan plan, jobs::JobStore& store)
    : plan_(std::move(plan)), store_(store) {}

Result<std::unique_ptr<ServeInstance>> ServeInstance::Begin(ServePlan plan,
                                                            jobs::JobStore& store, Start how,
                                                            std::stop_token stop) {
  std::unique_ptr<ServeInstance> s(new ServeInstance(std::move(plan), store));
  FERRY_RETURN_IF_ERROR(s->CheckPollers(stop));
  FERRY_RETURN_IF_ERROR(s->OpenRuns(how.scan_now, stop));
  FERRY_RETURN_IF_ERROR(s->OpenIntakes());
  if (how.export_stats) s->stats_export_ = how.export_stats(s->stats_);  // the workers' counters
  s->MakeWorkers();
  // The replication SLA gauges (replicate/sla.h) of each source from the status store: at the
  // start, every 30 s, and when serving ends.
  FERRY_ASSIGN_OR_RETURN(s->status_, replicate::StatusStore::Open(*store.session()));
  // Before the first refresh and the workers: the records their status changes cause.
  FERRY_RETURN_IF_ERROR(s->BeginReplicationEvents());
  const ServePlan& p = s->plan_;
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
  s->StartWorkers();
  if (s->plan_.roles.size() > 0) {
    s->roles_ = std::make_unique<RoleRunner>(s->plan_.roles, s->engine_->executor(),
                                             SystemClock::Default());
  }
  FERRY_RETURN_IF_ERROR(s->BeginSchedules());
  s->notifications_ = app::StartOutboxDelivery(store, *s->plan_.wiring, std::chrono::seconds(30));
  return s;
}

Status ServeInstance::CheckPollers(std::stop_token stop) {
  // The SQS intakes (serve/sqs_poller.h): each queue checked before any run starts, polled on
  // its own thread once the runs are served.
  sqs_recorder_ = std::make_unique<EventRecorder>(store_);
  for (app::SqsQueue q : plan_.sqs) {
    pollers_.push_back(std::make_unique<SqsPoller>(std::move(q.endpoint), plan_.wiring->transport(),
                                                   *sqs_recorder_, std::move(q.options)));
    FERRY_RETURN_IF_ERROR(pollers_.back()->Check(stop));
  }
  return Status::Ok();
}

Status ServeInstance::OpenRuns(bool scan_now, std::stop_token stop) {
  const ServePlan& p = plan_;
  for (size_t i = 0; i < p.passes.size(); ++i) {
    app::ContinuousRunRequest request{.pass = &p.passes[i],
                                      .destination = p.targets[i].destinations.front().first,
                                      .scan_interval = p.serve.scan_interval,
                                      .scan_now = scan_now};
    FERRY_ASSIGN_OR_RETURN(jobs::RunId run, app::ContinuousRun(store_, request, stop));
    served_.push_back({.source_name = p.targets[i].source_name, .run = run});
  }
  return Status::Ok();
}

Status ServeInstance::OpenIntakes() {
  const ServePlan& p = plan_;
  // The intakes: events for each source's bucket and prefix (POST /events with the token
  // and/or from SNS; SQS).
  std::vector<IntakeSource> sources;
  for (size_t i = 0; i < p.targets.size(); ++i) {
    const app::Location& loc = p.targets[i].source;
    sources.push_back({.name = p.targets[i].source_name,
                       .bucket = loc.is_s3() ? loc.bucket : loc.path,
                       .prefix = loc.prefix,
                       .run = served_[i].run});
  }
  FERRY_RETURN_IF_ERROR(OpenEngine());  // the SNS gate's fetches run on its executor
  if (!p.serve.sns_topics.empty()) {
    FERRY_ASSIGN_OR_RETURN(sns_, OpenSns(p.serve, engine_->executor()));
  }
  if (!p.token.empty() || sns_.gate || p.no_auth) {
    intake_ = std::make_unique<EventIntake>(
        store_, IntakeOptions{.token = p.token,
                              .max_body = p.serve.max_event_body,
                              .no_auth = p.no_auth,
                              .max_waiting_events = p.serve.max_waiting_events});
    intake_->UseSns(sns_.gate.get());
    intake_->SetSources(sources);
  }
  sqs_recorder_->SetMaxWaiting(p.serve.max_waiting_events);
  sqs_recorder_->SetSources(sources);
  obs::DefaultRegistry()
      .AddGauge("ferry_serve_insecure_no_auth",
                "1 while POST /events takes events without a token (--insecure-no-auth)")
      .Get()
      .Set(p.no_auth ? 1 : 0);
  return Status::Ok();
}

Status ServeInstance::OpenEngine() {
  const ServePlan& p = plan_;
  FERRY_ASSIGN_OR_RETURN(engine_, app::Engine::Open(p.engine, p.wiring->config().transfer));
  // the requests in flight: the executor's, and one long poll per SQS queue and one listing or
  // delete per role beside them
  engine_->SetExtraRequestSlots(static_cast<int>(pollers_.size()) +
                                static_cast<int>(p.roles.size()));
  jobs::WorkerOptions w;
  w.owner = jobs::DefaultOwner();
  w.concurrency = engine_->requests();
  w.idle_poll = std::chrono::milliseconds(200);
  w.lease_ttl = p.lease_ttl;
  w.registry = &app::Kinds();
  w.executor = &engine_->executor();
  worker_options_ = w;
  return Status::Ok();
}

void ServeInstance::MakeWorkers() {
  const ServePlan& p = plan_;
  // The workers: one per run served, on one executor.
  for (size_t i = 0; i < served_.size(); ++i) {
    jobs::WorkerOptions o = worker_options_;
    o.only_run = served_[i].run;
    workers_.push_back(
        std::make_unique<jobs::Worker>(store_, app::OpenerFor(*p.wiring), o, stats_));
    // Compressed transport: a worker per region of the run's unpack jobs that this process
    // serves (as `ferry worker --role unpack --region R` would), on the same executor.
    for (const std::string& region : p.unpack_regions[i]) {
      jobs::WorkerOptions u = o;
      u.region = region;
      u.kinds = {transport::kUnpackKind};
      workers_.push_back(
          std::make_unique<jobs::Worker>(store_, app::OpenerFor(*p.wiring), u, stats_));
    }
  }
}

void ServeInstance::StartWorkers() {
  ended_.resize(workers_.size());
  for (size_t i = 0; i < workers_.size(); ++i) {
    threads_.emplace_back([this, i] {
      Status ended = workers_[i]->Run(halt_.get_token());
      if (!ended.ok() && ended.code() != ErrorCode::kCancelled) {
        std::lock_guard lock(mu_);
        if (failure_.ok()) failure_ = ended;
      }
    });
  }
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
  ReplicationEventsOptions o;
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
  event_sender_ = std::make_unique<ReplicationEventSender>(
      *outbox_, plan_.wiring->transport(), SystemClock::Default(), obs::DefaultRegistry(),
      &engine_->executor(), std::move(o));
  event_sender_->Start(std::chrono::seconds(1));
  obs::Log(obs::Level::kInfo, "sending replication events to " + WebhookUrlForLog(ev.url));
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
  notifications_.reset();  // a last delivery of the run-end notifications
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

}  // namespace ferry::serve::daemon
