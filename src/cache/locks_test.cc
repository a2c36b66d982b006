// Pure helpers of the prefix locks (the lock table itself: index_suite_test.cc).
#include "cache/locks.h"

#include <gtest/gtest.h>

namespace ferry::cache {
namespace {

TEST(PrefixLocksTest, PrefixesOverlapWhenOneStartsWithTheOther) {
  EXPECT_TRUE(PrefixesOverlap("year-2023/", "year-2023/month-02/"));
  EXPECT_TRUE(PrefixesOverlap("year-2023/month-02/", "year-2023/"));
  EXPECT_TRUE(PrefixesOverlap("", "anything/"));
  EXPECT_TRUE(PrefixesOverlap("a/", "a/"));
  EXPECT_FALSE(PrefixesOverlap("year-2023/", "year-2024/"));
  EXPECT_FALSE(PrefixesOverlap("a/b", "a/c"));
}

TEST(PrefixLocksTest, NormalizeDropsDuplicatesAndCoveredPrefixes) {
  EXPECT_EQ(NormalizePrefixes({"c/", "a/b/", "a/", "a/", "c/d"}),
            (std::vector<std::string>{"a/", "c/"}));
  EXPECT_EQ(NormalizePrefixes({"x/", ""}), (std::vector<std::string>{""}));
  EXPECT_EQ(NormalizePrefixes({"ab", "a"}), (std::vector<std::string>{"a"}));
  EXPECT_EQ(NormalizePrefixes({"a/", "ab/"}), (std::vector<std::string>{"a/", "ab/"}));
}

}  // namespace
}  // namespace ferry::cache
