// Exact expiry with an injected clock, and a renew racing the pass.
#include "cache/expire.h"

#include "cache/test_env.h"

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

TEST(ExpireTest, DeletesExpiredObjectsWithTheirEntriesAndNothingElse) {
  CacheEnv env;
  env.Put("short/1", "one");
  env.Put("short/2", "two");
  env.Put("long/1", "three");
  ASSERT_TRUE(env.Warm({"short/"}, 1h).ok());
  ASSERT_TRUE(env.Warm({"long/"}, 3h, false, "req-2").ok());
  env.clock.Advance(59min);
  auto none = ExpirePass(*env.index, env.cache, {}, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->expired, 0u);
  env.clock.Advance(1min);  // exactly at the expiry
  auto r = ExpirePass(*env.index, env.cache, {}, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->expired, 2u);
  EXPECT_EQ(r->bytes, 6u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"long/1"}));
  EXPECT_FALSE(env.index->Get("short/1")->has_value());
  EXPECT_TRUE(env.index->Get("long/1")->has_value());
}

TEST(ExpireTest, AnObjectRenewedAfterThePassReadItIsKept) {
  CacheEnv env;
  env.Put("k", "v");
  env.Put("j", "w");
  ASSERT_TRUE(env.Warm({""}, 1h).ok());
  env.clock.Advance(2h);
  ExpireOptions options;
  // A warm renews "k" right after the pass read it.
  options.before_mark = [&](const Entry& e) {
    if (e.key != "k") return;
    auto r = env.Warm({"k"}, 1h, false, "renewer");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->skipped, 1u);
  };
  auto r = ExpirePass(*env.index, env.cache, options, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->expired, 1u);
  EXPECT_EQ(r->kept, 1u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"k"}));
  EXPECT_TRUE(env.index->Get("k")->has_value());
}

TEST(ExpireTest, AFailedDeleteKeepsTheRowAndIsRetriedAfterItsMarkRanOut) {
  CacheEnv env;
  env.Put("k", "v");
  ASSERT_TRUE(env.Warm({""}, 1h).ok());
  env.clock.Advance(2h);
  env.cache.FailNext(storage::MemoryBackend::kDelete, 1, Status::Unavailable("503"));
  auto r = ExpirePass(*env.index, env.cache, {}, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->failed, 1u);
  EXPECT_TRUE(env.index->Get("k")->has_value());  // never a row without its object
  EXPECT_EQ(ExpirePass(*env.index, env.cache, {}, {})->expired, 0u);  // mark still live
  env.clock.Advance(2min);
  auto again = ExpirePass(*env.index, env.cache, {}, {});
  EXPECT_EQ(again->expired, 1u);
  EXPECT_TRUE(env.cache.Keys().empty());
}

TEST(ExpireTest, ServeRunsPassesOnTheClock) {
  CacheEnv env;
  env.Put("k", "v");
  ASSERT_TRUE(env.Warm({""}, 1h).ok());
  std::stop_source stop;
  int passes = 0;
  Serve(
      *env.index, env.cache, {}, 10min,
      [&](const Result<ExpireResult>& r) {
        ASSERT_TRUE(r.ok());
        if (++passes == 8) stop.request_stop();  // 70 minutes of fake time
      },
      stop.get_token());
  EXPECT_EQ(passes, 8);
  EXPECT_TRUE(env.cache.Keys().empty());
}

}  // namespace
}  // namespace ferry::cache::testing
