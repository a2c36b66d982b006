#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>

#include "retry/policy.h"

namespace ferry::retry {
namespace {

using std::chrono::milliseconds;

constexpr uint64_t kMaxBits = std::numeric_limits<uint64_t>::max();

TEST(BackoffDelayTest, FirstRetryIsWithinInitialDelay) {
  Policy p;  // 100 ms initial, x2, 10 s cap
  EXPECT_EQ(BackoffDelay(p, 1, 0), milliseconds(0));
  EXPECT_EQ(BackoffDelay(p, 1, 100), milliseconds(100));  // 100 % 101
  EXPECT_EQ(BackoffDelay(p, 1, 101), milliseconds(0));
  for (uint64_t bits = 0; bits < 1000; bits += 7) {
    EXPECT_LE(BackoffDelay(p, 1, bits * 2654435761u), milliseconds(100));
  }
}

TEST(BackoffDelayTest, CeilingGrowsExponentially) {
  Policy p;
  // With random bits equal to the ceiling, the delay is exactly the ceiling.
  EXPECT_EQ(BackoffDelay(p, 2, 200), milliseconds(200));
  EXPECT_EQ(BackoffDelay(p, 3, 400), milliseconds(400));
  EXPECT_EQ(BackoffDelay(p, 4, 800), milliseconds(800));
  EXPECT_EQ(BackoffDelay(p, 4, 801), milliseconds(0));
}

TEST(BackoffDelayTest, CappedAtMaxDelay) {
  Policy p;
  for (int attempt : {8, 9, 20, 1000, std::numeric_limits<int>::max()}) {
    EXPECT_LE(BackoffDelay(p, attempt, kMaxBits), p.max_delay) << attempt;
    EXPECT_EQ(BackoffDelay(p, attempt, 10000), milliseconds(10000)) << attempt;
  }
}

TEST(BackoffDelayTest, IsPureAndDeterministic) {
  Policy p;
  EXPECT_EQ(BackoffDelay(p, 5, 123456789), BackoffDelay(p, 5, 123456789));
}

TEST(BackoffDelayTest, DegenerateParametersAreSafe) {
  Policy zero;
  zero.initial_delay = milliseconds(0);
  EXPECT_EQ(BackoffDelay(zero, 5, kMaxBits), milliseconds(0));

  Policy shrinking;
  shrinking.multiplier = 0.5;  // treated as 1: never shrinks below the initial delay
  EXPECT_EQ(BackoffDelay(shrinking, 6, 100), milliseconds(100));

  Policy p;
  EXPECT_LE(BackoffDelay(p, 0, kMaxBits), milliseconds(100));  // attempt < 1 acts as 1
  EXPECT_LE(BackoffDelay(p, -3, kMaxBits), milliseconds(100));
}

}  // namespace
}  // namespace ferry::retry
