// RunSync's --max-delete guard (plan/delete_limit.h) on MemoryBackends: past the limit not one
// delete is made (the store counts them), the copies stay, and the result says why.
#include <gtest/gtest.h>

#include <chrono>

#include "plan/filter.h"
#include "storage/memory/memory_backend.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;
using testing::SmallParts;

SyncOptions DeletingOptions(const char* max_delete) {
  SyncOptions o;
  o.executor.concurrency = 4;
  o.executor.memory_budget = 64 * 1024;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 10000;
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  if (max_delete != nullptr) o.max_delete = *plan::ParseDeleteLimit(max_delete);
  return o;
}

// 10 destination objects, 4 of them kept by the source, plus 2 new source objects: 6 deletes
// planned out of 10 destination objects in scope (60%).
struct MaxDeleteFixture {
  MemoryBackend src{SmallParts("a")};
  MemoryBackend dst{SmallParts("b")};
  MaxDeleteFixture() {
    for (int i = 0; i < 10; ++i) Put(dst, "k" + std::to_string(i), Bytes(10, i));
    for (int i = 0; i < 4; ++i) Put(src, "k" + std::to_string(i), Bytes(10, i));
    Put(src, "new1", Bytes(10, 1));
    Put(src, "new2", Bytes(10, 2));
  }
};

TEST(SyncMaxDeleteTest, CountPastTheLimitDeletesNothingAndSaysWhy) {
  MaxDeleteFixture f;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, DeletingOptions("5"), stats, {});
  EXPECT_TRUE(r.delete_limit_tripped);
  EXPECT_EQ(r.status.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(r.status.message().find("6 deletes planned"), std::string::npos)
      << r.status.message();
  EXPECT_NE(r.status.message().find("--max-delete 5"), std::string::npos);
  EXPECT_EQ(f.dst.counts().deletes, 0);  // not a single one
  EXPECT_EQ(stats.objects_deleted.load(), 0u);
  EXPECT_EQ(f.dst.Keys().size(), 12u);  // every object kept, the copies made
  EXPECT_EQ(stats.objects_copied.load(), 2u);
}

TEST(SyncMaxDeleteTest, AtTheLimitDeletes) {
  MaxDeleteFixture f;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, DeletingOptions("6"), stats, {});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_FALSE(r.delete_limit_tripped);
  EXPECT_EQ(f.dst.counts().deletes, 6);
  EXPECT_EQ(f.dst.Keys().size(), 6u);
}

TEST(SyncMaxDeleteTest, PercentageIsOfTheDestinationObjectsInScope) {
  {
    MaxDeleteFixture f;  // 6 of 10: 60%
    Stats stats;
    SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, DeletingOptions("59%"), stats, {});
    EXPECT_TRUE(r.delete_limit_tripped);
    EXPECT_NE(r.status.message().find("60% of the 10 destination objects in scope"),
              std::string::npos)
        << r.status.message();
    EXPECT_EQ(f.dst.counts().deletes, 0);
  }
  {
    MaxDeleteFixture f;
    Stats stats;
    SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, DeletingOptions("60%"), stats, {});
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    EXPECT_EQ(f.dst.counts().deletes, 6);
  }
  {
    // A filter narrows the scope: only k0..k4 and new* are in it (k5..k9 fail --exclude), so 1
    // delete (k4) of 5 destination objects in scope: 20%.
    MaxDeleteFixture f;
    SyncOptions o = DeletingOptions("19%");
    plan::FilterOptions narrow;
    narrow.exclude = {"k[5-9]"};
    o.filter = *plan::Filter::Make(narrow, std::chrono::system_clock::now());
    Stats stats;
    SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, o, stats, {});
    EXPECT_TRUE(r.delete_limit_tripped);
    EXPECT_NE(r.status.message().find("of the 5 destination objects"), std::string::npos)
        << r.status.message();
    EXPECT_EQ(f.dst.counts().deletes, 0);
  }
}

TEST(SyncMaxDeleteTest, DryRunSaysTheLimitWouldTrip) {
  MaxDeleteFixture f;
  SyncOptions o = DeletingOptions("1");
  o.transfer.dry_run = true;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, o, stats, {});
  EXPECT_TRUE(r.delete_limit_tripped);
  EXPECT_NE(r.status.message().find("a run would delete nothing"), std::string::npos);
  EXPECT_EQ(stats.objects_deleted.load(), 0u);
  EXPECT_EQ(f.dst.counts().deletes, 0);
}

TEST(SyncMaxDeleteTest, NoLimitDeletesEverythingPlanned) {
  MaxDeleteFixture f;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(f.src, f.dst, DeletingOptions(nullptr), stats, {});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(f.dst.counts().deletes, 6);
}

}  // namespace
}  // namespace ferry::transfer
