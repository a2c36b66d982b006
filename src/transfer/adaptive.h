// AdaptiveLimit: how many requests the executor keeps in flight when no --concurrency was
// given. Pure: no clock, no threads; the caller passes the time and cumulative counters.
//
// The limit moves in windows (at least `window` long and max(`min_tasks`, limit) tasks, so every
// slot turns over at least once, or 4 x `window` whatever the count). Each window either tries
// an increase or holds; at its end:
//  * throttled (503 SlowDown, 429, a timeout or network error in it): the limit halves (at
//    least `min`); the next window only measures the new baseline;
//  * after an increase, throughput (tasks/s or bytes/s, the better) is compared with the window
//    before: grown by at least half of the increase's ratio keeps it and tries the next; by a
//    twentieth of it (+5% for a doubling, +0.6% for +1/8) keeps it but ends the doubling; less
//    takes it back, and the limit holds for kHoldWindows windows before trying again. A
//    twentieth, not more: near a server's capacity each doubling still gives a few per cent
//    (small copies on one RGW: 32 -> 64 +7%, 64 -> 128 +5%), which is wall time worth having;
//    a link or server that gives nothing more is still told apart from noise, as a window
//    lasts until every slot turned over at least once;
//  * a next increase is tried only when the limit bound the work (a task waited for a slot:
//    `saturated`): doubling at first ("slow start"), then by an eighth (at least 1). A limit the
//    work does not fill (the listing is slower) never grows.
// So the limit grows while throughput grows, stops where the link or the server gives no more,
// probes again now and then, and backs off multiplicatively when the server asks. Always within
// [min, max].
//
// Thread-safety: none; the executor calls it under its lock.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "base/clock.h"

namespace ferry::transfer {

// The most requests in flight an adapted limit reaches when no --concurrency is given (the
// executor's worker count then). 128 was tried for small objects on the RGW pair: about 7% less
// wall time than the session before, but 6-20% more CPU (twice the threads and connections),
// so the ceiling stays 64 and the rule below lets the limit reach it.
inline constexpr int kAdaptiveMaxConcurrency = 64;

struct AdaptiveOptions {
  int min = 1;
  int max = 64;
  int initial = 16;
  std::chrono::milliseconds window{150};
  uint64_t min_tasks = 8;
};

class AdaptiveLimit {
 public:
  using Time = std::chrono::steady_clock::time_point;
  // Cumulative counts since the start (never decreasing).
  struct Totals {
    uint64_t tasks = 0;      // tasks finished
    uint64_t bytes = 0;      // bytes moved
    uint64_t throttles = 0;  // throttled, timed-out or failed requests
  };

  // `start`: the counts at `now` (the first window measures from them; default all 0).
  AdaptiveLimit(AdaptiveOptions options, Time now, Totals start);
  AdaptiveLimit(AdaptiveOptions options, Time now);

  static constexpr int kHoldWindows = 3;

  int limit() const { return limit_; }
  // True when the current window is over (see above): call Update.
  bool Due(Time now, uint64_t tasks) const;
  // Ends the window at `now` with these totals; `saturated`: a task waited for a slot in it.
  // Returns the new limit.
  int Update(Time now, const Totals& totals, bool saturated);

 private:
  struct Rates {
    double tasks = 0;
    double bytes = 0;
  };
  int Clamp(long v) const;

  const AdaptiveOptions options_;
  int limit_;
  bool slow_start_ = true;
  bool settling_ = false;    // the window after a decrease only measures
  int previous_limit_ = 0;   // before the increase this window tries (0: none tried)
  int hold_ = 0;             // windows left before the next increase is tried
  Rates last_;               // rates of the last window
  Time window_start_;
  Totals at_start_;
};

// The executor's gate on requests in flight: a fixed limit (its worker count, or an explicit
// --concurrency), or an AdaptiveLimit within [1, workers] fed with the tasks the executor ends
// and two process-wide counts from the metrics registry (obs::DefaultRegistry): bytes moved
// (ferry_transfer_bytes_moved_total) and throttled requests (ferry_s3_throttles_total).
//
// Thread-safety: none; every call under the executor's lock.
class ConcurrencyGate {
 public:
  // `clock` (null: the system's) times the adaptive limit's periods.
  ConcurrencyGate(int workers, bool adaptive, Clock* clock = nullptr);

  // A task is about to start: false (noted as saturation) when the limit is reached.
  bool Admit();
  // A task ended. True when the limit grew: idle workers should look for work again.
  bool Finished();
  int limit() const { return adaptive_ ? adaptive_->limit() : workers_; }
  int busy() const { return busy_; }
  // A task was queued: true when Admit would let it start now; false (noted as saturation, as
  // a refused Admit) when the limit is reached.
  bool RoomFor();

 private:
  const int workers_;
  Clock& clock_;
  std::optional<AdaptiveLimit> adaptive_;
  int busy_ = 0;
  uint64_t tasks_ = 0;
  bool saturated_ = false;
};

}  // namespace ferry::transfer
