// A dry run's estimate: the requests planned copies, deletes and restores send per store.
#include "estimate/planned_requests.h"

#include <gtest/gtest.h>

namespace ferry::estimate {
namespace {

TEST(PlannedRequestsTest, CopiesBetweenTwoStoresGetAtTheSourceAndPutAtTheDestination) {
  StoreUsages u;
  AddPlannedCopies(u, {.from = "ra", .to = "rb", .objects = 3, .bytes = 300, .deletes = 2});
  EXPECT_EQ(u["rb"].requests, (std::map<std::string, uint64_t>{{"PUT", 3}, {"DELETE", 2}}));
  EXPECT_EQ(u["rb"].bytes_out, 0u);
  EXPECT_EQ(u["ra"].requests, (std::map<std::string, uint64_t>{{"GET", 3}}));
  EXPECT_EQ(u["ra"].bytes_out, 300u);
}

TEST(PlannedRequestsTest, CopiesWithinOneStoreAreServerSideCopies) {
  StoreUsages u;
  AddPlannedCopies(u, {.from = "rb", .to = "rb", .objects = 4, .bytes = 400,
                       .source_deletes = 4});
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u["rb"].requests, (std::map<std::string, uint64_t>{{"COPY", 4}, {"DELETE", 4}}));
  EXPECT_EQ(u["rb"].bytes_out, 0u);  // nothing read out of the store
}

TEST(PlannedRequestsTest, ALocalFolderIsNotCountedAndNothingPlannedAddsNothing) {
  StoreUsages u;
  AddPlannedCopies(u, {.from = "", .to = "rb", .objects = 2, .bytes = 10});
  EXPECT_EQ(u.count(""), 0u);
  EXPECT_EQ(u["rb"].requests.at("PUT"), 2u);
  StoreUsages none;
  AddPlannedCopies(none, {.from = "ra", .to = "rb"});
  AddPlannedRestore(none, {.from = "ra", .to = "rb", .reads = {}, .archive_bytes = {}});
  EXPECT_TRUE(none.empty());
}

TEST(PlannedRequestsTest, RestoreOpensEachArchiveOnceAndReadsContiguousFramesTogether) {
  StoreUsages u;
  PlannedRestore plan{.from = "bk", .to = "rb", .reads = {}, .archive_bytes = {}};
  // archive a: two contiguous objects (one run) and one after a gap; archive b: one object of
  // 20 MiB (three 8 MiB reads)
  plan.reads = {{"a", 100, 50}, {"b", 0, 20ull << 20}, {"a", 1000, 10}, {"a", 150, 30}};
  AddPlannedRestore(u, plan);
  EXPECT_EQ(u["rb"].requests, (std::map<std::string, uint64_t>{{"HEAD", 4}, {"PUT", 4}}));
  // a: 2 opening + 1 + 1 runs; b: 2 opening + 3
  EXPECT_EQ(u["bk"].requests, (std::map<std::string, uint64_t>{{"HEAD", 2}, {"GET", 9}}));
  EXPECT_EQ(u["bk"].bytes_out, 2 * kRestoreOpenTailBytes + 80 + 10 + (20ull << 20));
}

TEST(PlannedRequestsTest, ASmallArchiveIsReadWholeByOneGet) {
  StoreUsages u;
  PlannedRestore plan{.from = "bk", .to = "rb", .reads = {{"a", 10, 5}, {"a", 900, 5}},
                      .archive_bytes = {{"a", 4096}, {"b", 2ull << 20}}};
  AddPlannedRestore(u, plan);
  EXPECT_EQ(u["bk"].requests, (std::map<std::string, uint64_t>{{"HEAD", 1}, {"GET", 1}}));
  EXPECT_EQ(u["bk"].bytes_out, 4096u);
  // at 1 MiB or more (or unknown) it is opened and its frames read in runs
  StoreUsages large;
  plan.archive_bytes["a"] = kRestoreWholeBelow;
  AddPlannedRestore(large, plan);
  EXPECT_EQ(large["bk"].requests, (std::map<std::string, uint64_t>{{"HEAD", 1}, {"GET", 4}}));
}

TEST(PlannedRequestsTest, RestoreIntoAFolderCountsOnlyTheBackupLocation) {
  StoreUsages u;
  AddPlannedRestore(u, {.from = "bk", .to = "", .reads = {{"a", 0, 5}}, .archive_bytes = {}});
  EXPECT_EQ(u.count(""), 0u);
  EXPECT_EQ(u["bk"].requests, (std::map<std::string, uint64_t>{{"HEAD", 1}, {"GET", 3}}));
}

}  // namespace
}  // namespace ferry::estimate
