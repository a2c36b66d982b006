#include "limits/limits.h"

#include <algorithm>
#include <array>

namespace ferry::limits {
namespace {

constexpr std::array<std::string_view, 5> kWaitNames = {"bwlimit_up", "bwlimit_down", "max_rps",
                                                        "retry_after", "request_slots"};
// The timetable is looked at again this often (a slot starts on a whole minute).
constexpr std::chrono::seconds kRefreshEvery{5};

// A bandwidth bucket's burst: a tenth of a second of the rate, at least one transfer buffer
// (libcurl hands over at most 64 KiB at a time), so the link is used evenly.
double BandwidthBurst(uint64_t rate) {
  return std::max(64.0 * 1024, static_cast<double>(rate) / 10);
}

}  // namespace

struct Limits::Endpoint {
  explicit Endpoint(double rate, double burst, Clock::MonoTime now) : rps(rate, burst, now) {}
  TokenBucket rps;
  Clock::MonoTime paused_until{};
};

Limits::Limits(Clock* clock, obs::Registry* registry)
    : clock_(clock != nullptr ? *clock : SystemClock::Default()),
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
  for (auto& [name, e] : endpoints_) e->rps.Set(config_.max_rps, config_.max_rps_burst, now);
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
             .emplace(std::string(endpoint),
                      std::make_unique<Endpoint>(config_.max_rps, config_.max_rps_burst, now))
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
  if (!requests_limited_.load(std::memory_order_relaxed)) return;
  std::chrono::nanoseconds pause{0};
  std::chrono::nanoseconds rps{0};
  {
    std::lock_guard lock(mu_);
    const auto now = clock_.MonoNow();
    Endpoint& e = EndpointFor(endpoint, now);
    if (e.paused_until > now) pause = e.paused_until - now;
    // the request's place in the rate counts from the end of the pause
    rps = e.rps.Take(1, now + pause);
  }
  Wait(pause, kRetryAfter, stop);
  Wait(rps, kRps, stop);
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
