// The engine at the top: the one place that turns a command's --concurrency and --memory (and
// the config's [transfer] concurrency and memory) into the process's transfer::Executor, sets
// the process's request slots from it, and registers the executor's metrics. Every command
// that moves bytes opens one Engine and runs on engine->executor(); no command builds an
// Executor of its own (docs/design/executor.md, "The engine").
//
// What N means is the command's profile, written here once:
//   kRequests  N requests in flight: the executor's workers (cp, sync, worker, verify,
//              estimate, restore, archive pack, unpack, cache warm).
//   kKeys      N keys (objects) in flight per run; the requests are derived from it:
//              max(16, 4 x N), the parts of large versions in parallel beside the keys
//              (replicate, serve). N is at most kEngineMaxKeys, so the requests stay
//              within kEngineMaxRequests.
// Where N and the memory come from, first found wins: the flag (EngineSettings::concurrency,
// ::memory), the config's [transfer] concurrency / memory, the command's default
// (::default_concurrency, ::default_memory). Only without a flag and without a config value,
// and when the command allows it (::adaptive_allowed), the requests in flight adapt to the
// link within [1, requests] (transfer/adaptive.h); otherwise they are fixed.
//
// Request slots: Open sets the process's limits (limits::Limits::SetRequestSlots) to the
// engine's requests plus EngineSettings::extra_request_slots (requests the command sends on
// threads of its own beside the executor's tasks: serve's long polls and roles), so that
// whatever the process sends shares one bound with the executor
// (ferry_http_requests_in_flight_peak shows it held). SetExtraRequestSlots changes the extra
// part later, for a command that learns it after opening the engine.
//
// Metrics: for as long as the engine lives, `registry` holds ferry_executor_memory_budget_bytes,
// ferry_executor_memory_bytes, ferry_executor_memory_bytes_peak and
// ferry_executor_stall_overdraws_total of its executor. When the engine is destroyed they keep
// their last values (a command's --metrics-file written at exit shows them), unless
// EngineSettings::metrics_at_end is kRemove (a service that opens engines again on reload,
// whose old values must not add to the new ones).
//
// Ownership and lifetime: the Engine owns the Executor. Destroy every TaskQueue, TransferEngine,
// jobs::Worker and pack that runs on it before the Engine (Executor's contract).
// Thread-safety: executor() as the Executor's; the rest is for the thread that opened it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/config.h"
#include "base/clock.h"
#include "base/status.h"
#include "limits/limits.h"
#include "obs/metrics.h"
#include "transfer/executor.h"

namespace ferry::app {

// What a command's --concurrency N counts (see the file comment).
enum class EngineProfile {
  kRequests,  // N requests in flight
  kKeys,      // N keys in flight per run; requests = max(16, 4 x N)
};

inline constexpr int kEngineMaxRequests = 1024;  // --concurrency of kRequests: 1..1024
inline constexpr int kEngineMaxKeys = 256;       // --concurrency of kKeys: 1..1024, cut to 256
inline constexpr int kEngineMinKeyRequests = 16;  // kKeys: the fewest requests, whatever N

// What happens to the executor's series when the engine is destroyed.
enum class EngineMetricsAtEnd {
  kKeepLastValues,  // frozen at their last values (one-shot commands: the metrics file at exit)
  kRemove,          // removed (a service that opens a new engine on reload)
};

// A command's engine: its flags as given and its defaults. Defaults of today's commands:
//   cp, sync, verify: kRequests, 64 (adaptive), 128MiB    worker: kRequests, 64, 128MiB
//   estimate, restore: kRequests, 16, 128MiB              unpack: kRequests, 32, 128MiB
//   archive pack: kRequests, 16 for a bucket / 2 for a folder (4 at least to a bucket), 128MiB
//   cache warm: kRequests, 64, 256MiB                     replicate, serve: kKeys, 16, 128MiB
// Each command keeps its settings in one function (e.g. copy.cc's CopyEngine) that both its
// option declarations (cli/engine_options.h, for the help texts) and its run use.
struct EngineSettings {
  EngineProfile profile = EngineProfile::kRequests;
  int concurrency = 0;  // --concurrency N as given; 0: not given ([transfer], else the default)
  std::string memory = "";  // --memory as given ("256MiB"); "": not given ([transfer], else
                            // the default)
  int default_concurrency = 64;
  uint64_t default_memory = transfer::ExecutorOptions::kDefaultMemoryBudget;
  // Without an explicit N (flag or config), adapt the requests in flight to the link.
  bool adaptive_allowed = false;
  // The least memory the command works with, and what needs it (for the error line:
  // "--memory: at least 16MiB (--part-size)"). 1 by default: 0 bytes is refused.
  uint64_t min_memory = 1;
  std::string min_memory_for = "";
  int extra_request_slots = 0;  // requests sent beside the executor's (see the file comment)
  EngineMetricsAtEnd metrics_at_end = EngineMetricsAtEnd::kKeepLastValues;
  Clock* clock = nullptr;  // times the adaptive limit (null: the system's); not owned
};

// What EngineSettings and [transfer] resolve to.
struct EngineShape {
  int keys = 0;        // kKeys: keys in flight per run; kRequests: == requests
  int requests = 0;    // the executor's workers: requests in flight, at most
  uint64_t memory = 0;  // the executor's ByteBudget
  bool adaptive = false;
  int request_slots = 0;  // the process's request slots: requests + extra_request_slots
};

// Resolves and checks `settings` against the config's [transfer] (pure, no executor made):
// kInvalidArgument, one line naming the flag (or "[transfer] memory" when the value came from
// the config): N outside 1..1024, a memory that does not parse, or below min_memory.
Result<EngineShape> ResolveEngine(const EngineSettings& settings, const TransferDefaults& config);

class Engine {
 public:
  // Resolves `settings` (ResolveEngine's errors), makes the executor, sets `limits`' request
  // slots and registers the executor's series in `registry` (both must outlive the engine).
  static Result<std::unique_ptr<Engine>> Open(
      const EngineSettings& settings, const TransferDefaults& config,
      obs::Registry& registry = obs::DefaultRegistry(),
      limits::Limits& limits = limits::ProcessLimits());
  static Result<std::unique_ptr<Engine>> Open(
      const EngineSettings& settings, const Config& config,
      obs::Registry& registry = obs::DefaultRegistry(),
      limits::Limits& limits = limits::ProcessLimits()) {
    return Open(settings, config.transfer, registry, limits);
  }
  ~Engine();  // the series frozen or removed (EngineSettings::metrics_at_end), then the executor
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  transfer::Executor& executor() { return *executor_; }
  EngineProfile profile() const { return profile_; }
  const EngineShape& shape() const { return shape_; }
  int keys() const { return shape_.keys; }          // kKeys: per run; kRequests: == requests()
  int requests() const { return shape_.requests; }  // the executor's workers
  uint64_t memory() const { return shape_.memory; }
  bool adaptive() const { return shape_.adaptive; }

  // The process's request slots become requests() + `extra` (serve: its pollers and roles,
  // known once its configuration is read).
  void SetExtraRequestSlots(int extra);

 private:
  Engine(EngineProfile profile, const EngineShape& shape, EngineMetricsAtEnd at_end,
         limits::Limits& limits, std::unique_ptr<transfer::Executor> executor);
  void RegisterMetrics(obs::Registry& registry);

  const EngineProfile profile_;
  EngineShape shape_;
  const EngineMetricsAtEnd metrics_at_end_;
  limits::Limits& limits_;
  std::unique_ptr<transfer::Executor> executor_;
  std::vector<obs::Registration> series_;  // before executor_ in destruction (declared after)
};

}  // namespace ferry::app
