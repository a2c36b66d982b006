// PeriodicRefresh: keeps a view fresh (metrics read from a store: the replication SLA gauges,
// the fleet's backlog gauges): `refresh` is called now, then every `interval` on a thread of
// its own (a timer that only calls it; none when `interval` is 0), and once more when the
// object is destroyed, after the thread has stopped. The wait is the Clock's (a FakeClock's
// returns at once). `refresh` must not throw; it logs its own failures.
#pragma once

#include <chrono>
#include <functional>
#include <thread>

#include "base/clock.h"

namespace ferry::obs {

class PeriodicRefresh {
 public:
  PeriodicRefresh(std::function<void()> refresh, Clock& clock, std::chrono::milliseconds interval);
  ~PeriodicRefresh();
  PeriodicRefresh(const PeriodicRefresh&) = delete;
  PeriodicRefresh& operator=(const PeriodicRefresh&) = delete;

 private:
  std::function<void()> refresh_;
  std::jthread thread_;
};

}  // namespace ferry::obs
