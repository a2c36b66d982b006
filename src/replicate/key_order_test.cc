// Order in one key's pass (key_order.h): late writes and two-way's latest write, on plain data.
#include "replicate/key_order.h"

#include <gtest/gtest.h>

#include "replicate/key_test_data.h"

namespace ferry::replicate::internal {
namespace {

using keytest::AtMs;
using keytest::kDst;
using keytest::kSrc;
using keytest::Listed;
using keytest::ListedMarker;
using keytest::RowFor;

TEST(KeyOrderTest, WrittenAfterIsTheNewestLaterCompletedVersion) {
  const std::vector<storage::ObjectInfo> versions = {Listed("v1", 1000), Listed("v2", 2000),
                                                     Listed("v3", 3000), Listed("v4", 4000, true)};
  std::vector<VersionStatus> rows = {RowFor("r1", kDst, "v1", VersionState::kFailed),
                                     RowFor("r1", kDst, "v2", VersionState::kCompleted),
                                     RowFor("r1", kDst, "v3", VersionState::kCompleted),
                                     RowFor("r1", kDst, "v4", VersionState::kPending),
                                     RowFor("r1", "rc:other/", "v4", VersionState::kCompleted)};
  EXPECT_EQ(WrittenAfter(versions, versions[0], rows, "r1", kDst), &rows[2]);
  EXPECT_EQ(WrittenAfter(versions, versions[2], rows, "r1", kDst), nullptr);
  EXPECT_EQ(WrittenAfter(versions, versions[2], rows, "r1", "rc:other/"), &rows[4]);
  EXPECT_EQ(WrittenAfter(versions, versions[3], rows, "r1", kDst), nullptr);  // the newest
  EXPECT_EQ(WrittenAfter(versions, versions[0], rows, "r2", kDst), nullptr);
}

TEST(KeyOrderTest, ALateVersionIsSupersededOnlyWhereTheDestinationKeepsNoVersions) {
  VersionStatus newer = RowFor("r1", kDst, "v2", VersionState::kCompleted);
  EXPECT_EQ(SupersededMessage(newer),
            "superseded: the destination keeps no versions and holds a newer one (v2)");
  newer.dest_version = "d2";
  EXPECT_EQ(SupersededMessage(newer), std::nullopt);
}

TEST(KeyOrderTest, SourceCurrentWasWrittenNamesTheSourcesCurrentOriginal) {
  const std::vector<storage::ObjectInfo> versions = {Listed("v1", 1000), Listed("v2", 2000, true)};
  EXPECT_TRUE(SourceCurrentWasWritten(versions, kSrc, WriteOrder{2000, kSrc, "v2"}));
  EXPECT_FALSE(SourceCurrentWasWritten(versions, kSrc, WriteOrder{1000, kSrc, "v1"}));
  EXPECT_FALSE(SourceCurrentWasWritten(versions, kSrc, WriteOrder{2000, kDst, "v2"}));
  EXPECT_FALSE(SourceCurrentWasWritten({Listed("v1", 1000), ListedMarker("v2", 2000, true)}, kSrc,
                                       WriteOrder{2000, kSrc, "v2"}));
  EXPECT_FALSE(SourceCurrentWasWritten({}, kSrc, WriteOrder{2000, kSrc, "v2"}));
}

TEST(KeyOrderTest, AnOriginalsHeadTimeIsRoundedUpToItsSecond) {
  const Connected connected{kSrc, kDst};
  // The destination's current original, as HEAD shows it: whole seconds (10 s).
  storage::ObjectInfo current = Listed("d1", 10'000);
  // Written at 10.5 s by this pass (ordered by its source's listing): the original at 10 s may
  // be later (10.999), one written at 11 s may not.
  EXPECT_TRUE(MayBeLater(current, kDst, WriteOrder{10'500, kSrc, "v1"}, connected));
  EXPECT_FALSE(MayBeLater(current, kDst, WriteOrder{11'000, kSrc, "v1"}, connected));
  // A replica's order is its marks' (milliseconds): not rounded.
  current.metadata[kMetaReplicaOrigin] = kSrc;
  current.metadata[kMetaReplicaVersion] = "v0";
  current.metadata[kMetaReplicaTime] = "10.200";
  EXPECT_FALSE(MayBeLater(current, kDst, WriteOrder{10'500, kSrc, "v1"}, connected));
  EXPECT_TRUE(MayBeLater(current, kDst, WriteOrder{10'100, kSrc, "v1"}, connected));
}

TEST(KeyOrderTest, LatestIfAfterTakesTheLatestOrderedWhenLaterThanOurs) {
  const std::vector<Ordered> theirs = {{WriteOrder{3000, kDst, "d3"}, "d3", AtMs(3000)},
                                       {WriteOrder{5000, kDst, "d1"}, "d1", AtMs(5000)},
                                       {WriteOrder{4000, kDst, "d2"}, "d2", AtMs(4000)}};
  std::optional<Ordered> later = LatestIfAfter(theirs, WriteOrder{4500, kSrc, "v1"});
  ASSERT_TRUE(later);
  EXPECT_EQ(later->version, "d1");
  // The same millisecond: the origin name decides ("ra:src/" < "rb:dst/" < "rz:last/").
  EXPECT_EQ(LatestIfAfter(theirs, WriteOrder{5000, kSrc, "v1"})->version, "d1");
  EXPECT_EQ(LatestIfAfter(theirs, WriteOrder{5000, "rz:last/", "v1"}), std::nullopt);
  EXPECT_EQ(LatestIfAfter(theirs, WriteOrder{6000, kSrc, "v1"}), std::nullopt);
  EXPECT_EQ(LatestIfAfter({}, WriteOrder{0, kSrc, "v1"}), std::nullopt);
}

TEST(KeyOrderTest, LatestIfAfterKeepsTheFirstOfEquals) {
  const std::vector<Ordered> theirs = {{WriteOrder{5000, kDst, "d"}, "newest", AtMs(5000)},
                                       {WriteOrder{5000, kDst, "d"}, "older", AtMs(5000)}};
  EXPECT_EQ(LatestIfAfter(theirs, WriteOrder{1000, kSrc, "v1"})->version, "newest");
}

TEST(KeyOrderTest, LatestOriginalIsTheLatestKnownOriginalByListingTime) {
  const Connected connected{kSrc, kDst};
  std::vector<VersionStatus> rows = {RowFor("r1", kDst, "v1", VersionState::kCompleted),
                                     RowFor("r1", kDst, "v2", VersionState::kCompleted),
                                     RowFor("r1", kDst, "v3", VersionState::kReplica)};
  const std::set<std::string> written_here = {"v4"};
  SourceVersionsSeen seen(kSrc, connected, rows, written_here);
  const std::vector<storage::ObjectInfo> versions = {Listed("v1", 1000), Listed("v2", 2000),
                                                     ListedMarker("m", 2500), Listed("v3", 3000),
                                                     Listed("v4", 4000), Listed("v5", 5000, true)};
  std::optional<Ordered> best = LatestOriginal(versions, kSrc, seen);
  ASSERT_TRUE(best);
  // v3 is a REPLICA row, v4 a pass wrote here, v5 has no row: not known originals.
  EXPECT_EQ(best->version, "v2");
  EXPECT_EQ(best->order, (WriteOrder{2000, kSrc, "v2"}));
  EXPECT_EQ(best->listed, AtMs(2000));
  // Details read in this pass make v5 a known original.
  seen.Learn(Listed("v5", 5000, true), "v5");
  EXPECT_EQ(LatestOriginal(versions, kSrc, seen)->version, "v5");
  EXPECT_EQ(LatestOriginal({Listed("v4", 4000)}, kSrc, seen), std::nullopt);
}

}  // namespace
}  // namespace ferry::replicate::internal
