#include "limits/limits.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "obs/log.h"

namespace ferry::limits {
namespace {

constexpr std::array<std::string_view, 6> kWaitNames = {
    "bwlimit_up", "bwlimit_down", "max_rps", "retry_after", "request_slots", "adaptive_rate"};
// A request waiting for its turn in an adaptive pace looks again this often whether the rate
// changed (its turn is then taken again at the new rate).
constexpr std::chrono::milliseconds kPaceSlice{250};
// The timetable is looked at again this often (a slot starts on a whole minute).
constexpr std::chrono::seconds kRefreshEvery{5};

// A bandwidth bucket's burst: a tenth of a second of the rate, at least one transfer buffer
// (libcurl hands over at most 64 KiB at a time), so the link is used evenly.
double BandwidthBurst(uint64_t rate) {
  return std::max(64.0 * 1024, static_cast<double>(rate) / 10);
}

}  // namespace

struct Limits::Endpoint {
  Endpoint(std::string_view endpoint, double rate, double burst, Clock::MonoTime now)
      : name(endpoint), rps(rate, burst, now), pace(0, 1, now) {}
  std::string name;
  TokenBucket rps;
  Clock::MonoTime paused_until{};
  limits::AdaptiveRate adaptive;
  TokenBucket pace;         // turns at adaptive.rate(), burst 1: evenly spaced
  uint64_t generation = 0;  // how often the pace restarted (turns given before are void)
  uint64_t shown_decreases = 0;
  uint64_t shown_undone = 0;
};

// What Sync saw change, for Publish.
struct Limits::Change {
  const std::string* endpoint = nullptr;  // null: nothing changed
  double rate = 0;
  double before = 0;
  uint64_t decreases = 0;  // new since last shown
  uint64_t undone = 0;
};

Limits::Limits(Clock* clock, obs::Registry* registry)
    : clock_(ClockOr(clock)),
      up_(0, 1, clock_.MonoNow()),
      down_(0, 1, clock_.MonoNow()) {
  if (registry == nullptr) return;
  for (int k = 0; k < kWaitKinds; ++k) {
    metrics_.push_back(registry->Observe(
        obs::MetricType::kCounter, "ferry_limit_wait_seconds_total",
        "Time requests and body bytes waited for a limit (--bwlimit up or down, --max-rps, an "
        "endpoint's Retry-After, a request slot).",
        {"limit"}, {std::string(kWaitNames[k])},
        [this, k] { return static_cast<double>(waited_ns_[k].load()) / 1e9; }));
  }
  for (const auto& [name, up] : {std::pair{"up", true}, std::pair{"down", false}}) {
    metrics_.push_back(registry->Observe(
        obs::MetricType::kGauge, "ferry_limit_bytes_per_second",
        "The --bwlimit rate in force, by direction (0: no limit).", {"direction"}, {name},
        [this, up = up] {
          std::lock_guard lock(mu_);
          RefreshRates(clock_.MonoNow());
          return static_cast<double>(up ? in_force_.up : in_force_.down);
        }));
  }
  metrics_.push_back(registry->Observe(
      obs::MetricType::kGauge, "ferry_limit_requests_per_second",
      "The --max-rps limit per endpoint (0: no limit).", {}, {}, [this] {
        std::lock_guard lock(mu_);
        return config_.max_rps;
      }));
  metrics_.push_back(registry->Observe(
      obs::MetricType::kGauge, "ferry_limit_request_slots",
      "The most requests of the process in flight at once (its --concurrency; 0: no limit).", {},
      {}, [this] { return static_cast<double>(request_slots()); }));
  adaptive_rate_ = registry->AddGauge(
      "ferry_limit_adaptive_requests_per_second",
      "The adaptive rate of an endpoint that throttled requests (429, 503 SlowDown), learnt from "
      "its replies (0: unlimited again).",
      {"endpoint"});
  adaptive_decreases_ = registry->AddCounter(
      "ferry_limit_adaptive_decreases_total",
      "Times an endpoint's adaptive rate was halved after a throttled request.", {"endpoint"});
  adaptive_undone_ = registry->AddCounter(
      "ferry_limit_adaptive_undone_total",
      "Decreases of an endpoint's adaptive rate undone: the throttling went on as before (random, "
      "not about the rate).",
      {"endpoint"});
  metrics_.push_back(registry->Observe(
      obs::MetricType::kCounter, "ferry_limit_pauses_total",
      "Pauses endpoints asked for with Retry-After (429, 503 SlowDown).", {}, {},
      [this] { return static_cast<double>(pauses_.load()); }));
}

Limits::~Limits() = default;

void Limits::Configure(LimitsConfig config) {
  std::lock_guard lock(mu_);
  const auto now = clock_.MonoNow();
  config_ = std::move(config);
  for (auto& [name, e] : endpoints_) {
    e->rps.Set(config_.max_rps, config_.max_rps_burst, now);
    if (!config_.adaptive) {
      // off: forgotten (on again, an endpoint is unlimited until it throttles again)
      e->adaptive = limits::AdaptiveRate();
      e->pace.Restart(0, 1, now);
      ++e->generation;
    }
  }
  adaptive_ = config_.adaptive;
  next_refresh_ = {};  // the timetable is read at the next byte
  RefreshRates(now);
  bandwidth_limited_ = !config_.bandwidth.unlimited();
  if (config_.max_rps > 0) requests_limited_ = true;
}

LimitsConfig Limits::config() const {
  std::lock_guard lock(mu_);
  return config_;
}

Rates Limits::RatesNow() {
  std::lock_guard lock(mu_);
  RefreshRates(clock_.MonoNow());
  return in_force_;
}

void Limits::RefreshRates(Clock::MonoTime now) {
  if (now < next_refresh_) return;
  next_refresh_ = now + kRefreshEvery;
  const Rates r = config_.bandwidth.At(clock_.Now());
  if (r == in_force_ && up_.rate() == static_cast<double>(r.up)) return;
  in_force_ = r;
  up_.Set(static_cast<double>(r.up), BandwidthBurst(r.up), now);
  down_.Set(static_cast<double>(r.down), BandwidthBurst(r.down), now);
}

Limits::Endpoint& Limits::EndpointFor(std::string_view endpoint, Clock::MonoTime now) {
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) {
    it = endpoints_
             .emplace(std::string(endpoint), std::make_unique<Endpoint>(
                                                 endpoint, config_.max_rps, config_.max_rps_burst,
                                                 now))
             .first;
  }
  return *it->second;
}

void Limits::Wait(std::chrono::nanoseconds wait, Waits kind, std::stop_token stop) {
  // under a millisecond is not slept: the debt stays in the bucket and the next taker pays it
  if (wait < std::chrono::milliseconds(1)) return;
  const auto started = clock_.MonoNow();
  clock_.SleepFor(std::chrono::duration_cast<std::chrono::milliseconds>(
                      wait + std::chrono::microseconds(500)),
                  stop);
  const auto waited = clock_.MonoNow() - started;
  waited_ns_[kind].fetch_add(
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(waited).count()));
}

void Limits::BeforeRequest(std::string_view endpoint, std::stop_token stop) {
  const bool adaptive = adaptive_.load(std::memory_order_relaxed);
  if (!requests_limited_.load(std::memory_order_relaxed) && !adaptive) return;
  std::chrono::nanoseconds pause{0};
  std::chrono::nanoseconds rps{0};
  Endpoint* e = nullptr;
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.MonoNow();
    e = &EndpointFor(endpoint, now);  // never removed: the pointer stays valid
    if (e->paused_until > now) pause = e->paused_until - now;
    // the request's place in the rate counts from the end of the pause
    rps = e->rps.Take(1, now + pause);
  }
  Wait(pause, kRetryAfter, stop);
  Wait(rps, kRps, stop);
  if (adaptive) AdaptivePace(*e, stop);
}

void Limits::AdaptivePace(Endpoint& e, std::stop_token stop) {
  uint64_t generation = 0;
  Clock::MonoTime turn{};
  bool have_turn = false;
  for (;;) {
    std::chrono::nanoseconds wait{0};
    Change change;
    {
      std::lock_guard lock(mu_);
      const auto now = clock_.MonoNow();
      change = Sync(e, now);
      if (!have_turn || generation != e.generation) {
        turn = now + e.pace.Take(1, now);
        generation = e.generation;
        have_turn = true;
      }
      // under a millisecond is not slept (as Wait): the debt stays in the pace
      if (turn - now < std::chrono::milliseconds(1) || stop.stop_requested()) {
        e.adaptive.Sent(now);
        wait = std::chrono::nanoseconds(-1);
      } else {
        wait = std::min<std::chrono::nanoseconds>(turn - now, kPaceSlice);
      }
    }
    Publish(change);
    if (wait.count() < 0) return;
    Wait(wait, kAdaptive, stop);
  }
}

Limits::Change Limits::Sync(Endpoint& e, Clock::MonoTime now) {
  Change change;
  const double before = e.pace.rate();
  e.adaptive.Advance(now);
  const double rate = e.adaptive.rate();
  if (rate != before) {
    e.pace.Restart(rate, 1, now);
    ++e.generation;
  }
  const uint64_t decreases = e.adaptive.decreases() - e.shown_decreases;
  const uint64_t undone = e.adaptive.undone() - e.shown_undone;
  if (rate != before || decreases > 0 || undone > 0) {
    change.endpoint = &e.name;
    change.rate = rate;
    change.before = before;
    change.decreases = decreases;
    change.undone = undone;
    e.shown_decreases = e.adaptive.decreases();
    e.shown_undone = e.adaptive.undone();
  }
  return change;
}

void Limits::Publish(const Change& change) {
  if (change.endpoint == nullptr) return;
  const std::string& name = *change.endpoint;
  if (adaptive_rate_) adaptive_rate_->WithLabels({name}).Set(change.rate);
  if (adaptive_decreases_ && change.decreases > 0) {
    adaptive_decreases_->WithLabels({name}).Add(change.decreases);
  }
  if (adaptive_undone_ && change.undone > 0) adaptive_undone_->WithLabels({name}).Add(change.undone);
  if (change.before == 0 && change.rate > 0) {
    obs::Log(obs::Level::kInfo,
             fmt::format("limits: {} throttles requests: at most {:.1f} requests/s to it "
                         "(adaptive rate)",
                         name, change.rate));
  } else if (change.before > 0 && change.rate == 0) {
    obs::Log(obs::Level::kInfo,
             fmt::format("limits: {} no longer throttles: no adaptive rate", name));
  } else if (change.decreases > 0 || change.undone > 0) {
    obs::Log(obs::Level::kDebug,
             fmt::format("limits: {} adaptive rate {:.1f} requests/s ({})", name, change.rate,
                         change.undone > 0 ? "a decrease undone: random throttles" : "halved"));
  }
}

void Limits::AfterRequest(std::string_view endpoint, int status) {
  if (!adaptive_.load(std::memory_order_relaxed)) return;
  Change change;
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.MonoNow();
    Endpoint& e = EndpointFor(endpoint, now);
    e.adaptive.Done(now, status == 429 || status == 503);
    change = Sync(e, now);
  }
  Publish(change);
}

double Limits::AdaptiveRps(std::string_view endpoint) {
  std::lock_guard lock(mu_);
  auto it = endpoints_.find(endpoint);
  if (it == endpoints_.end()) return 0;
  it->second->adaptive.Advance(clock_.MonoNow());
  return it->second->adaptive.rate();
}

void Limits::Bytes(http::Direction direction, size_t n, std::stop_token stop) {
  if (!bandwidth_limited_.load(std::memory_order_relaxed)) return;
  std::chrono::nanoseconds wait{0};
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.MonoNow();
    RefreshRates(now);
    TokenBucket& bucket = direction == http::Direction::kUp ? up_ : down_;
    if (bucket.rate() <= 0) return;
    wait = bucket.Take(static_cast<double>(n), now);
  }
  Wait(wait, direction == http::Direction::kUp ? kUp : kDown, stop);
}

void Limits::PauseEndpoint(std::string_view endpoint, std::chrono::milliseconds pause) {
  if (pause <= std::chrono::milliseconds(0)) return;
  pause = std::min<std::chrono::milliseconds>(pause, kMaxRetryAfter);
  std::lock_guard lock(mu_);
  const auto now = clock_.MonoNow();
  Endpoint& e = EndpointFor(endpoint, now);
  e.paused_until = std::max(e.paused_until, now + pause);
  pauses_.fetch_add(1);
  requests_limited_ = true;
}

void Limits::SetRequestSlots(int slots) {
  {
    std::lock_guard lock(slots_mu_);
    slots_ = std::max(0, slots);
    slots_limited_ = slots_ > 0;
  }
  slots_freed_.notify_all();
}

int Limits::request_slots() const {
  std::lock_guard lock(slots_mu_);
  return slots_;
}

bool Limits::TakeSlot(std::stop_token stop) {
  if (!slots_limited_.load(std::memory_order_relaxed)) return false;
  std::unique_lock lock(slots_mu_);
  auto free = [this] { return slots_ == 0 || slots_taken_ < slots_; };
  if (!free()) {
    const auto started = clock_.MonoNow();
    slots_freed_.wait(lock, stop, free);
    waited_ns_[kSlots].fetch_add(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.MonoNow() - started)
            .count()));
    if (!free()) return false;  // stopped
  }
  if (slots_ == 0) return false;
  ++slots_taken_;
  return true;
}

void Limits::ReleaseSlot() {
  {
    std::lock_guard lock(slots_mu_);
    --slots_taken_;
  }
  slots_freed_.notify_one();
}

double Limits::WaitedSeconds(std::string_view limit) const {
  for (size_t k = 0; k < kWaitNames.size(); ++k) {
    if (kWaitNames[k] == limit) return static_cast<double>(waited_ns_[k].load()) / 1e9;
  }
  return 0;
}

Limits& ProcessLimits() {
  static Limits* limits = new Limits(nullptr, &obs::DefaultRegistry());
  return *limits;
}

}  // namespace ferry::limits
