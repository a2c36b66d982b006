// FakeClock: a Clock for unit tests that moves only when told. SleepFor returns at once after
// advancing the time by the requested duration and recording it, so code under test that backs
// off runs instantly and the test can assert on the delays it chose.
//
// Its monotonic time (MonoNow) moves with Advance too, and WaitUntil ends once the clock was
// moved past the deadline (checked every millisecond of real time), so a worker's idle polls,
// lease renewals and backoff waits happen exactly when a test moves the clock.
//
// Used by tests of the S3 client's retries, of the worker and of anything else that takes a
// Clock. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <stop_token>
#include <vector>

#include "base/clock.h"

namespace ferry::testing {

class FakeClock : public Clock {
 public:
  // Starts at `start` (default: 2026-01-01T00:00:00Z).
  explicit FakeClock(std::chrono::system_clock::time_point start =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1767225600)))
      : now_(start) {}

  std::chrono::system_clock::time_point Now() const override {
    std::lock_guard lock(mu_);
    return now_;
  }

  // Advances the time by `d` and records it; ignores `stop` (returns immediately anyway).
  void SleepFor(std::chrono::milliseconds d, std::stop_token stop) override {
    (void)stop;
    std::lock_guard lock(mu_);
    now_ += d;
    mono_ += d;
    sleeps_.push_back(d);
  }

  MonoTime MonoNow() const override {
    std::lock_guard lock(mu_);
    return mono_;
  }

  bool WaitUntil(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lock,
                 std::stop_token stop, MonoTime deadline,
                 const std::function<bool()>& ready) override {
    while (!ready() && !stop.stop_requested() && MonoNow() < deadline) {
      cv.wait_for(lock, stop, std::chrono::milliseconds(1), ready);
    }
    return ready();
  }

  void SetNow(std::chrono::system_clock::time_point t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
    mono_ += d;
  }
  // Every SleepFor duration so far, in call order.
  std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::system_clock::time_point now_;      // GUARDED_BY(mu_)
  MonoTime mono_{std::chrono::hours(1)};           // GUARDED_BY(mu_)
  std::vector<std::chrono::milliseconds> sleeps_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::testing
