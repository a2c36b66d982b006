// The budget of a sync: RunSync of many small objects and a few large ones copied in parts,
// several times the executor's ByteBudget, on an executor of the test's own. Every object
// arrives intact; the budget's peak stays within its capacity; nothing stays in it after.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "storage/memory/memory_backend.h"
#include "transfer/executor.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;
using testing::SmallParts;

TEST(SyncBudgetTest, ASyncOfManyTimesTheBudgetStaysWithinIt) {
  constexpr uint64_t kBudget = 4ull << 20;
  constexpr uint64_t kPartSize = 1ull << 20;
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));  // another endpoint: the bytes cross this process
  // 300 small objects (~4.7 MiB, each copied whole) and 3 large ones of 6 MiB (in parts of
  // 1 MiB): ~23 MiB, more than five budgets.
  std::map<std::string, std::string> bodies;
  uint64_t total = 0;
  for (int i = 0; i < 300; ++i) {
    bodies["s/" + std::to_string(10000 + i)] = Bytes((16u << 10) + static_cast<size_t>(i), i);
  }
  for (int i = 0; i < 3; ++i) {
    bodies["z/large-" + std::to_string(i)] = Bytes((6u << 20) + static_cast<size_t>(i), 1000 + i);
  }
  for (const auto& [key, body] : bodies) {
    Put(src, key, body);
    total += body.size();
  }
  ASSERT_GT(total, 5 * kBudget);

  Executor ex(ExecutorOptions{.concurrency = 4, .memory_budget = kBudget});
  SyncOptions o;
  o.transfer.part_size = kPartSize;
  o.transfer.multipart_threshold = 2 * kPartSize;
  Stats stats;
  const auto started = std::chrono::steady_clock::now();
  SyncResult r = RunSync(ex, src, dst, o, stats, {});  // o.filter: every object
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();

  // (a) Every object copied, its bytes the source's.
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.objects_copied.load(), bodies.size());
  EXPECT_EQ(stats.objects_multipart.load(), 3u);
  for (const auto& [key, body] : bodies) {
    const auto got = dst.Contents(key);
    ASSERT_TRUE(got.has_value()) << key;
    EXPECT_TRUE(*got == body) << key;
  }
  EXPECT_EQ(dst.open_writers(), 0);

  // (b) The bound: the engine's bytes are buffers of the executor's BufferPool, each taken from
  // the budget by Borrow (ByteBudget::Acquire, which waits: buffer_pool.h), and its content
  // checks' chunks by Acquire too (content.cc); nothing overdraws (no Overdraw in transfer/).
  // Acquire admits a request past the capacity only alone (an oversized one), and every
  // request here (a part of 1 MiB, a small object) fits: the peak is within the capacity.
  const uint64_t bound = kBudget;
  const uint64_t peak = ex.budget().peak();
  std::printf("sync: budget %llu, peak %llu, bound %llu (%.2f s)\n",
              static_cast<unsigned long long>(kBudget), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(bound), seconds);
  EXPECT_LE(peak, bound);
  EXPECT_EQ(r.peak_buffer_bytes, peak);
  EXPECT_GE(peak, kPartSize);  // the budget was in use

  // (c) Nothing left in the budget.
  EXPECT_EQ(ex.budget().in_use(), 0u);
}

}  // namespace
}  // namespace ferry::transfer
