// When a schedule of `ferry serve` is due ([[schedules]] `at`, docs/design/serve.md
// "Schedules"). Times are UTC: no daylight-saving gaps or repeats, and every serve of a store
// computes the same due times whatever its machine's zone. Pure; thread-safe.
//
//   "hourly"            every hour at :00
//   "daily 02:00"       every day at 02:00
//   "Mon 06:00"         Mondays at 06:00; "Mon,Thu 06:00" several days (Mon Tue Wed Thu Fri Sat
//                       Sun, any case)
//   "every 15m"         multiples of the period since 1970-01-01T00:00Z (s, m, h; 1s to 24h):
//                       "every 5s" is for tests and short demos
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "base/status.h"

namespace ferry::serve {

using TimePoint = std::chrono::system_clock::time_point;

struct ScheduleAt {
  // every > 0: the multiples of `every` since the epoch; else `days` at `minute_of_day`.
  std::chrono::seconds every{0};
  uint8_t days = 0;       // bit d: weekday d (0 = Sunday ... 6 = Saturday)
  int minute_of_day = 0;  // 0..1439
};

// Parses `at`. Errors: kInvalidArgument, one line quoting the text and naming the forms.
Result<ScheduleAt> ParseAt(std::string_view text);

// The first occurrence strictly after `t`.
TimePoint NextAfter(const ScheduleAt& at, TimePoint t);
// The latest occurrence at or before `t`.
TimePoint LatestAtOrBefore(const ScheduleAt& at, TimePoint t);
// The shortest time between two occurrences (a weekly Mon,Thu: 3 days).
std::chrono::seconds Period(const ScheduleAt& at);

}  // namespace ferry::serve
