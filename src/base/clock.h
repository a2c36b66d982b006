// Clock: time as an input. Production code uses SystemClock; tests use testing::FakeClock,
// which moves only when told. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stop_token>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Sleeps for `d` or until `stop` is requested, whichever comes first.
  virtual void SleepFor(std::chrono::milliseconds d, std::stop_token stop) = 0;

  // Monotonic time, for periods and deadlines (never jumps). Default: steady_clock.
  using MonoTime = std::chrono::steady_clock::time_point;
  virtual MonoTime MonoNow() const { return std::chrono::steady_clock::now(); }
  // Waits on `cv`, whose mutex `lock` holds, until `ready()` is true, `deadline` (on MonoNow's
  // scale) has passed, or `stop` is requested; returns ready(). Whoever makes ready() true
  // notifies `cv`. Default: a real timed wait. A fake clock ends the wait when it is moved past
  // the deadline, however little real time went by.
  virtual bool WaitUntil(std::condition_variable_any& cv, std::unique_lock<std::mutex>& lock,
                         std::stop_token stop, MonoTime deadline,
                         const std::function<bool()>& ready) {
    return cv.wait_until(lock, stop, deadline, ready);
  }
};

// The real wall clock. Use SystemClock::Default() for a process-wide instance.
class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
  void SleepFor(std::chrono::milliseconds d, std::stop_token stop) override;
  static SystemClock& Default();
};

// The given clock, else the process's system clock (SystemClock::Default()): what an option
// or parameter documented "null: the system clock" means. Never null.
inline Clock& ClockOr(Clock* given) { return given != nullptr ? *given : SystemClock::Default(); }
inline const Clock& ClockOr(const Clock* given) {
  return given != nullptr ? *given : SystemClock::Default();
}

}  // namespace ferry
