#include "transfer/adaptive.h"

#include <algorithm>

#include "obs/log.h"
#include "obs/metrics.h"

namespace ferry::transfer {

AdaptiveLimit::AdaptiveLimit(AdaptiveOptions options, Time now, Totals start)
    : options_(options), window_start_(now), at_start_(start) {
  limit_ = Clamp(options_.initial);
}

AdaptiveLimit::AdaptiveLimit(AdaptiveOptions options, Time now)
    : AdaptiveLimit(options, now, Totals()) {}

int AdaptiveLimit::Clamp(long v) const {
  const long lo = std::max(1, options_.min);
  const long hi = std::max<long>(lo, options_.max);
  return static_cast<int>(std::clamp(v, lo, hi));
}

bool AdaptiveLimit::Due(Time now, uint64_t tasks) const {
  const auto elapsed = now - window_start_;
  if (elapsed < options_.window) return false;
  const uint64_t needed = std::max<uint64_t>(options_.min_tasks, static_cast<uint64_t>(limit_));
  return tasks - at_start_.tasks >= needed || elapsed >= 4 * options_.window;
}

int AdaptiveLimit::Update(Time now, const Totals& totals, bool saturated) {
  const double seconds = std::chrono::duration<double>(now - window_start_).count();
  Rates rates;
  if (seconds > 0) {
    rates.tasks = static_cast<double>(totals.tasks - at_start_.tasks) / seconds;
    rates.bytes = static_cast<double>(totals.bytes - at_start_.bytes) / seconds;
  }
  const bool throttled = totals.throttles > at_start_.throttles;
  window_start_ = now;
  at_start_ = totals;
  const Rates last = last_;
  last_ = rates;
  const int tried = previous_limit_;  // the limit before the increase this window tried
  previous_limit_ = 0;

  if (throttled) {
    limit_ = Clamp(limit_ / 2);
    slow_start_ = false;
    settling_ = true;
    hold_ = 0;
    return limit_;
  }
  if (settling_) {  // the first window at the lower limit only gives the new baseline
    settling_ = false;
    return limit_;
  }
  if (tried != 0) {
    // How much more the increase gave: the better of tasks/s and bytes/s.
    auto ratio = [](double now_rate, double before) {
      return before > 0 ? now_rate / before : (now_rate > 0 ? 1e9 : 0.0);
    };
    const double r = std::max(ratio(rates.tasks, last.tasks), ratio(rates.bytes, last.bytes));
    const double step = static_cast<double>(limit_) / tried;  // e.g. 2 for a doubling
    if (r >= 1 + (step - 1) / 2) {
      // It scaled: keep it and try the next one.
    } else if (r >= 1 + (step - 1) / 20) {
      slow_start_ = false;  // it helped, less than in proportion: no more doubling
    } else {
      limit_ = tried;  // it gave nothing (or less): take it back, wait before trying again
      slow_start_ = false;
      hold_ = kHoldWindows;
      return limit_;
    }
  } else if (hold_ > 0) {
    --hold_;
    return limit_;
  }
  if (!saturated) return limit_;  // the work, not the limit, bounds throughput
  const int before = limit_;
  limit_ = Clamp(slow_start_ ? 2L * limit_ : limit_ + std::max(1, limit_ / 8));
  if (limit_ != before) previous_limit_ = before;
  return limit_;
}

namespace {

AdaptiveOptions GateOptions(int workers) {
  AdaptiveOptions o;
  o.max = std::max(1, workers);
  o.initial = std::min(o.max, AdaptiveOptions().initial);
  return o;
}

}  // namespace

namespace {

// What the process has moved and been refused so far (see ConcurrencyGate).
AdaptiveLimit::Totals ProcessTotals(uint64_t tasks) {
  const obs::Registry& r = obs::DefaultRegistry();
  AdaptiveLimit::Totals totals;
  totals.tasks = tasks;
  totals.bytes = static_cast<uint64_t>(r.Total("ferry_transfer_bytes_moved_total"));
  // Only replies asking to slow down: network faults (resets, cut replies) are retried but are
  // no sign that fewer requests would go faster (a faulty link would drive the limit to 1).
  totals.throttles = static_cast<uint64_t>(r.Total("ferry_s3_throttles_total"));
  return totals;
}

}  // namespace

ConcurrencyGate::ConcurrencyGate(int workers, bool adaptive, Clock* clock)
    : workers_(std::max(1, workers)),
      clock_(ClockOr(clock)) {
  // Requests before this executor (checks of both sides, earlier runs) are not its signals.
  if (adaptive) adaptive_.emplace(GateOptions(workers_), clock_.MonoNow(), ProcessTotals(0));
}

bool ConcurrencyGate::RoomFor() {
  if (busy_ < limit()) return true;
  saturated_ = true;
  return false;
}

bool ConcurrencyGate::Admit() {
  if (busy_ >= limit()) {
    saturated_ = true;
    return false;
  }
  ++busy_;
  return true;
}

bool ConcurrencyGate::Finished() {
  --busy_;
  ++tasks_;
  if (!adaptive_) return false;
  const auto now = clock_.MonoNow();
  if (!adaptive_->Due(now, tasks_)) return false;
  const AdaptiveLimit::Totals totals = ProcessTotals(tasks_);
  const int before = adaptive_->limit();
  const bool saturated = saturated_;
  saturated_ = false;
  const int after = adaptive_->Update(now, totals, saturated);
  if (after != before && obs::LogEnabled(obs::Level::kDebug)) {
    obs::Log(obs::Level::kDebug, "requests in flight adapted",
             {{"from", before}, {"to", after}, {"tasks", tasks_}, {"bytes", totals.bytes},
              {"throttles", totals.throttles}, {"saturated", saturated}});
  }
  return after > before;
}

}  // namespace ferry::transfer
