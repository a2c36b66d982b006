#include "plan/delete_limit.h"

#include <gtest/gtest.h>

namespace ferry::plan {
namespace {

TEST(DeleteLimitTest, ParsesCountsAndPercentages) {
  auto n = ParseDeleteLimit("1000");
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(n->kind, DeleteLimit::Kind::kCount);
  EXPECT_EQ(n->count, 1000u);
  EXPECT_EQ(n->Text(), "1000");
  auto zero = ParseDeleteLimit("0");
  ASSERT_TRUE(zero.ok());
  EXPECT_EQ(zero->count, 0u);
  auto p = ParseDeleteLimit("10%");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->kind, DeleteLimit::Kind::kPercent);
  EXPECT_DOUBLE_EQ(p->percent, 10);
  EXPECT_EQ(p->Text(), "10%");
  auto half = ParseDeleteLimit("2.5%");
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->Text(), "2.5%");
  EXPECT_TRUE(ParseDeleteLimit("100%").ok());
  EXPECT_TRUE(ParseDeleteLimit("0%").ok());
}

TEST(DeleteLimitTest, RefusesBadValuesInOneLine) {
  for (const char* bad : {"-1", "abc", "150%", "0.5", "", "%", "10 %", "1e3", "-5%", "12abc",
                          "99999999999999999999999"}) {
    auto r = ParseDeleteLimit(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos) << bad;
  }
}

TEST(DeleteLimitTest, ExceededOnlyPastTheLimit) {
  DeleteLimit none;
  EXPECT_FALSE(none.Exceeded(1000000, 1));
  const DeleteLimit n = *ParseDeleteLimit("3");
  EXPECT_FALSE(n.Exceeded(3, 10));
  EXPECT_TRUE(n.Exceeded(4, 10));
  const DeleteLimit z = *ParseDeleteLimit("0");
  EXPECT_FALSE(z.Exceeded(0, 10));
  EXPECT_TRUE(z.Exceeded(1, 10));
  const DeleteLimit p = *ParseDeleteLimit("10%");
  EXPECT_FALSE(p.Exceeded(10, 100));
  EXPECT_TRUE(p.Exceeded(11, 100));
  EXPECT_FALSE(p.Exceeded(0, 0));
  EXPECT_TRUE(p.Exceeded(1, 0));  // deletes with nothing in scope: past any share below 100%
  EXPECT_FALSE(ParseDeleteLimit("100%")->Exceeded(5, 5));
}

TEST(DeleteLimitTest, RefusalSaysCountLimitAndWayOn) {
  const std::string count = DeleteLimitRefusal(*ParseDeleteLimit("2"), 5, 8, false);
  EXPECT_NE(count.find("5 deletes planned"), std::string::npos) << count;
  EXPECT_NE(count.find("--max-delete 2"), std::string::npos) << count;
  EXPECT_NE(count.find("nothing was deleted"), std::string::npos) << count;
  EXPECT_NE(count.find("higher --max-delete"), std::string::npos) << count;
  const std::string share = DeleteLimitRefusal(*ParseDeleteLimit("10%"), 5, 8, true);
  EXPECT_NE(share.find("62.5% of the 8 destination objects in scope"), std::string::npos)
      << share;
  EXPECT_NE(share.find("a run would delete nothing"), std::string::npos) << share;
}

// A limit the config set is named by its key, not by a flag the user never gave.
TEST(DeleteLimitTest, ARefusalNamesTheConfigKeyThatSetTheLimit) {
  DeleteLimit limit = *ParseDeleteLimit("10%");
  limit.from = "[sync] max_delete";
  EXPECT_EQ(limit.Name(), "[sync] max_delete");
  EXPECT_EQ(limit.Text(), "10%");
  const std::string line = DeleteLimitRefusal(limit, 5, 8, false);
  EXPECT_NE(line.find("over [sync] max_delete 10%: nothing was deleted"), std::string::npos)
      << line;
  EXPECT_NE(line.find("raise [sync] max_delete (or rerun with a higher --max-delete)"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("over --max-delete"), std::string::npos) << line;
}

}  // namespace
}  // namespace ferry::plan
