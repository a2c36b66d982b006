#include "limits/schedule.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace ferry::limits {
namespace {

constexpr uint64_t kKi = 1024;
constexpr uint64_t kMi = 1024 * 1024;
constexpr int kDay = 1440;

int At(int day, int hour, int minute) { return day * kDay + hour * 60 + minute; }

TEST(RateTest, NumbersWithBinarySuffixesAndKibWithout) {
  EXPECT_EQ(*ParseRate("10M"), 10 * kMi);
  EXPECT_EQ(*ParseRate("666"), 666 * kKi);
  EXPECT_EQ(*ParseRate("512k"), 512 * kKi);
  EXPECT_EQ(*ParseRate("512B"), 512u);
  EXPECT_EQ(*ParseRate("1.5M"), 3 * kMi / 2);
  EXPECT_EQ(*ParseRate("10Mi"), 10 * kMi);
  EXPECT_EQ(*ParseRate("10MiB"), 10 * kMi);
  EXPECT_EQ(*ParseRate("1G"), 1024 * kMi);
  EXPECT_EQ(*ParseRate("off"), 0u);
  EXPECT_EQ(*ParseRate("OFF"), 0u);
  EXPECT_EQ(*ParseRate("0"), 0u);
  for (const char* bad : {"", "bad", "1000X", "-1M", "M", "10 M", "0.5B", "99999999P", "nan",
                          "NaNM", "inf", "-inf"}) {
    EXPECT_FALSE(ParseRate(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatRate(10 * kMi), "10 MiB/s");
  EXPECT_EQ(FormatRate(1536 * kKi), "1.5 MiB/s");
  EXPECT_EQ(FormatRate(0), "off");
}

TEST(ScheduleTest, OneRateOrUpAndDownHoldsAllWeek) {
  auto s = BandwidthSchedule::Parse("10M");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->At(0), (Rates{10 * kMi, 10 * kMi}));
  EXPECT_EQ(s->At(At(6, 23, 59)), (Rates{10 * kMi, 10 * kMi}));
  auto split = BandwidthSchedule::Parse("10M:100k");
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split->At(At(3, 12, 0)), (Rates{10 * kMi, 100 * kKi}));
  auto half = BandwidthSchedule::Parse("off:1M");
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->At(0), (Rates{0, kMi}));
  EXPECT_FALSE(half->unlimited());
  auto off = BandwidthSchedule::Parse("off");
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(off->unlimited());
  EXPECT_EQ(off->At(0), Rates{});
  EXPECT_TRUE(BandwidthSchedule().unlimited());
}

TEST(ScheduleTest, DailySlotsHoldUntilTheNextAndWrapAroundMidnight) {
  auto s = BandwidthSchedule::Parse("08:00,512k 18:00,10M 23:00,off");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->At(At(0, 7, 59)), Rates{});  // Sunday 23:00's "off" still holds
  EXPECT_EQ(s->At(At(0, 0, 0)), Rates{});
  EXPECT_EQ(s->At(At(0, 8, 0)), (Rates{512 * kKi, 512 * kKi}));
  EXPECT_EQ(s->At(At(2, 17, 59)), (Rates{512 * kKi, 512 * kKi}));
  EXPECT_EQ(s->At(At(2, 18, 0)), (Rates{10 * kMi, 10 * kMi}));
  EXPECT_EQ(s->At(At(6, 23, 30)), Rates{});
  EXPECT_EQ(s->MinutesToNextChange(At(1, 8, 0)), 10 * 60);
  EXPECT_EQ(s->MinutesToNextChange(At(6, 23, 0)), 9 * 60);  // Monday 08:00, after the week
}

TEST(ScheduleTest, WeekdaySlotsRollOverTheWeek) {
  auto s = BandwidthSchedule::Parse("Mon-08:00,512k Fri-18:00,10M Sat-00:00,off");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->At(At(0, 7, 59)), Rates{});  // Saturday's "off" until Monday 08:00
  EXPECT_EQ(s->At(At(2, 12, 0)), (Rates{512 * kKi, 512 * kKi}));
  EXPECT_EQ(s->At(At(4, 18, 0)), (Rates{10 * kMi, 10 * kMi}));
  EXPECT_EQ(s->At(At(5, 0, 0)), Rates{});
  EXPECT_EQ(s->At(At(6, 12, 0)), Rates{});
  auto wrap = BandwidthSchedule::Parse("Monday-08:00,1M;Fri-18:00,2M");
  ASSERT_TRUE(wrap.ok()) << wrap.status().message();
  EXPECT_EQ(wrap->At(At(0, 7, 0)), (Rates{2 * kMi, 2 * kMi}));  // last week's Friday slot
  EXPECT_EQ(wrap->MinutesToNextChange(At(4, 18, 0)), At(7, 8, 0) - At(4, 18, 0));
}

TEST(ScheduleTest, DailyAndWeekdaySlotsMix) {
  auto s = BandwidthSchedule::Parse("09:00,1M Sat-10:00,off:2M");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->At(At(5, 9, 30)), (Rates{kMi, kMi}));
  EXPECT_EQ(s->At(At(5, 10, 0)), (Rates{0, 2 * kMi}));
  EXPECT_EQ(s->At(At(6, 8, 0)), (Rates{0, 2 * kMi}));  // until Sunday 09:00
  EXPECT_EQ(s->At(At(6, 9, 0)), (Rates{kMi, kMi}));
}

TEST(ScheduleTest, BadTimetablesAreRefusedNamingTheBadPart) {
  struct Case {
    const char* text;
    const char* says;
  };
  for (const Case& c : {Case{"", "empty"}, Case{"bad", "bad rate"}, Case{"10:x", "bad rate 'x'"},
                        Case{"bad,bad", "bad time 'bad'"}, Case{"2401,666", "bad time"},
                        Case{"24:00,1M", "bad time '24:00'"}, Case{"10:60,1M", "bad time"},
                        Case{"Mon-bad,666", "bad time 'bad'"},
                        Case{"Xyz-10:00,1M", "bad day 'Xyz'"},
                        Case{"10:20,bad", "in timetable slot '10:20,bad'"},
                        Case{"10:00,1M 10:00,2M", "two timetable slots at Mon-10:00"},
                        Case{"Tue-10:00,1M 10:00,2M", "two timetable slots at Tue-10:00"},
                        Case{"10:00,1M 10M", "bad timetable slot '10M'"}}) {
    auto s = BandwidthSchedule::Parse(c.text);
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.status().message().find(c.says), std::string::npos)
        << c.text << ": " << s.status().message();
  }
}

TEST(ScheduleTest, TheMinuteOfTheWeekIsLocalTime) {
  const char* old = std::getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  setenv("TZ", "UTC", 1);
  tzset();
  // 2026-01-01T00:00:00Z was a Thursday
  const auto thursday = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
  EXPECT_EQ(BandwidthSchedule::MinuteOfWeek(thursday), At(3, 0, 0));
  EXPECT_EQ(BandwidthSchedule::MinuteOfWeek(thursday + std::chrono::hours(24 * 4) +
                                            std::chrono::minutes(61)),
            At(0, 1, 1));
  setenv("TZ", "Etc/GMT-2", 1);  // two hours east of UTC
  tzset();
  EXPECT_EQ(BandwidthSchedule::MinuteOfWeek(thursday), At(3, 2, 0));
  auto s = BandwidthSchedule::Parse("Thu-01:00,1M Thu-03:00,off");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->At(thursday), (Rates{kMi, kMi}));
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

}  // namespace
}  // namespace ferry::limits
