// Schedules in a time zone (schedule_at.h, `tz`): fixed instants around the 2026 EU
// daylight-saving changes in Europe/Paris (2026-03-29: 02:00 CET becomes 03:00 CEST, at 01:00Z;
// 2026-10-25: 03:00 CEST becomes 02:00 CET, at 01:00Z), and zones without daylight saving.
#include <gtest/gtest.h>

#include <chrono>

#include "serve/schedule_at.h"

namespace ferry::serve {
namespace {

using namespace std::chrono;

// UTC instant 2026-MM-DD hh:mm.
TimePoint Z(unsigned month, unsigned day, int h, int m) {
  return TimePoint(sys_days{year{2026} / month / day} + hours(h) + minutes(m));
}

ScheduleAt In(std::string_view at, std::string_view tz) {
  Result<ScheduleAt> parsed = ParseAt(at, tz);
  EXPECT_TRUE(parsed.ok()) << at << " " << tz << ": " << parsed.status().message();
  return parsed.ok() ? *parsed : ScheduleAt{};
}

TEST(ScheduleZoneTest, DailyAcrossTheSpringChangeRunsOnceAtTheChange) {
  const ScheduleAt at = In("daily 02:30", "Europe/Paris");
  EXPECT_EQ(NextAfter(at, Z(3, 27, 12, 0)), Z(3, 28, 1, 30));   // 02:30 CET
  EXPECT_EQ(NextAfter(at, Z(3, 28, 1, 30)), Z(3, 29, 1, 0));    // 02:30 skipped: 03:00 CEST
  EXPECT_EQ(NextAfter(at, Z(3, 29, 1, 0)), Z(3, 30, 0, 30));    // 02:30 CEST
  EXPECT_EQ(LatestAtOrBefore(at, Z(3, 29, 0, 59)), Z(3, 28, 1, 30));
  EXPECT_EQ(LatestAtOrBefore(at, Z(3, 29, 1, 0)), Z(3, 29, 1, 0));
  EXPECT_EQ(LatestAtOrBefore(at, Z(3, 29, 23, 0)), Z(3, 29, 1, 0));
  int runs = 0;
  for (TimePoint t = NextAfter(at, Z(3, 28, 0, 0)); t < Z(3, 31, 0, 0); t = NextAfter(at, t)) ++runs;
  EXPECT_EQ(runs, 3);  // the 28th, 29th and 30th, once each
}

TEST(ScheduleZoneTest, DailyAcrossTheAutumnChangeRunsOnceTheFirstTime) {
  const ScheduleAt at = In("daily 02:30", "Europe/Paris");
  EXPECT_EQ(NextAfter(at, Z(10, 24, 12, 0)), Z(10, 25, 0, 30));  // the first 02:30 (CEST)
  EXPECT_EQ(NextAfter(at, Z(10, 25, 0, 30)), Z(10, 26, 1, 30));  // not the second (01:30Z)
  EXPECT_EQ(LatestAtOrBefore(at, Z(10, 25, 1, 45)), Z(10, 25, 0, 30));
  EXPECT_EQ(LatestAtOrBefore(at, Z(10, 26, 1, 29)), Z(10, 25, 0, 30));
  int runs = 0;
  for (TimePoint t = NextAfter(at, Z(10, 24, 0, 0)); t < Z(10, 27, 0, 0); t = NextAfter(at, t)) ++runs;
  EXPECT_EQ(runs, 3);
}

TEST(ScheduleZoneTest, WeeklyInLocalTime) {
  // 2026-03-23 and 03-30 are Mondays, before and after the spring change.
  const ScheduleAt at = In("Mon 06:00", "Europe/Paris");
  EXPECT_EQ(NextAfter(at, Z(3, 23, 4, 0)), Z(3, 23, 5, 0));   // 06:00 CET
  EXPECT_EQ(NextAfter(at, Z(3, 23, 5, 0)), Z(3, 30, 4, 0));   // 06:00 CEST
  EXPECT_EQ(LatestAtOrBefore(at, Z(3, 30, 3, 59)), Z(3, 23, 5, 0));
  EXPECT_EQ(Period(at), hours(24 * 7));
}

TEST(ScheduleZoneTest, ZonesWithoutDaylightSaving) {
  // Tokyo, +09:00: 02:30 local is 17:30Z the day before, whatever the date.
  const ScheduleAt tokyo = In("daily 02:30", "Asia/Tokyo");
  EXPECT_EQ(NextAfter(tokyo, Z(3, 29, 0, 0)), Z(3, 29, 17, 30));
  EXPECT_EQ(NextAfter(tokyo, Z(3, 29, 16, 0)), Z(3, 29, 17, 30));  // local 03-30 01:00
  EXPECT_EQ(NextAfter(tokyo, Z(10, 24, 18, 0)), Z(10, 25, 17, 30));
  EXPECT_EQ(LatestAtOrBefore(tokyo, Z(10, 25, 17, 29)), Z(10, 24, 17, 30));
  // Kolkata, +05:30: Monday 06:00 local is Monday 00:30Z; Monday 02:00 local is Sunday 20:30Z.
  EXPECT_EQ(NextAfter(In("Mon 06:00", "Asia/Kolkata"), Z(3, 22, 0, 0)), Z(3, 23, 0, 30));
  EXPECT_EQ(NextAfter(In("Mon 02:00", "Asia/Kolkata"), Z(3, 21, 0, 0)), Z(3, 22, 20, 30));
  // periods ignore the zone
  EXPECT_EQ(NextAfter(In("every 5s", "Asia/Tokyo"), Z(3, 29, 0, 0)), Z(3, 29, 0, 0) + seconds(5));
}

TEST(ScheduleZoneTest, UtcAndUnknownZones) {
  EXPECT_EQ(In("daily 02:30", "UTC").zone, nullptr);
  EXPECT_EQ(In("daily 02:30", "").zone, nullptr);
  EXPECT_EQ(NextAfter(In("daily 02:30", "UTC"), Z(3, 29, 0, 0)), Z(3, 29, 2, 30));
  Result<ScheduleAt> bad = ParseAt("daily 02:30", "Europe/Pariss");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("tz \"Europe/Pariss\""), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(bad.status().message().find('\n'), std::string::npos);
  EXPECT_FALSE(ParseAt("daily 25:00", "Europe/Paris").ok());
}

}  // namespace
}  // namespace ferry::serve
