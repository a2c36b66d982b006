#include "s3/time_format.h"

#include <gtest/gtest.h>

namespace ferry::s3 {
namespace {

using std::chrono::system_clock;

system_clock::time_point At(int64_t unix_seconds, int64_t ms = 0) {
  return system_clock::time_point(std::chrono::seconds(unix_seconds)) +
         std::chrono::milliseconds(ms);
}

TEST(TimeFormatTest, FormatsAmzDate) {
  EXPECT_EQ(FormatAmzDate(At(1440938160)), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(At(1440938160, 999)), "20150830T123600Z");
  EXPECT_EQ(FormatAmzDate(At(0)), "19700101T000000Z");
}

TEST(TimeFormatTest, FormatsIso8601AndReadsItBack) {
  EXPECT_EQ(FormatIso8601(At(1440938160, 999)), "2015-08-30T12:36:00.999Z");
  EXPECT_EQ(ParseIso8601(FormatIso8601(At(1795308801))), At(1795308801));
}

TEST(TimeFormatTest, ParsesIso8601) {
  // 2026-11-22T00:53:21Z = 1795308801
  EXPECT_EQ(ParseIso8601("2026-11-22T00:53:21.123Z"), At(1795308801, 123));
  EXPECT_EQ(ParseIso8601("2026-11-22T00:53:21Z"), At(1795308801));
  EXPECT_EQ(ParseIso8601("2026-11-22T02:53:21+02:00"), At(1795308801));
  EXPECT_EQ(ParseIso8601("2026-11-22T00:53:21.5Z"), At(1795308801, 500));
  EXPECT_FALSE(ParseIso8601("2026-11-22 00:53:21Z"));
  EXPECT_FALSE(ParseIso8601("2026-13-22T00:53:21Z"));
  EXPECT_FALSE(ParseIso8601("2026-11-22T00:53:21"));
  EXPECT_FALSE(ParseIso8601(""));
}

// Found by fuzz_s3_xml: a year past what system_clock's nanoseconds hold overflowed (undefined
// behaviour) instead of being refused.
TEST(TimeFormatTest, RefusesYearsTheClockCannotHold) {
  EXPECT_FALSE(ParseIso8601("4052-11-20T10:05:00Z"));
  EXPECT_FALSE(ParseIso8601("9999-12-31T23:59:59Z"));
  EXPECT_FALSE(ParseIso8601("1000-01-01T00:00:00Z"));
  EXPECT_FALSE(ParseHttpDate("Fri, 31 Dec 9999 23:59:59 GMT"));
  EXPECT_TRUE(ParseIso8601("2261-12-31T23:59:59Z"));
  EXPECT_TRUE(ParseIso8601("1678-01-01T00:00:00Z"));
}

TEST(TimeFormatTest, ParsesHttpDate) {
  EXPECT_EQ(ParseHttpDate("Sun, 22 Nov 2026 00:53:21 GMT"), At(1795308801));
  EXPECT_EQ(ParseHttpDate("22 Nov 2026 00:53:21 GMT"), At(1795308801));
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT"), At(0));
  EXPECT_FALSE(ParseHttpDate("Sun, 22 Foo 2026 00:53:21 GMT"));
  EXPECT_FALSE(ParseHttpDate("Sun, 22 Nov 2026 00:53:21"));
  EXPECT_FALSE(ParseHttpDate("garbage"));
}

}  // namespace
}  // namespace ferry::s3
