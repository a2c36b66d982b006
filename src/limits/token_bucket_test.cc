#include "limits/token_bucket.h"

#include <gtest/gtest.h>

namespace ferry::limits {
namespace {

using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using Time = TokenBucket::Time;

TEST(TokenBucketTest, NoRateNeverWaits) {
  TokenBucket b(0, 1, Time{});
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(b.Take(1e9, Time{}), nanoseconds(0));
}

TEST(TokenBucketTest, TakersBeyondTheBurstAreSpacedByTheRate) {
  const Time t0{};
  TokenBucket b(100, 1, t0);
  EXPECT_EQ(b.Take(1, t0), nanoseconds(0));
  EXPECT_EQ(b.Take(1, t0), milliseconds(10));  // in debt: each next one waits longer
  EXPECT_EQ(b.Take(1, t0), milliseconds(20));
  // 20 ms later the debt is paid: the next waits 10 ms again
  EXPECT_EQ(b.Take(1, t0 + milliseconds(20)), milliseconds(10));
}

TEST(TokenBucketTest, AnIdleBucketFillsUpToItsBurstOnly) {
  const Time t0{};
  TokenBucket b(10, 5, t0);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.Take(1, t0), nanoseconds(0));
  EXPECT_GT(b.Take(1, t0), nanoseconds(0));
  const Time later = t0 + std::chrono::hours(1);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.Take(1, later), nanoseconds(0));
  EXPECT_EQ(b.Take(1, later), milliseconds(100));
}

TEST(TokenBucketTest, WhatIsTakenOverASpanStaysWithinRateTimesSpanPlusBurst) {
  // 1,000 takers of 1,000 units each, each going on when told: the last goes on at
  // (units - burst) / rate
  const Time t0{};
  TokenBucket b(50'000, 10'000, t0);
  Time now = t0;
  for (int i = 0; i < 1000; ++i) now += b.Take(1000, now);
  const double seconds = std::chrono::duration<double>(now - t0).count();
  EXPECT_NEAR(seconds, (1e6 - 1e4) / 5e4, 1e-3);
}

TEST(TokenBucketTest, ANewRateHoldsFromNowAndTheDebtStays) {
  const Time t0{};
  TokenBucket b(10, 1, t0);
  EXPECT_EQ(b.Take(11, t0), milliseconds(1000));  // 10 units of debt
  b.Set(100, 1, t0);
  EXPECT_EQ(b.Take(1, t0), milliseconds(110));  // the debt, now paid at 100/s, and this one
  b.Set(0, 1, t0);
  EXPECT_EQ(b.Take(1, t0), nanoseconds(0));
  // a limit set again after none starts with a full bucket
  b.Set(10, 3, t0);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.Take(1, t0), nanoseconds(0));
  EXPECT_EQ(b.Take(1, t0), milliseconds(100));
}

TEST(TokenBucketTest, ARestartForgetsTheTurnsGivenAndSpacesTheNextOne) {
  const Time t0{};
  TokenBucket b(10, 1, t0);
  EXPECT_EQ(b.Take(20, t0), milliseconds(1900));  // turns given far ahead
  b.Restart(100, 1, t0);
  // forgotten: the next taker goes one unit's time from now at the new rate, not after them
  EXPECT_EQ(b.Take(1, t0), milliseconds(10));
  EXPECT_EQ(b.Take(1, t0), milliseconds(20));
  b.Restart(0, 1, t0);
  EXPECT_EQ(b.Take(5, t0), nanoseconds(0));
}

}  // namespace
}  // namespace ferry::limits
