// One configuration of `ferry serve` served (instance.cc; its schedules in schedules.cc): the
// runs, intakes, workers, SLA gauges, roles and schedules of a ServePlan (plan.h). daemon.cc
// starts one, and replaces it on each SIGHUP reload that checks.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "app/engine.h"
#include "obs/periodic_refresh.h"
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
#include "serve/daemon/plan.h"
#include "serve/daemon/roles.h"
#include "serve/sqs_poller.h"
#include "transfer/executor.h"
#include "transfer/stats.h"

namespace ferry::serve::daemon {

// GET /api/status's document with "schedules" added: per schedule its name, at, next (ISO
// time) and its 5 latest occurrences ({"due","outcome","run","owner","error"}), or
// "schedules_error" when the store cannot be read (schedules.cc).
std::string WithSchedules(const std::string& status_json, Scheduler& scheduler);

// The SNS half of the intake ([serve] sns_topics): its own HTTPS transport (the SNS hosts,
// verified against the system CA store or sns_ca_bundle), the certificate cache and the gate.
// The gate's network work (certificate fetches, SubscribeURL visits) runs as tasks of `queue`,
// on the instance's executor, never on the listener's thread.
struct SnsParts {
  std::unique_ptr<http::CurlTransport> transport;
  std::unique_ptr<SnsCertCache> certs;
  std::unique_ptr<transfer::TaskQueue> queue;  // of ServeInstance's executor
  std::unique_ptr<SnsGate> gate;
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
    // The workers' counters exported while the instance lives (DaemonHooks::export_stats).
    std::function<std::shared_ptr<void>(const transfer::Stats&)> export_stats;
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
  // How POST /events authenticates (status.h: "events_auth").
  std::string intake_auth() const;
  const ServePlan& plan() const { return plan_; }

 private:
  ServeInstance(ServePlan plan, jobs::JobStore& store);
  // Begin's steps, in this order.
  Status CheckPollers(std::stop_token stop);  // [[serve.sqs]]: each queue checked
  Status OpenRuns(bool scan_now, std::stop_token stop);  // a continuous run per source
  Status OpenIntakes();  // the executor, SNS, POST /events and the SQS recorder's sources
  Status OpenEngine();   // the engine (executor, request slots, its series), worker_options_
  void MakeWorkers();    // a worker per run served, and per unpack region of its run
  void StartWorkers();   // their threads
  // /api/status's document: the one built less than kStatusFor ago, else a new one.
  std::string StatusDocument();
  static constexpr std::chrono::milliseconds kStatusFor{1000};
  // [[schedules]] (schedules.cc): the scheduler, its occurrences queued as durable runs
  // (app::RunDurable, detached) and a worker of this process on each run of them that runs.
  Status BeginSchedules();
  Result<jobs::RunId> StartOccurrence(size_t index, TimePoint due, std::stop_token stop);
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
  std::unique_ptr<EventRecorder> sqs_recorder_;
  std::vector<std::unique_ptr<SqsPoller>> pollers_;
  SnsParts sns_;
  std::unique_ptr<EventIntake> intake_;
  // The configuration's engine (app/engine.h): its executor, request slots and the executor's
  // series, removed when it goes (the next configuration's engine registers them again).
  std::unique_ptr<app::Engine> engine_;
  transfer::Stats stats_;
  std::shared_ptr<void> stats_export_;  // stats_ in the registry (Start::export_stats)
  std::vector<std::unique_ptr<jobs::Worker>> workers_;
  jobs::WorkerOptions worker_options_;  // what every worker of this instance starts from
  std::unique_ptr<ScheduleStore> schedule_store_;
  std::unique_ptr<Scheduler> scheduler_;
  std::mutex scheduled_mu_;
  std::map<jobs::RunId, ScheduledWorker> scheduled_;  // GUARDED_BY(scheduled_mu_)
  std::unique_ptr<replicate::StatusStore> status_;
  std::vector<std::unique_ptr<replicate::SlaMetrics>> sla_;
  std::vector<std::unique_ptr<replicate::SlaRefresher>> refreshers_;
  // [serve.replication_events]: the outbox's delivery (replication_events.h), null when off.
  std::unique_ptr<replicate::EventOutbox> outbox_;
  // [[serve.cache]] and [[serve.unpack]] (roles.h): their loops, null when none.
  std::unique_ptr<RoleRunner> roles_;
  std::unique_ptr<ReplicationEventSender> event_sender_;
  // Run-end notifications left in the store's outbox (app/notify_run.h): delivered at the start,
  // every 30 s and at Stop, through plan_.wiring (declared after it: gone first).
  std::unique_ptr<obs::PeriodicRefresh> notifications_;
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

}  // namespace ferry::serve::daemon
