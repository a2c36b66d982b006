// Verify mends index and cache both ways.
#include "cache/test_env.h"
#include "cache/verify.h"

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

TEST(VerifyTest, DropsEntriesWithoutObjectsAndAdoptsOrDeletesUnknownObjects) {
  CacheEnv env;
  env.Put("a", "alpha");
  env.Put("b", "bravo");
  env.Put("c", "charlie");
  ASSERT_TRUE(env.Warm({"a", "b"}, 1h).ok());
  ASSERT_TRUE(env.cache.Delete("a", {}).ok());  // gone behind the index's back
  storage::WriteSpec spec;
  spec.size = 7;
  const std::string c = "charlie", junk = "garbage";
  // "c" written by someone else with the source's bytes: adoptable. "junk": not in the source.
  ASSERT_TRUE(env.cache.Put("c", std::as_bytes(std::span(c.data(), c.size())), spec, {}).ok());
  ASSERT_TRUE(env.cache.Put("junk", std::as_bytes(std::span(junk.data(), junk.size())), spec, {}).ok());

  auto report = Verify(*env.index, env.cache, nullptr, {}, {});
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_EQ(report->objects, 3u);
  EXPECT_EQ(report->entries, 2u);
  EXPECT_EQ(report->dropped, 1u);
  EXPECT_EQ(report->unknown, 2u);
  EXPECT_FALSE(env.index->Get("a")->has_value());
  EXPECT_EQ(env.cache.Keys().size(), 3u);  // report only: unknown objects stay

  VerifyOptions adopt;
  adopt.unknown = UnknownObjects::kAdopt;
  auto mended = Verify(*env.index, env.cache, &env.source, adopt, {});
  ASSERT_TRUE(mended.ok()) << mended.status().message();
  EXPECT_EQ(mended->adopted, 1u);
  EXPECT_EQ(mended->deleted, 1u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"b", "c"}));
  EXPECT_TRUE(env.index->Get("c")->has_value());
  // The adopted object now counts as cached.
  auto warm = env.Warm({""}, 1h, false, "req-2");
  EXPECT_EQ(warm->copied, 1u);  // "a" again
  EXPECT_EQ(warm->skipped, 2u);

  VerifyOptions del;
  del.unknown = UnknownObjects::kDelete;
  ASSERT_TRUE(env.cache.Put("junk", std::as_bytes(std::span(junk.data(), junk.size())), spec, {}).ok());
  auto cleaned = Verify(*env.index, env.cache, nullptr, del, {});
  EXPECT_EQ(cleaned->deleted, 1u);
  EXPECT_EQ(cleaned->dropped, 0u);
  EXPECT_EQ(env.cache.Keys(), (std::vector<std::string>{"a", "b", "c"}));
}

}  // namespace
}  // namespace ferry::cache::testing
