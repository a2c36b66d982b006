// Limits: the process's limits on what it sends and receives, applied by the HTTP transport to
// every request and body byte (http::Throttle), whichever run, worker or capability sends them:
//
//   --bwlimit        bytes per second up and down, or a timetable of them (schedule.h);
//   --max-rps N      requests per second to each endpoint (host:port), with --max-rps-burst;
//   Retry-After      an endpoint that asked for a pause (429, 503 SlowDown with the header)
//                    gets no request from this process until the pause is over;
//   adaptive rate    an endpoint that throttled a request (429, 503) gets a rate learnt from
//                    its replies (AIMD, adaptive_rate.h), under --max-rps; off with
//                    LimitsConfig::adaptive = false (--no-adaptive-rate);
//   request slots    the most requests in flight at once (SetRequestSlots: the command's
//                    --concurrency), whoever sends them: the executor's tasks and the jobs'
//                    own listings and lookups share them.
//
// Configure may be called at any time (ferry serve on SIGHUP): the new limits hold from the
// next request and byte on. Waits are shared fairly: a bucket runs into debt and whoever comes
// next waits for it (token_bucket.h), so the sum over every thread stays within the limit.
// docs/design/limits.md has the whole picture.
//
// Metrics (obs registry given, or none): ferry_limit_wait_seconds_total{limit} (time requests
// and bytes waited, by limit: bwlimit_up, bwlimit_down, max_rps, retry_after),
// ferry_limit_bytes_per_second{direction} (the rate in force, 0 = none),
// ferry_limit_requests_per_second (--max-rps, 0 = none), ferry_limit_pauses_total (Retry-After
// pauses asked for), ferry_limit_request_slots (0 = none; its waits are the limit
// "request_slots"); the adaptive rate, by endpoint, for endpoints that ever throttled:
// ferry_limit_adaptive_requests_per_second{endpoint} (0 = unlimited),
// ferry_limit_adaptive_decreases_total{endpoint}, ferry_limit_adaptive_undone_total{endpoint}
// (decreases that did not help: random throttles); its waits are the limit "adaptive_rate".
//
// Thread-safety: thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "http/throttle.h"
#include "limits/adaptive_rate.h"
#include "limits/schedule.h"
#include "limits/token_bucket.h"
#include "obs/metrics.h"

namespace ferry::limits {

struct LimitsConfig {
  BandwidthSchedule bandwidth;  // --bwlimit (default: no limit)
  double max_rps = 0;           // --max-rps per endpoint; 0 = no limit
  double max_rps_burst = 1;     // --max-rps-burst: requests that may go at once
  bool adaptive = true;         // the adaptive rate per endpoint (adaptive_rate.h); off:
                                // --no-adaptive-rate, [limits] adaptive = false
};

// The longest pause a Retry-After can ask for (longer ones are cut to this).
inline constexpr std::chrono::seconds kMaxRetryAfter{60};

class Limits : public http::Throttle {
 public:
  // `clock` (null: the system's) paces and times; `registry` (null: no metrics).
  explicit Limits(Clock* clock = nullptr, obs::Registry* registry = nullptr);
  ~Limits() override;

  void Configure(LimitsConfig config);
  LimitsConfig config() const;
  // The bandwidth rates in force now (the timetable's slot for this moment).
  Rates RatesNow();

  void BeforeRequest(std::string_view endpoint, std::stop_token stop) override;
  void Bytes(http::Direction direction, size_t n, std::stop_token stop) override;
  void PauseEndpoint(std::string_view endpoint, std::chrono::milliseconds pause) override;
  void AfterRequest(std::string_view endpoint, int status) override;
  bool TakeSlot(std::stop_token stop) override;
  void ReleaseSlot() override;

  // The most requests in flight at once, from now on (0: no limit). Requests holding a slot
  // keep it; when there are fewer slots than that, new requests wait until enough are back.
  void SetRequestSlots(int slots);
  int request_slots() const;

  // Total time waited per limit, in seconds (what the metric shows).
  double WaitedSeconds(std::string_view limit) const;
  // The adaptive rate of `endpoint` in force now (0: unlimited).
  double AdaptiveRps(std::string_view endpoint);

 private:
  struct Endpoint;
  struct Change;
  enum Waits { kUp, kDown, kRps, kRetryAfter, kSlots, kAdaptive, kWaitKinds };
  // The timetable's rates for now, set on the buckets when they changed. REQUIRES: mu_ held.
  void RefreshRates(Clock::MonoTime now);
  Endpoint& EndpointFor(std::string_view endpoint, Clock::MonoTime now);  // REQUIRES: mu_ held
  void Wait(std::chrono::nanoseconds wait, Waits kind, std::stop_token stop);
  // The endpoint's adaptive rate brought up to `now`: its pace restarted when the rate changed.
  // REQUIRES: mu_ held. Publish shows what changed (metrics, a log line), without the lock.
  Change Sync(Endpoint& e, Clock::MonoTime now);
  void Publish(const Change& change);
  // Waits for the endpoint's turn in its adaptive pace, taken again when the rate changes
  // meanwhile; then the request counts as sent.
  void AdaptivePace(Endpoint& e, std::stop_token stop);

  Clock& clock_;
  mutable std::mutex mu_;
  LimitsConfig config_;                // GUARDED_BY(mu_)
  Rates in_force_;                     // GUARDED_BY(mu_)
  Clock::MonoTime next_refresh_{};     // GUARDED_BY(mu_): when the timetable is read again
  TokenBucket up_;                     // GUARDED_BY(mu_)
  TokenBucket down_;                   // GUARDED_BY(mu_)
  std::map<std::string, std::unique_ptr<Endpoint>, std::less<>> endpoints_;  // GUARDED_BY(mu_)
  // Fast paths without the lock: false while no bandwidth limit is configured / no request
  // limit or pause was ever set (the common case costs an atomic load per chunk, not a lock).
  std::atomic<bool> bandwidth_limited_{false};
  std::atomic<bool> requests_limited_{false};
  std::atomic<bool> adaptive_{true};  // config_.adaptive, read without the lock
  std::atomic<uint64_t> waited_ns_[kWaitKinds] = {};
  std::atomic<uint64_t> pauses_{0};
  mutable std::mutex slots_mu_;
  std::condition_variable_any slots_freed_;
  int slots_ = 0;        // GUARDED_BY(slots_mu_): 0 = no limit
  int slots_taken_ = 0;  // GUARDED_BY(slots_mu_)
  std::atomic<bool> slots_limited_{false};  // slots_ > 0, read without the lock
  std::vector<obs::Registration> metrics_;
  std::optional<obs::FamilyRef<obs::Gauge>> adaptive_rate_;
  std::optional<obs::FamilyRef<obs::Counter>> adaptive_decreases_;
  std::optional<obs::FamilyRef<obs::Counter>> adaptive_undone_;
};

// The process's Limits (main applies --bwlimit and --max-rps to it; every transport the
// process makes paces through it). Never destroyed.
Limits& ProcessLimits();

}  // namespace ferry::limits
