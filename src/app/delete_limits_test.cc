// The --max-delete limits of catalog prune and cache expiry (delete_limits.h): the flag over the
// config's key, and the checks' refusals naming where the limit came from.
#include "app/delete_limits.h"

#include <gtest/gtest.h>

namespace ferry::app {
namespace {

plan::DeleteLimit Limit(const char* text) { return *plan::ParseDeleteLimit(text); }

TEST(DeleteLimitsTest, TheFlagWinsOverTheKey) {
  auto flag = ResolveDeleteLimit("3", Limit("10%"), "[cache] max_delete");
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->limit.Text(), "3");
  EXPECT_EQ(flag->name, "--max-delete");
  EXPECT_TRUE(flag->flag);
  auto key = ResolveDeleteLimit("", Limit("10%"), "[cache] max_delete");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->limit.Text(), "10%");
  EXPECT_EQ(key->name, "[cache] max_delete");
  EXPECT_FALSE(key->flag);
  auto none = ResolveDeleteLimit("", std::nullopt, "[cache] max_delete");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->limit.enabled());
  EXPECT_FALSE(static_cast<bool>(ExpireDeleteCheck(*none)));
  EXPECT_FALSE(static_cast<bool>(PruneDeleteCheck(*none, false)));
  auto bad = ResolveDeleteLimit("x", Limit("10%"), "[cache] max_delete");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--max-delete"), std::string::npos);
}

TEST(DeleteLimitsTest, AnExpiryPastAKeyIsRefusedNamingTheKey) {
  auto check = ExpireDeleteCheck({.limit = Limit("2"), .name = "[cache] max_delete"});
  ASSERT_TRUE(static_cast<bool>(check));
  EXPECT_TRUE(check(2, 10).ok()) << "at the limit";
  const Status s = check(3, 10);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 expired objects to delete, over [cache] max_delete 2: nothing "
                             "was deleted"),
            std::string::npos)
      << s.message();
  EXPECT_NE(s.message().find("raise [cache] max_delete"), std::string::npos) << s.message();
  auto flag = ExpireDeleteCheck({.limit = Limit("20%"), .name = "--max-delete", .flag = true});
  const Status f = flag(3, 10);
  EXPECT_NE(f.message().find("(30% of the 10 cached), over --max-delete 20%"), std::string::npos)
      << f.message();
}

TEST(DeleteLimitsTest, APrunePastItsLimitIsRefusedBeforeAnythingIsForgotten) {
  backup::PrunePlan plan;
  plan.dropped.resize(3);
  plan.kept = 7;
  auto key = PruneDeleteCheck({.limit = Limit("20%"), .name = "[[schedules]] 'p' max_delete"},
                              false);
  const Status s = key(plan);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("3 versions to forget (30% of the 10 versions held), over "
                             "[[schedules]] 'p' max_delete 20%: nothing was forgotten or deleted"),
            std::string::npos)
      << s.message();
  auto dry = PruneDeleteCheck({.limit = Limit("2"), .name = "--max-delete", .flag = true}, true);
  EXPECT_NE(dry(plan).message().find("a prune would forget nothing"), std::string::npos);
  EXPECT_TRUE(PruneDeleteCheck({.limit = Limit("3"), .name = "--max-delete"}, false)(plan).ok());
}

}  // namespace
}  // namespace ferry::app
