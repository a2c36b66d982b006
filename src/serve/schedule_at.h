// When a schedule of `ferry serve` is due ([[schedules]] `at` and `tz`, docs/design/serve.md
// "Schedules"). The clock times of "daily"/"Mon" forms are read in the schedule's zone (UTC
// unless `tz` names one of the system's tz database, /usr/share/zoneinfo); every serve of a
// store computes the same due times whatever its machine's zone. Around a daylight-saving
// change, a local time that is skipped runs once at the next valid instant (the change
// itself), and one that happens twice runs once, the first time. "hourly" and "every N" are
// periods since the epoch, whatever the zone. Pure (the tz database is read once); thread-safe.
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

namespace date {
class time_zone;
}  // namespace date

namespace ferry::serve {

using TimePoint = std::chrono::system_clock::time_point;

struct ScheduleAt {
  // every > 0: the multiples of `every` since the epoch; else `days` at `minute_of_day`.
  std::chrono::seconds every{0};
  uint8_t days = 0;       // bit d: weekday d (0 = Sunday ... 6 = Saturday)
  int minute_of_day = 0;  // 0..1439, local to `zone`
  const date::time_zone* zone = nullptr;  // null: UTC (the tz database's zones live forever)
};

// Parses `at`. Errors: kInvalidArgument, one line quoting the text and naming the forms.
Result<ScheduleAt> ParseAt(std::string_view text);
// The same, its clock times in zone `tz` ("" or "UTC": UTC; else a tz database name such as
// "Europe/Paris"). An unknown zone: kInvalidArgument, one line quoting it.
Result<ScheduleAt> ParseAt(std::string_view text, std::string_view tz);

// The first occurrence strictly after `t`.
TimePoint NextAfter(const ScheduleAt& at, TimePoint t);
// The latest occurrence at or before `t`.
TimePoint LatestAtOrBefore(const ScheduleAt& at, TimePoint t);
// The shortest time between two occurrences (a weekly Mon,Thu: 3 days).
std::chrono::seconds Period(const ScheduleAt& at);

}  // namespace ferry::serve
