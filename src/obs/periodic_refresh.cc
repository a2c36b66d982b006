#include "obs/periodic_refresh.h"

#include <utility>

namespace ferry::obs {

PeriodicRefresh::PeriodicRefresh(std::function<void()> refresh, Clock& clock,
                                 std::chrono::milliseconds interval)
    : refresh_(std::move(refresh)) {
  refresh_();
  if (interval.count() <= 0) return;
  // the clock by its address: `clock` is this constructor's parameter, gone once it returns
  thread_ = std::jthread([this, c = &clock, interval](std::stop_token stop) {
    for (;;) {
      c->SleepFor(interval, stop);
      if (stop.stop_requested()) return;
      refresh_();
    }
  });
}

PeriodicRefresh::~PeriodicRefresh() {
  if (thread_.joinable()) {
    thread_.request_stop();
    thread_.join();
  }
  refresh_();
}

}  // namespace ferry::obs
