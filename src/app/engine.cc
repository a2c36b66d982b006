#include "app/engine.h"

#include <algorithm>
#include <string>
#include <utility>

#include "plan/filter.h"

namespace ferry::app {
namespace {

// "8MiB" when whole MiB, else bytes: the least memory in an error line.
std::string EngineSizeText(uint64_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + "MiB";
  return std::to_string(bytes) + " bytes";
}

Result<uint64_t> ResolveEngineMemory(const EngineSettings& s, const TransferDefaults& config) {
  const bool flag = !s.memory.empty();
  const char* const name = flag ? "--memory" : "[transfer] memory";
  uint64_t memory = s.default_memory;
  if (flag || config.memory.has_value()) {
    auto parsed = plan::ParseSize(flag ? s.memory : *config.memory);
    if (!parsed.ok()) return parsed.status().WithContext(name);
    memory = *parsed;
  }
  const uint64_t least = std::max<uint64_t>(s.min_memory, 1);
  if (memory < least) {
    if (least == 1) return Status::InvalidArgument(std::string(name) + ": must be above 0");
    std::string line = std::string(name) + ": at least " + EngineSizeText(least);
    if (!s.min_memory_for.empty()) line += " (" + s.min_memory_for + ")";
    return Status::InvalidArgument(line);
  }
  return memory;
}

}  // namespace

Result<EngineShape> ResolveEngine(const EngineSettings& s, const TransferDefaults& config) {
  const bool flag = s.concurrency != 0;
  const int n = flag ? s.concurrency : config.concurrency.value_or(s.default_concurrency);
  if (n < 1 || n > kEngineMaxRequests) {
    return Status::InvalidArgument(std::string(flag ? "--concurrency" : "[transfer] concurrency") +
                                   ": 1.." + std::to_string(kEngineMaxRequests));
  }
  EngineShape shape;
  if (s.profile == EngineProfile::kKeys) {
    shape.keys = std::min(n, kEngineMaxKeys);
    shape.requests = std::max(kEngineMinKeyRequests, 4 * shape.keys);
  } else {
    shape.keys = n;
    shape.requests = n;
  }
  FERRY_ASSIGN_OR_RETURN(shape.memory, ResolveEngineMemory(s, config));
  shape.adaptive = s.adaptive_allowed && !flag && !config.concurrency.has_value();
  shape.request_slots = shape.requests + std::max(0, s.extra_request_slots);
  return shape;
}

Result<std::unique_ptr<Engine>> Engine::Open(const EngineSettings& settings,
                                             const TransferDefaults& config,
                                             obs::Registry& registry, limits::Limits& limits) {
  FERRY_ASSIGN_OR_RETURN(EngineShape shape, ResolveEngine(settings, config));
  auto executor = std::make_unique<transfer::Executor>(
      transfer::ExecutorOptions{.concurrency = shape.requests,
                                .memory_budget = shape.memory,
                                .adaptive = shape.adaptive,
                                .clock = settings.clock});
  std::unique_ptr<Engine> engine(new Engine(settings.profile, shape, settings.metrics_at_end,
                                            limits, std::move(executor)));
  limits.SetRequestSlots(shape.request_slots);
  engine->RegisterMetrics(registry);
  return engine;
}

Engine::Engine(EngineProfile profile, const EngineShape& shape, EngineMetricsAtEnd at_end,
               limits::Limits& limits, std::unique_ptr<transfer::Executor> executor)
    : profile_(profile),
      shape_(shape),
      metrics_at_end_(at_end),
      limits_(limits),
      executor_(std::move(executor)) {}

Engine::~Engine() {
  for (obs::Registration& r : series_) {
    if (metrics_at_end_ == EngineMetricsAtEnd::kKeepLastValues) {
      r.Detach();
    } else {
      r.Reset();
    }
  }
}

void Engine::SetExtraRequestSlots(int extra) {
  shape_.request_slots = shape_.requests + std::max(0, extra);
  limits_.SetRequestSlots(shape_.request_slots);
}

// The budget of the process's executor, beside the process's peak RSS: what the budget held.
void Engine::RegisterMetrics(obs::Registry& registry) {
  const transfer::ByteBudget* budget = &executor_->budget();
  series_.push_back(registry.Observe(
      obs::MetricType::kGauge, "ferry_executor_memory_budget_bytes",
      "The buffer memory budget of the process's executor (--memory).", {}, {},
      [budget] { return static_cast<double>(budget->capacity()); }));
  series_.push_back(registry.Observe(
      obs::MetricType::kGauge, "ferry_executor_memory_bytes",
      "Bytes of the executor's buffer budget in use.", {}, {},
      [budget] { return static_cast<double>(budget->in_use()); }));
  series_.push_back(registry.Observe(
      obs::MetricType::kGauge, "ferry_executor_memory_bytes_peak",
      "The most bytes of the executor's buffer budget in use at once (overdrafts included).", {},
      {}, [budget] { return static_cast<double>(budget->peak()); }));
  series_.push_back(registry.Observe(
      obs::MetricType::kCounter, "ferry_executor_stall_overdraws_total",
      "Buffers a worker took past the budget because every other worker waited (the stall "
      "rule: the work that frees the budget was queued behind them).",
      {}, {}, [budget] { return static_cast<double>(budget->stall_overdraws()); }));
}

}  // namespace ferry::app
