#include "transfer/progress.h"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <string>

namespace ferry::transfer {

std::string HumanBytes(double bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  int u = 0;
  while (bytes >= 1024 && u < 5) bytes /= 1024, ++u;
  char buf[32];
  std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", bytes, kUnits[u]);
  return buf;
}

ProgressLine::ProgressLine(const Stats& stats, const ByteBudget* budget, Clock* clock)
    : stats_(stats), budget_(budget) {
  thread_ = std::jthread([this, &c = ClockOr(clock)](std::stop_token stop) {
    const auto start = c.MonoNow();
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    while (!c.WaitUntil(cv, lock, stop, c.MonoNow() + std::chrono::milliseconds(250),
                        [] { return false; }) &&
           !stop.stop_requested()) {
      Draw(std::chrono::duration<double>(c.MonoNow() - start).count(), false);
    }
  });
}

ProgressLine::~ProgressLine() {
  thread_.request_stop();
  thread_.join();
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
}

void ProgressLine::Draw(double seconds, bool final) {
  (void)final;
  const double moved = static_cast<double>(stats_.bytes_moved.load());
  const double planned = static_cast<double>(stats_.bytes_planned.load());
  const double rate = seconds > 0 ? moved / seconds : 0;
  std::string eta = "--";
  if (rate > 0 && planned >= moved) {
    const auto left = static_cast<long>((planned - moved) / rate);
    char buf[32];
    std::snprintf(buf, sizeof buf, "%ld:%02ld", left / 60, left % 60);
    eta = buf;
  }
  std::fprintf(stderr, "\r\033[K%s / %s, %llu/%llu objects, %s/s, ETA %s, buffers %s",
               HumanBytes(moved).c_str(), HumanBytes(planned).c_str(),
               static_cast<unsigned long long>(stats_.objects_copied.load()),
               static_cast<unsigned long long>(stats_.objects_planned.load()),
               HumanBytes(rate).c_str(), eta.c_str(),
               HumanBytes(static_cast<double>(budget_ ? budget_->in_use() : 0)).c_str());
  std::fflush(stderr);
}

}  // namespace ferry::transfer
