// RunSync with a side whose listing is not sorted (storage::UnorderedMemoryBackend, listing
// like an S3 Express directory bucket): the listing is sorted before the merge, so every key
// is planned once and deletes are right. Merging it as it comes would fail the run
// ("keys out of order") or, worse, delete what the source has.
#include <gtest/gtest.h>

#include "storage/memory/unordered_backend.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using storage::UnorderedMemoryBackend;
using testing::Bytes;
using testing::Put;
using testing::SmallParts;

SyncOptions DeletingOptions() {
  SyncOptions o;
  o.executor.concurrency = 4;
  o.executor.memory_budget = 64 * 1024;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 10000;
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  return o;
}

SyncResult Sync(MemoryBackend& src, MemoryBackend& dst, Stats& stats) {
  return testing::SyncOnOwnExecutor(src, dst, DeletingOptions(), stats, {});
}

TEST(UnorderedSyncTest, SyncIntoAnUnsortedDestinationPlansEveryKeyOnceAndDeletesRight) {
  MemoryBackend src(SmallParts("a"));
  UnorderedMemoryBackend dst(SmallParts("b"));
  for (int i = 0; i < 300; ++i) Put(src, "k/" + std::to_string(1000 + i), Bytes(50, i));
  Put(src, "big", Bytes(30000, 7));  // multipart
  // Already there: every third key; stale: keys the source lacks; changed: one key.
  for (int i = 0; i < 300; i += 3) Put(dst, "k/" + std::to_string(1000 + i), Bytes(50, i));
  for (int i = 0; i < 40; ++i) Put(dst, "k/" + std::to_string(1000 + i) + "x", "stale");
  Put(dst, "k/1001", Bytes(51, 99));
  Put(dst, "zz", "stale");

  Stats first;
  SyncResult r = Sync(src, dst, first);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(first.failures(), 0u);
  EXPECT_EQ(first.objects_skipped.load(), 100u);
  EXPECT_EQ(first.objects_copied.load(), 201u);  // 199 missing + the changed one + big
  EXPECT_EQ(first.objects_deleted.load(), 41u);
  EXPECT_EQ(dst.Keys(), src.Keys());
  EXPECT_EQ(dst.Contents("k/1001"), Bytes(50, 1));
  EXPECT_EQ(dst.Contents("big"), Bytes(30000, 7));

  Stats second;
  r = Sync(src, dst, second);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(second.objects_skipped.load(), 301u);
  EXPECT_EQ(second.objects_copied.load(), 0u);
  EXPECT_EQ(second.objects_deleted.load(), 0u);
}

TEST(UnorderedSyncTest, SyncFromAnUnsortedSourceCopiesEveryKeyOnce) {
  UnorderedMemoryBackend src(SmallParts("a"), /*seed=*/7);
  MemoryBackend dst(SmallParts("b"));
  for (int i = 0; i < 120; ++i) Put(src, "p" + std::to_string(i), Bytes(10, i));
  Put(dst, "p5", Bytes(10, 5));
  Put(dst, "gone", "x");
  Stats stats;
  SyncResult r = Sync(src, dst, stats);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(stats.objects_copied.load(), 119u);
  EXPECT_EQ(stats.objects_skipped.load(), 1u);
  EXPECT_EQ(stats.objects_deleted.load(), 1u);
  EXPECT_EQ(dst.Keys(), src.Keys());
}

}  // namespace
}  // namespace ferry::transfer
