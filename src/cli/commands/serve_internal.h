// ferry serve's parts (serve.cc: the command, its listener and SIGHUP reloads;
// serve_instance.cc: one configuration served).
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "app/config.h"
#include "app/replication.h"
#include "app/sqs.h"
#include "app/wiring.h"
#include "cli/commands/metrics.h"
#include "cli/commands/serve_roles.h"
#include "base/status.h"
#include "http/curl_transport.h"
#include "http/server.h"
#include "jobs/job_store.h"
#include "jobs/worker.h"
#include "replicate/payload.h"
#include "replicate/sla.h"
#include "replicate/status_store.h"
#include "serve/intake.h"
#include "serve/replication_events.h"
#include "serve/schedule_store.h"
#include "serve/scheduler.h"
#include "serve/sns_certs.h"
#include "serve/sns_gate.h"
#include "serve/sqs_poller.h"
#include "transfer/executor.h"
#include "transfer/stats.h"

namespace ferry::cli::serving {

struct ServeArgs {
  std::string state;
  std::string listen;  // overrides [serve] listen
  std::string admin_listen;  // overrides [serve] admin_listen
  int concurrency = 0;
  std::string memory;
  int lease_ttl = 60;  // seconds a job stays ours without a renewal (ferry worker's --lease-ttl)
  bool insecure_no_auth = false;  // or [serve] insecure_no_auth
  std::string tls_cert;  // with tls_key: both override [serve] tls_cert and tls_key
  std::string tls_key;
};

// What the config says to serve, read and checked (every source resolved and opened, the token
// read, SQS queues resolved) before anything runs: at start, and on SIGHUP while the running
// configuration goes on (a config that does not check leaves it in place).
struct ServePlan {
  app::ServeConfig serve;
  std::string token;   // the event intake's ("" with neither token_env nor SNS: no intake)
  std::string events_token;  // [serve.replication_events] token_env's value ("": none)
  std::string admin_token;   // [serve] admin_token_env's value ("": the admin paths need none)
  bool no_auth = false;  // --insecure-no-auth or [serve] insecure_no_auth: intake on, no token
  http::TlsFiles tls;    // the listener's (checked: http::ReadServerTls); none: plain HTTP
  uint64_t memory = 0;  // --memory (0: the worker's default)
  std::chrono::seconds lease_ttl{60};
  std::vector<replicate::DurablePass> passes;       // one per source
  std::vector<app::ReplicationTargets> targets;     // the same order
  // The same order: the regions whose unpack jobs of that source's run this process serves
  // (a worker each): what its transported destinations name, narrowed by unpack_regions.
  std::vector<std::set<std::string>> unpack_regions;
  std::vector<app::SqsQueue> sqs;
  // [[schedules]], checked (locations parsed, remotes known), in the config's order
  std::vector<serve::ScheduleSpec> schedules;
  int concurrency = 16;  // keys (objects) at once per run: --concurrency, [transfer], 16
  std::unique_ptr<app::Wiring> wiring;  // the config's remotes (owns the config)
  // [[serve.cache]] and [[serve.unpack]], opened through `wiring` (declared after it: gone first)
  RolesPlan roles;
};

// [[schedules]] of the config, checked against its remotes (serve_schedules.cc).
Result<std::vector<serve::ScheduleSpec>> PlanSchedules(app::Wiring& wiring);

// GET /api/status's document with "schedules" added: per schedule its name, at, next (ISO
// time) and its 5 latest occurrences ({"due","outcome","run","owner","error"}), or
// "schedules_error" when the store cannot be read.
std::string WithSchedules(const std::string& status_json, serve::Scheduler& scheduler);

// Reads the config (ctx's --config) and checks it with the command's flags.
Result<ServePlan> PlanServe(const ServeArgs& a, const std::string& config_path,
                            std::stop_token stop);

// The SNS half of the intake ([serve] sns_topics): its own HTTPS transport (the SNS hosts,
// verified against the system CA store or sns_ca_bundle), the certificate cache and the gate.
// The gate's network work (certificate fetches, SubscribeURL visits) runs as tasks of `queue`,
// on the instance's executor, never on the listener's thread.
struct SnsParts {
  std::unique_ptr<http::CurlTransport> transport;
  std::unique_ptr<serve::SnsCertCache> certs;
  std::unique_ptr<transfer::TaskQueue> queue;  // of ServeInstance's executor
  std::unique_ptr<serve::SnsGate> gate;
};

// One configuration served: a continuous run per source, its workers on one executor, the
// intakes (POST /events, SQS pollers), the SLA gauges and the roles (cache expiry, unpack
// followers; their unpacks on the same executor). Start returns once everything runs;
// Stop (also the destructor) ends the intakes, stops the workers (jobs in flight cancelled) and
// returns when their threads are done. The store must outlive it.
class ServeInstance {
 public:
  struct Start {
    bool scan_now = true;  // ContinuousRunRequest::scan_now (false for a reload)
  };
  static Result<std::unique_ptr<ServeInstance>> Begin(ServePlan plan, jobs::JobStore& store,
                                                      Start how, std::stop_token stop);
  ~ServeInstance();
  ServeInstance(const ServeInstance&) = delete;
  ServeInstance& operator=(const ServeInstance&) = delete;

  // GET /healthz, GET /api/status, POST /events; nullopt for any other path. /api/status's
  // document is built at most once a second (kStatusFor): a flood of requests on the
  // listener's one thread costs one set of state store reads a second.
  std::optional<http::ServerResponse> Handle(const http::ServerRequest& r);
  void Stop();
  // A worker ended on an error of its own (not a stop): the first such error; Ok otherwise.
  Status Failure() const;
  bool intake_on() const { return intake_ != nullptr; }
  // How POST /events authenticates (serve_status.h: "events_auth").
  std::string intake_auth() const;
  const ServePlan& plan() const { return plan_; }

 private:
  ServeInstance(ServePlan plan, jobs::JobStore& store);
  // /api/status's document: the one built less than kStatusFor ago, else a new one.
  std::string StatusDocument();
  static constexpr std::chrono::milliseconds kStatusFor{1000};
  // [[schedules]] (serve_schedules.cc): the scheduler, its occurrences queued as durable runs
  // (app::RunDurable, detached) and a worker of this process on each run of them that runs.
  Status BeginSchedules();
  Result<jobs::RunId> StartOccurrence(size_t index, serve::TimePoint due, std::stop_token stop);
  void ServeScheduledRun(jobs::RunId run);
  void StopSchedules();
  // [serve.replication_events]: which events this process's status stores record, and the
  // outbox's sender (none when the table is absent).
  Status BeginReplicationEvents();
  struct ScheduledWorker {
    std::unique_ptr<jobs::Worker> worker;
    std::shared_ptr<std::atomic<bool>> ended;
    std::jthread thread;
  };
  struct Served {
    std::string source_name;
    jobs::RunId run = 0;
  };
  ServePlan plan_;
  jobs::JobStore& store_;
  std::vector<Served> served_;
  std::unique_ptr<serve::EventRecorder> sqs_recorder_;
  std::vector<std::unique_ptr<serve::SqsPoller>> pollers_;
  SnsParts sns_;
  std::unique_ptr<serve::EventIntake> intake_;
  std::unique_ptr<transfer::Executor> executor_;
  transfer::Stats stats_;
  std::unique_ptr<StatsMetrics> stats_metrics_;  // stats_ in the registry (metrics.h)
  std::vector<std::unique_ptr<jobs::Worker>> workers_;
  jobs::WorkerOptions worker_options_;  // what every worker of this instance starts from
  std::unique_ptr<serve::ScheduleStore> schedule_store_;
  std::unique_ptr<serve::Scheduler> scheduler_;
  std::mutex scheduled_mu_;
  std::map<jobs::RunId, ScheduledWorker> scheduled_;  // GUARDED_BY(scheduled_mu_)
  std::unique_ptr<replicate::StatusStore> status_;
  std::vector<std::unique_ptr<replicate::SlaMetrics>> sla_;
  std::vector<std::unique_ptr<replicate::SlaRefresher>> refreshers_;
  // [serve.replication_events]: the outbox's delivery (replication_events.h), null when off.
  std::unique_ptr<replicate::EventOutbox> outbox_;
  // [[serve.cache]] and [[serve.unpack]] (serve_roles.h): their loops, null when none.
  std::unique_ptr<RoleRunner> roles_;
  std::unique_ptr<serve::ReplicationEventSender> event_sender_;
  std::atomic<bool> stopping_{false};
  std::mutex status_mu_;  // the listeners' threads (public and admin) may both ask
  std::string status_document_;             // GUARDED_BY(status_mu_): "" none yet
  Clock::MonoTime status_built_{};          // GUARDED_BY(status_mu_)
  std::stop_source halt_;
  std::vector<Status> ended_;
  std::vector<std::jthread> threads_;
  mutable std::mutex mu_;
  Status failure_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::cli::serving
