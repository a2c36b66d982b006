// FakeClock: a Clock for unit tests that moves only when told. SleepFor returns at once after
// advancing the time by the requested duration and recording it, so code under test that backs
// off runs instantly and the test can assert on the delays it chose.
//
// Its monotonic time (MonoNow) moves with Advance too, and WaitUntil ends once the clock was
// moved past the deadline (checked every millisecond of real time), so a worker's idle polls,
// lease renewals and backoff waits happen exactly when a test moves the clock. AwaitWaiters
// lets a test wait until the code under test waits on the clock (instead of sleeping and
// hoping it does), so that a move of the clock is sure to end that wait.
//
// Used by tests of the S3 client's retries, of the worker and of anything else that takes a
// Clock. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
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
    Moved();
    sleeps_.push_back(d);
  }

  MonoTime MonoNow() const override {
    std::lock_guard lock(mu_);
    return mono_;
  }

  bool WaitUntil(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lock,
                 std::stop_token stop, MonoTime deadline,
                 const std::function<bool()>& ready) override {
    if (ready() || stop.stop_requested() || MonoNow() >= deadline) return ready();
    uint64_t seen = Enter();
    bool left = false;  // the deadline passed: no longer counted as waiting
    while (!ready() && !stop.stop_requested() && StillBefore(deadline, seen, left)) {
      cv.wait_for(lock, stop, std::chrono::milliseconds(1), ready);
    }
    if (!left) Leave(seen);
    return ready();
  }

  // How many threads are in WaitUntil now (waiting for a deadline this clock has not reached),
  // and how many WaitUntil calls that had to wait began so far.
  int waiting() const {
    std::lock_guard lock(mu_);
    return waiting_;
  }
  uint64_t waits_begun() const {
    std::lock_guard lock(mu_);
    return waits_begun_;
  }
  // Blocks until at least `n` threads wait in WaitUntil and more than `begun_after` waits began
  // in all (so that a thread that was woken has waited again); true then, false after `timeout`
  // of real time (a test's bound, not a pause). A thread in WaitUntil computed its deadline
  // before: moving the clock past it ends its wait.
  bool AwaitWaiters(int n, uint64_t begun_after = 0,
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock lock(mu_);
    return waiters_cv_.wait_for(
        lock, timeout, [&] { return waiting_ >= n && waits_begun_ > begun_after; });
  }
  // Blocks until every thread that waited in WaitUntil when the clock last moved has looked at
  // the time since: those whose deadline it passed have left their wait, the others wait on
  // (so a test can assert that a move short of a deadline woke nobody). False after `timeout`.
  bool AwaitWaitersSawTheTime(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    std::unique_lock lock(mu_);
    return waiters_cv_.wait_for(lock, timeout, [&] { return not_seen_ == 0; });
  }

  void SetNow(std::chrono::system_clock::time_point t) {
    std::lock_guard lock(mu_);
    now_ = t;
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard lock(mu_);
    now_ += d;
    mono_ += d;
    Moved();
  }
  // Every SleepFor duration so far, in call order.
  std::vector<std::chrono::milliseconds> sleeps() const {
    std::lock_guard lock(mu_);
    return sleeps_;
  }

 private:
  // The waits' bookkeeping (under mu_): each wait knows the last move of the clock it saw.
  void Moved() {
    ++moves_;
    not_seen_ = waiting_;
  }
  uint64_t Enter() {
    std::lock_guard lock(mu_);
    ++waiting_;
    ++waits_begun_;
    waiters_cv_.notify_all();
    return moves_;
  }
  void Saw(uint64_t& seen) {
    if (seen == moves_) return;
    seen = moves_;
    if (--not_seen_ == 0) waiters_cv_.notify_all();
  }
  // Whether `deadline` is still ahead; when it is not, the wait stops counting at once (so that
  // a test that saw every waiter look at the time sees the woken ones gone).
  bool StillBefore(MonoTime deadline, uint64_t& seen, bool& left) {
    std::lock_guard lock(mu_);
    if (mono_ < deadline) {
      Saw(seen);
      return true;
    }
    LeaveLocked(seen);
    left = true;
    return false;
  }
  void Leave(uint64_t seen) {
    std::lock_guard lock(mu_);
    LeaveLocked(seen);
  }
  void LeaveLocked(uint64_t seen) {
    --waiting_;
    Saw(seen);
    waiters_cv_.notify_all();
  }

  mutable std::mutex mu_;
  mutable std::condition_variable waiters_cv_;
  int waiting_ = 0;                                // GUARDED_BY(mu_)
  uint64_t waits_begun_ = 0;                       // GUARDED_BY(mu_)
  uint64_t moves_ = 0;                             // GUARDED_BY(mu_): Advance and SleepFor
  int not_seen_ = 0;  // GUARDED_BY(mu_): waits that have not looked since the last move
  std::chrono::system_clock::time_point now_;      // GUARDED_BY(mu_)
  MonoTime mono_{std::chrono::hours(1)};           // GUARDED_BY(mu_)
  std::vector<std::chrono::milliseconds> sleeps_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::testing
