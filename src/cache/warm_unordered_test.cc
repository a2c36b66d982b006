// Warming into a cache that lists out of order (storage::UnorderedMemoryBackend, as an S3
// Express directory bucket does), and from a source that does: the index decides what is
// cached, never a merge of listings, so every key is copied once, a second warm copies
// nothing, and verify finds the index and the cache in agreement.
#include "cache/test_env.h"
#include "cache/verify.h"
#include "storage/memory/unordered_backend.h"

namespace ferry::cache::testing {
namespace {

using namespace std::chrono_literals;

TEST(WarmUnorderedTest, WarmIntoAnUnsortedCacheCopiesEachKeyOnceThenSkips) {
  CacheEnv env;
  storage::UnorderedMemoryBackend cache(
      storage::MemoryBackend::Options{.endpoint = "express", .name = "dir", .clock = &env.clock});
  storage::UnorderedMemoryBackend source(
      storage::MemoryBackend::Options{.endpoint = "src2", .name = "src2", .clock = &env.clock}, 3);
  for (int i = 0; i < 60; ++i) {
    const std::string key = "w/" + std::to_string(100 + i);
    storage::WriteSpec spec;
    spec.size = key.size();
    ASSERT_TRUE(source.Put(key, std::as_bytes(std::span(key.data(), key.size())), spec, {}).ok());
  }
  const WarmContext ctx{
      .source = source, .cache = cache, .index = *env.index, .locks = *env.locks,
      .executor = env.executor};
  const WarmRequest request{.prefixes = {"w/"}, .ttl = 1h, .force = false};
  auto first = Warm(request, ctx, env.Options("one"), {});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ(first->listed, 60u);
  EXPECT_EQ(first->copied, 60u);
  EXPECT_EQ(cache.Keys(), source.Keys());
  EXPECT_EQ(cache.counts().puts, 60);

  auto second = Warm(request, ctx, env.Options("two"), {});
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_EQ(second->copied, 0u);
  EXPECT_EQ(second->skipped, 60u);
  EXPECT_EQ(cache.counts().puts, 60) << "nothing written twice";

  auto verified = Verify(*env.index, cache, nullptr, VerifyOptions{}, {});
  ASSERT_TRUE(verified.ok()) << verified.status().message();
  EXPECT_EQ(verified->objects, 60u);
  EXPECT_EQ(verified->entries, 60u);
  EXPECT_EQ(verified->unknown, 0u);
  EXPECT_EQ(verified->dropped, 0u);
}

}  // namespace
}  // namespace ferry::cache::testing
