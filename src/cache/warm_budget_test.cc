// The budget of a cache warm: one request copying many small objects and a few large ones in
// parts, several times the executor's ByteBudget, on an executor of the test's own. Every
// object is cached intact; the budget's peak stays within its capacity; nothing stays in it
// after.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "cache/test_env.h"
#include "testing/test_data.h"

namespace ferry::cache::testing {
namespace {

using ferry::testing::Random;

using namespace std::chrono_literals;

TEST(WarmBudgetTest, AWarmOfManyTimesTheBudgetStaysWithinIt) {
  constexpr uint64_t kBudget = 4ull << 20;
  constexpr uint64_t kPartSize = 1ull << 20;
  CacheEnv env(kBudget, /*min_part_size=*/64 << 10);
  // 300 small objects (~4.7 MiB, each copied whole) and 3 large ones of 6 MiB (in parts of
  // 1 MiB): ~23 MiB, more than five budgets.
  std::map<std::string, std::string> bodies;
  uint64_t total = 0;
  for (int i = 0; i < 300; ++i) {
    bodies["w/s/" + std::to_string(10000 + i)] =
        Random((16u << 10) + static_cast<size_t>(i), i);
  }
  for (int i = 0; i < 3; ++i) {
    bodies["w/z/large-" + std::to_string(i)] =
        Random((6u << 20) + static_cast<size_t>(i), 1000 + i);
  }
  for (const auto& [key, body] : bodies) {
    env.Put(key, body);
    total += body.size();
  }
  ASSERT_GT(total, 5 * kBudget);

  WarmOptions o = env.Options();
  o.transfer.part_size = kPartSize;
  o.transfer.multipart_threshold = 2 * kPartSize;
  const auto started = std::chrono::steady_clock::now();
  auto r = cache::Warm(WarmRequest{.prefixes = {"w/"}, .ttl = 1h, .force = false},
                       env.Context(), o, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(r.ok()) << r.status().message();

  // (a) Every object cached, its bytes the source's.
  EXPECT_EQ(r->failed, 0u);
  EXPECT_EQ(r->copied, bodies.size());
  EXPECT_EQ(r->bytes, total);
  for (const auto& [key, body] : bodies) {
    const auto got = env.cache.Contents(key);
    ASSERT_TRUE(got.has_value()) << key;
    EXPECT_TRUE(*got == body) << key;
  }
  EXPECT_GE(env.cache.counts().commits, 3);  // the large ones in parts

  // (b) The bound: a warm's copies are a TransferEngine session on the executor (warm.h), its
  // bytes buffers of the executor's BufferPool, each taken from the budget by Borrow
  // (ByteBudget::Acquire, which waits: buffer_pool.h), and its content checks' chunks by
  // Acquire too (content.cc); nothing overdraws. Acquire admits a request past the capacity
  // only alone (an oversized one), and every request here (a part of 1 MiB, a small object)
  // fits: the peak is within the capacity.
  const uint64_t bound = kBudget;
  const uint64_t peak = env.executor.budget().peak();
  std::printf("cache warm: budget %llu, peak %llu, bound %llu (%.2f s)\n",
              static_cast<unsigned long long>(kBudget), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(bound), seconds);
  EXPECT_LE(peak, bound);
  EXPECT_GE(peak, kPartSize);  // the budget was in use

  // (c) Nothing left in the budget.
  EXPECT_EQ(env.executor.budget().in_use(), 0u);
}

}  // namespace
}  // namespace ferry::cache::testing
