// `ferry serve`, the daemon (docs/design/serve.md): replication as a service. For each source of
// [serve] `replicate`, a continuous replication run of the state store by the config's rules (a
// repair scan at start and every `scan_interval`, one replicate-event job per key a bucket
// notification names: POST /events, SNS, SQS queues); [[schedules]] queued as durable runs; the
// roles ([[serve.cache]] cache expiry, [[serve.unpack]] unpack followers); workers of this
// process on one executor (instance.h). The listener serves /events and /healthz to anyone and
// the admin paths (/metrics, /api/status, the dashboard) as listener.h's AdminAccess says.
// SIGHUP reads the config again: one that checks replaces the configuration served (the
// listener answering 503 with Retry-After meanwhile, started again when its address, body
// limit or TLS files changed); one that does not is refused, the running one goes on.
//
// This library is above app (it opens runs, roles and schedules through app's capability
// APIs) and below cli, whose `ferry serve` only declares the flags, fills ServeSettings and
// calls Run with the process's hooks.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>

#include "app/config.h"
#include "app/engine.h"
#include "base/status.h"
#include "transfer/stats.h"

namespace ferry::serve::daemon {

// What the command line says (each empty or zero: the config's, or the default).
struct ServeSettings {
  std::string config_path;   // the config file (--config)
  std::string state;         // the state store; "": StateDir()/replication.db
  std::string listen;        // overrides [serve] listen
  std::string admin_listen;  // overrides [serve] admin_listen
  int concurrency = 0;       // --concurrency: keys at once per run (0: [transfer], else 16)
  std::string memory;        // --memory: the executor's buffer memory ("": [transfer], 128MiB)
  int lease_ttl = 60;  // seconds a job stays ours without a renewal (ferry worker's --lease-ttl)
  bool insecure_no_auth = false;  // or [serve] insecure_no_auth
  std::string tls_cert;  // with tls_key: both override [serve] tls_cert and tls_key
  std::string tls_key;
};

// The engine of a configuration served (app/engine.h), before the command line's flags: the
// keys profile (--concurrency N keys at once per run; the executor's requests max(16, 4 x N)),
// 16 keys and 128MiB by default, never adapted, and its series removed when a reload replaces
// it (the next configuration's engine registers them again). The command's help texts and
// PlanServe read it.
app::EngineSettings ServeEngineSettings();

// What the daemon asks of the process that runs it (the CLI's main: signals, flags, output).
// Every hook is called on Run's thread.
struct DaemonHooks {
  // Called once, when the listeners run: from then on a SIGHUP reloads the config instead of
  // stopping the process. Returns the count of SIGHUPs so far.
  std::function<uint64_t()> listen_for_hangups;
  // Waits until the count of SIGHUPs is no longer `seen`, `timeout` passed or `stop` is
  // requested; returns the count.
  std::function<uint64_t(uint64_t seen, std::chrono::milliseconds timeout, std::stop_token stop)>
      wait_for_hangup;
  // A reloaded config's [limits] applied to the process (the command line's limits still win).
  // An error is logged; the reload goes on with the limits held before.
  std::function<Status(const app::LimitsSettings&)> apply_limits;
  // Exports the counters of a configuration's workers to the metrics registry while the
  // returned handle lives (destroyed before the counters).
  std::function<std::shared_ptr<void>(const transfer::Stats&)> export_stats;
  // One line for the operator once a listener runs ("ferry serve: listening on URL (events:
  // URL/events)"), on the CLI's stdout, which the tests read.
  std::function<void(const std::string&)> announce;
};

// Serves until `stop` is requested (SIGTERM, SIGINT) or a worker ends on an error of its own.
// Returns Ok when stopped (the workers stopped, the jobs in flight given back to the store at
// once); else the error that ended it, one line: a config or flag that does not check
// (kInvalidArgument) before anything runs, a store or listener that cannot be opened, a reload
// whose configuration could not start, a worker's failure.
Status Run(const ServeSettings& settings, const DaemonHooks& hooks, std::stop_token stop);

}  // namespace ferry::serve::daemon
