// Metrics of the ferry executable: the run's counters exported from transfer::Stats, the
// `--metrics-file` written at exit and the `--metrics-listen` HTTP endpoint (GET /metrics).
//
// One source of truth: the counters of a run live in transfer::Stats (updated by the engine and
// the workers). The `--json` summary (summary.cc) and the registry read the same atomics through
// one table, StatsFields(): StatsMetrics registers each as an observed series of
// obs::DefaultRegistry(), so a scrape during a run sees live values, and when the run ends it
// detaches them, so the registry keeps their final values for the file written at exit.
//
// Thread-safety: StatsFields is constant; StatsMetrics and MetricsServer are used by one thread
// (the command's), the server answers on its own threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/server_tls.h"
#include "obs/metrics.h"
#include "transfer/stats.h"

namespace ferry::cli {

// One counter of transfer::Stats: its key in the `--json` summary (nullptr: not in it) and its
// metric name and help.
struct StatsField {
  const char* json;
  const char* metric;
  const char* help;
  std::atomic<uint64_t> transfer::Stats::*member;
};
std::span<const StatsField> StatsFields();

// Exports `stats` into `registry` for as long as it lives; destroy it before `stats`. When
// destroyed, the series keep the values they have then.
class StatsMetrics {
 public:
  explicit StatsMetrics(const transfer::Stats& stats,
                        obs::Registry& registry = obs::DefaultRegistry());
  ~StatsMetrics();
  StatsMetrics(const StatsMetrics&) = delete;
  StatsMetrics& operator=(const StatsMetrics&) = delete;

 private:
  std::vector<obs::Registration> series_;
};

// Registers the process's own series in obs::DefaultRegistry() once (later calls do nothing):
// ferry_http_requests_in_flight and ferry_http_requests_in_flight_peak (every request of the
// process, whatever command or job sent it: http::ProcessRequestsInFlight).
void RegisterProcessMetrics();

// Serves GET /metrics (the Prometheus exposition of `registry`) and the dashboard (/,
// /assets/*, /api/metrics; /api/status tells the command and that there is no state store) on
// its own threads, from Start until destroyed.
class MetricsServer {
 public:
  explicit MetricsServer(obs::Registry& registry = obs::DefaultRegistry());
  ~MetricsServer();
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // `listen` is HOST:PORT (PORT 0: any free port). kInvalidArgument for a malformed address,
  // kUnavailable when it cannot be bound. Logs "serving metrics" with the URL at info.
  // `command`: the subcommand's name, for /api/status. `tls`: both files for HTTPS (checked
  // here: one line naming the option and the file), neither for plain HTTP.
  Status Start(const std::string& listen, const std::string& command = "",
               const http::TlsFiles& tls = {});
  int port() const { return port_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  obs::Registry* registry_;
  int port_ = 0;
};

}  // namespace ferry::cli
