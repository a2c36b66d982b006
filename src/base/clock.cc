#include "base/clock.h"

#include <condition_variable>
#include <mutex>

namespace ferry {

std::chrono::system_clock::time_point SystemClock::Now() const {
  return std::chrono::system_clock::now();
}

void SystemClock::SleepFor(std::chrono::milliseconds d, std::stop_token stop) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  cv.wait_for(lock, stop, d, [] { return false; });
}

SystemClock& SystemClock::Default() {
  static SystemClock clock;
  return clock;
}

}  // namespace ferry
