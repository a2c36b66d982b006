// What `ferry serve` reads from its config, read and checked before anything runs (every source
// resolved and opened, the tokens read, SQS queues resolved, schedules and roles checked): at
// start, and on SIGHUP while the running configuration goes on (a config that does not check
// leaves it in place). instance.h serves a plan.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/engine.h"
#include "app/replication.h"
#include "app/sqs.h"
#include "app/wiring.h"
#include "base/status.h"
#include "http/server_tls.h"
#include "replicate/payload.h"
#include "serve/daemon/daemon.h"
#include "serve/daemon/roles.h"
#include "serve/scheduler.h"

namespace ferry::serve::daemon {

struct ServePlan {
  app::ServeConfig serve;
  std::string token;   // the event intake's ("" with neither token_env nor SNS: no intake)
  std::string events_token;  // [serve.replication_events] token_env's value ("": none)
  std::string admin_token;   // [serve] admin_token_env's value ("": the admin paths need none)
  bool no_auth = false;  // --insecure-no-auth or [serve] insecure_no_auth: intake on, no token
  http::TlsFiles tls;    // the listener's (checked: http::ReadServerTls); none: plain HTTP
  // The engine of this configuration (ServeEngineSettings with the flags; checked), opened by
  // the instance with the config's [transfer].
  app::EngineSettings engine;
  std::chrono::seconds lease_ttl{60};
  std::vector<replicate::DurablePass> passes;       // one per source
  std::vector<app::ReplicationTargets> targets;     // the same order
  // The same order: the regions whose unpack jobs of that source's run this process serves
  // (a worker each): what its transported destinations name, narrowed by unpack_regions.
  std::vector<std::set<std::string>> unpack_regions;
  std::vector<app::SqsQueue> sqs;
  // [[schedules]], checked (locations parsed, remotes known), in the config's order
  std::vector<ScheduleSpec> schedules;
  int concurrency = 16;  // keys (objects) at once per run: the engine's keys()
  std::unique_ptr<app::Wiring> wiring;  // the config's remotes (owns the config)
  // [[serve.cache]] and [[serve.unpack]], opened through `wiring` (declared after it: gone first)
  RolesPlan roles;
};

// Reads the config (settings.config_path) and checks it with the command line's settings.
// Errors: one line, kInvalidArgument for what the config or a flag says wrong.
Result<ServePlan> PlanServe(const ServeSettings& settings, std::stop_token stop);

// [[schedules]] of the config, checked against its remotes (schedules.cc): `at` parsed, every
// location parsed and opened, a backup's options checked. Errors name the schedule and key.
Result<std::vector<ScheduleSpec>> PlanSchedules(app::Wiring& wiring);

}  // namespace ferry::serve::daemon
