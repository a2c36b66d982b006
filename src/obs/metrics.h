// Metrics registry: counters, gauges and histograms with labels, rendered in the Prometheus text
// exposition format (version 0.0.4) for `ferry worker --metrics-listen` and `--metrics-file`.
//
// A family is one metric name with its help text, type and label names; a series is one family
// plus one value per label name. Code that updates a metric looks its series up once
// (Family::WithLabels, a shared lock and a map lookup; the first use of a label set takes the
// exclusive lock to create it) and keeps the returned reference: series are never destroyed
// while their registry lives, and updating one is a relaxed atomic operation, no lock.
//
// Numbers owned elsewhere (e.g. transfer::Stats, the one source of the run's counters) are
// exported with Registry::Observe: the registry reads them when it renders, so the exposition
// and the `--json` summary read the same atomics. An observed series disappears when its
// Registration is destroyed, or keeps its last value when detached (Registration::Detach); it
// must not be read after what its function reads is gone.
//
// Names and label names are checked ([a-zA-Z_:][a-zA-Z0-9_:]*, labels without ':'); a bad name,
// a wrong number of label values, or one name registered with two types is a programming error
// (FERRY_CHECK). Names registered twice with the same type return the same family.
//
// Thread-safety: everything is thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ferry::obs {

enum class MetricType { kCounter, kGauge, kHistogram };

// Only goes up.
class Counter {
 public:
  void Add(uint64_t n = 1) { v_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Goes up and down (in-flight requests, bytes buffered).
class Gauge {
 public:
  void Set(double v) { v_.store(v, std::memory_order_relaxed); }
  void Add(double d) { v_.fetch_add(d, std::memory_order_relaxed); }
  double value() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> v_{0};
};

// Counts observations into fixed buckets (upper bounds, ascending; +Inf is implicit) and keeps
// their sum.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double v);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // bounds.size() + 1 entries, the last one for +Inf
    double sum = 0;
    uint64_t count = 0;  // == cumulative.back()
  };
  Snapshot Read() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_;  // per bucket, not cumulative
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, from 5 ms to 60 s (S3 requests: small GETs to large parts).
std::vector<double> LatencyBuckets();

namespace internal {
class Family;
}

// A handle on one family of a Registry. Cheap to copy; valid while the registry lives.
template <class M>
class FamilyRef {
 public:
  // The series for these label values (as many as the family has label names, in order).
  M& WithLabels(std::initializer_list<std::string_view> values) const;
  // The series of a family without labels.
  M& Get() const { return WithLabels({}); }

 private:
  friend class Registry;
  explicit FamilyRef(internal::Family* f) : family_(f) {}
  internal::Family* family_;
};

class Registry;

// Keeps a render hook (Registry::AddRenderHook) in its registry; removes it when destroyed,
// after any call of it in progress has returned. Movable. Must not be destroyed from inside
// the hook, nor while holding a lock the hook takes.
class RenderHook {
 public:
  RenderHook() = default;
  RenderHook(RenderHook&& other) noexcept { *this = std::move(other); }
  RenderHook& operator=(RenderHook&& other) noexcept;
  ~RenderHook() { Reset(); }
  void Reset();

 private:
  friend class Registry;
  RenderHook(const Registry* r, uint64_t id) : registry_(r), id_(id) {}
  const Registry* registry_ = nullptr;
  uint64_t id_ = 0;
};

// Keeps an observed series in its registry; removes it when destroyed. Movable.
class Registration {
 public:
  Registration() = default;
  Registration(Registration&& other) noexcept { *this = std::move(other); }
  Registration& operator=(Registration&& other) noexcept;
  ~Registration() { Reset(); }
  // Removes the series.
  void Reset();
  // Keeps the series with the value its function returns now, for as long as the registry
  // lives (the function is not called again): what a finished run leaves for the exposition
  // written at exit.
  void Detach();

 private:
  friend class Registry;
  Registration(internal::Family* f, uint64_t id) : family_(f), id_(id) {}
  internal::Family* family_ = nullptr;
  uint64_t id_ = 0;
};

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  FamilyRef<Counter> AddCounter(std::string_view name, std::string_view help,
                                std::vector<std::string> label_names = {});
  FamilyRef<Gauge> AddGauge(std::string_view name, std::string_view help,
                            std::vector<std::string> label_names = {});
  FamilyRef<Histogram> AddHistogram(std::string_view name, std::string_view help,
                                    std::vector<std::string> label_names,
                                    std::vector<double> bounds);

  // A counter or gauge series whose value `read` returns at render time (called with the
  // family's lock held: keep it cheap, never call back into the registry). `label_values` as
  // for WithLabels.
  [[nodiscard]] Registration Observe(MetricType type, std::string_view name,
                                     std::string_view help, std::vector<std::string> label_names,
                                     std::vector<std::string> label_values,
                                     std::function<double()> read);

  // `before` is called at the start of every render (RenderPrometheus, Snapshot, RenderJson:
  // a scrape, the dashboard, the file written at exit), on the rendering thread, before the
  // registry takes any lock of its own: a view read from elsewhere (the state store's runs,
  // jobs/run_metrics.h) brings its observed series up to date, adding or removing them, before
  // they are read. Renders on several threads call it concurrently: it must be thread-safe and
  // cheap when nothing is due (it decides itself how often it really refreshes). It must not
  // render.
  [[nodiscard]] RenderHook AddRenderHook(std::function<void()> before);

  // The sum of family `name`'s counter and gauge series (owned and observed), or of those whose
  // label `label` has `value`; 0 for an unknown family or label. For code that steers by a
  // process-wide count (the executor's adaptive concurrency reads throttles and bytes moved).
  double Total(std::string_view name, std::string_view label = {},
               std::string_view value = {}) const;

  // Every family in name order: "# HELP", "# TYPE", then its series sorted by label values
  // (histograms as _bucket{le=...} cumulative lines, _sum and _count).
  std::string RenderPrometheus() const;

  // One series read at one moment: its label values and its value (counters and gauges; an
  // observed series with the label values of an owned one is added to it, as in the exposition)
  // or its histogram.
  struct Sample {
    std::vector<std::string> label_values;
    double value = 0;
    bool is_histogram = false;
    Histogram::Snapshot histogram;
  };
  struct FamilySnapshot {
    std::string name;
    std::string help;
    MetricType type = MetricType::kCounter;
    std::vector<std::string> label_names;
    std::vector<Sample> samples;  // sorted by label values
  };
  // Every family in name order, each series read once (the figures the exposition would show).
  std::vector<FamilySnapshot> Snapshot() const;

  // The snapshot as one JSON object (the dashboard's GET /api/metrics, docs/design/dashboard.md):
  //   {"families":[{"name":..,"type":"counter"|"gauge"|"histogram","help":..,
  //     "samples":[{"labels":{"rule":"r1",..},"value":3}, ..]}, ..]}
  // A histogram sample has, instead of "value", "le" (the finite upper bounds, ascending),
  // "cumulative" (one count per bound, then the +Inf bucket: le.size() + 1 entries), "sum" and
  // "count". Numbers that JSON cannot hold (NaN, infinities) are null.
  std::string RenderJson() const;

 private:
  internal::Family* FamilyFor(std::string_view name, std::string_view help, MetricType type,
                              std::vector<std::string> label_names, std::vector<double> bounds);

  friend class RenderHook;
  void RunRenderHooks() const;
  void RemoveRenderHook(uint64_t id) const;

  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<internal::Family>, std::less<>> families_;
  // Held shared while hooks run, exclusively to add or remove one (so that a removal waits
  // for the calls in progress).
  mutable std::shared_mutex hooks_mu_;
  mutable std::map<uint64_t, std::function<void()>> hooks_;  // GUARDED_BY(hooks_mu_)
  uint64_t next_hook_ = 0;                                   // GUARDED_BY(hooks_mu_)
};

// The process-wide registry (never destroyed: threads may update metrics at exit).
Registry& DefaultRegistry();

// Writes `registry`'s exposition to `path` (through a temporary file renamed over it, so a
// reader never sees half of it). kUnavailable/kPermissionDenied naming the path on failure.
Status WriteExpositionFile(const Registry& registry, const std::string& path);

// Prometheus escaping, exposed for tests: label values escape '\\', '"' and newline; HELP text
// escapes '\\' and newline.
std::string EscapeLabelValue(std::string_view v);
std::string EscapeHelp(std::string_view v);
// A sample value: integers without a fraction, "+Inf", "-Inf", "NaN", else shortest round-trip.
std::string FormatSampleValue(double v);

}  // namespace ferry::obs
