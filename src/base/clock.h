// Clock: time as an input. Production code uses SystemClock; tests use testing::FakeClock,
// which moves only when told. Thread-safe.
#pragma once

#include <chrono>
#include <stop_token>

namespace ferry {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Sleeps for `d` or until `stop` is requested, whichever comes first.
  virtual void SleepFor(std::chrono::milliseconds d, std::stop_token stop) = 0;
};

// The real wall clock. Use SystemClock::Default() for a process-wide instance.
class SystemClock : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
  void SleepFor(std::chrono::milliseconds d, std::stop_token stop) override;
  static SystemClock& Default();
};

}  // namespace ferry
