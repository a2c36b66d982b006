// Replica recognition of one key's pass (key_replicas.h), on plain rows, versions and marks.
#include "replicate/key_replicas.h"

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

// Details of a version found at kSrc whose marks name `origin`.
storage::ObjectInfo MarkedFrom(const std::string& origin, const std::string& version) {
  storage::ObjectInfo d = Listed(version, 1000);
  d.metadata[kMetaReplicaOrigin] = origin;
  d.metadata[kMetaReplicaVersion] = "o-" + version;
  d.metadata[kMetaReplicaTime] = "0.700";
  return d;
}

TEST(KeyReplicasTest, AReplicaRowHoldsWhenWrittenHereOrItsOriginIsConnected) {
  const Connected connected{kSrc, kDst};
  VersionStatus row = RowFor("r1", kDst, "v1", VersionState::kReplica);
  row.message = std::string(kReplicaRowWrittenHere);
  EXPECT_TRUE(ReplicaRowHolds(row, connected));
  row.message = std::string(kReplicaRowOf) + kDst;
  EXPECT_TRUE(ReplicaRowHolds(row, connected));
  row.message = std::string(kReplicaRowOf) + "rz:third/";
  EXPECT_FALSE(ReplicaRowHolds(row, connected));
  row.message = "replica";  // an older row's
  EXPECT_FALSE(ReplicaRowHolds(row, connected));
}

TEST(KeyReplicasTest, TheStoreRecognisesWhatAPassWroteHereMarkersIncluded) {
  const std::set<std::string> written_here = {"m1", "v2"};
  EXPECT_EQ(ReplicaByStore(written_here, ListedMarker("m1", 1000)), kReplicaRowWrittenHere);
  EXPECT_EQ(ReplicaByStore(written_here, Listed("v2", 2000)), kReplicaRowWrittenHere);
  EXPECT_EQ(ReplicaByStore(written_here, Listed("v3", 3000)), std::nullopt);
}

TEST(KeyReplicasTest, MarksMakeAReplicaOnlyAmongConnectedLocations) {
  const Connected connected{kSrc, kDst};
  EXPECT_EQ(ReplicaByMarks(MarkedFrom(kDst, "v1"), kSrc, connected),
            std::string(kReplicaRowOf) + kDst);
  // A third bucket's replica copied here, or a fail-back to its own origin: originals.
  EXPECT_EQ(ReplicaByMarks(MarkedFrom("rz:third/", "v1"), kSrc, connected), std::nullopt);
  EXPECT_EQ(ReplicaByMarks(MarkedFrom(kSrc, "v1"), kSrc, connected), std::nullopt);
  EXPECT_EQ(ReplicaByMarks(Listed("v1", 1000), kSrc, connected), std::nullopt);
  // A kept copy of its own origin is a replica there.
  storage::ObjectInfo kept = MarkedFrom(kSrc, "v1");
  kept.metadata[kMetaReplicaKept] = "1";
  EXPECT_EQ(ReplicaByMarks(kept, kSrc, connected), std::string(kReplicaRowOf) + kSrc);
}

TEST(KeyReplicasTest, SeenKnowsReplicasAndOriginalsFromTheStoreAndFromDetails) {
  const Connected connected{kSrc, kDst};
  const std::vector<VersionStatus> rows = {RowFor("r1", kDst, "v1", VersionState::kCompleted),
                                           RowFor("r1", kDst, "v2", VersionState::kReplica),
                                           RowFor("r1", kDst, "v5", VersionState::kFailed)};
  const std::set<std::string> written_here = {"v3"};
  SourceVersionsSeen seen(kSrc, connected, rows, written_here);
  EXPECT_TRUE(seen.KnownOriginal(Listed("v1", 1000)));
  EXPECT_TRUE(seen.KnownOriginal(Listed("v5", 5000)));  // any row that is not REPLICA
  EXPECT_TRUE(seen.KnownReplica("v2"));
  EXPECT_FALSE(seen.KnownOriginal(Listed("v2", 2000)));
  EXPECT_TRUE(seen.KnownReplica("v3"));
  EXPECT_FALSE(seen.KnownOriginal(Listed("v3", 3000)));
  EXPECT_FALSE(seen.KnownReplica("v4"));
  EXPECT_FALSE(seen.KnownOriginal(Listed("v4", 4000)));  // nothing known of it
  EXPECT_EQ(seen.ReplicaOrder("v2"), std::nullopt);     // its details were not read

  seen.Learn(MarkedFrom(kDst, "v4"), "v4");
  EXPECT_TRUE(seen.KnownReplica("v4"));
  EXPECT_EQ(seen.ReplicaOrder("v4"), (WriteOrder{700, kDst, "o-v4"}));
  seen.Learn(Listed("v6", 6000), "v6");
  EXPECT_TRUE(seen.KnownOriginal(Listed("v6", 6000)));
  EXPECT_FALSE(seen.KnownReplica("v6"));
  // Marks of a place the rules do not connect: an original, as its row says.
  seen.Learn(MarkedFrom("rz:third/", "v1"), "v1");
  EXPECT_TRUE(seen.KnownOriginal(Listed("v1", 1000)));
}

TEST(KeyReplicasTest, TheSoughtReplicaCarriesTheMarksAndTheStoresFacts) {
  const Connected connected{kSrc, kDst};
  storage::ObjectInfo d = Listed("v1", 1'500);
  d.etag = "0123456789abcdef0123456789abcdef";
  d.size = 42;
  ReplicaSought sought = SoughtReplicaOf(d, kSrc, connected);
  EXPECT_EQ(sought.marks[kMetaReplicaOrigin], kSrc);
  EXPECT_EQ(sought.marks[kMetaReplicaVersion], "v1");
  EXPECT_EQ(sought.marks[kMetaReplicaTime], "1.500");
  EXPECT_EQ(sought.facts.size, 42u);
  EXPECT_EQ(sought.facts.md5_etag, d.etag);
  // A multipart ETag, or an opaque one (SSE-KMS), is no MD5 to compare.
  d.etag = "0123456789abcdef0123456789abcdef-3";
  EXPECT_EQ(SoughtReplicaOf(d, kSrc, connected).facts.md5_etag, "");
}

TEST(KeyReplicasTest, AnEarlierWriteMayHaveLandedForPendingOrFailedVersionsOnly) {
  const storage::ObjectInfo v = Listed("v1", 1000);
  VersionStatus row = RowFor("r1", kDst, "v1", VersionState::kPending);
  EXPECT_TRUE(MayHaveLanded(&row, v));
  row.state = VersionState::kFailed;
  EXPECT_TRUE(MayHaveLanded(&row, v));
  row.state = VersionState::kCompleted;
  EXPECT_FALSE(MayHaveLanded(&row, v));
  EXPECT_FALSE(MayHaveLanded(nullptr, v));
  // A marker carries nothing to recognise it by; a version queued for the pack job was
  // collected, never written.
  row.state = VersionState::kPending;
  EXPECT_FALSE(MayHaveLanded(&row, ListedMarker("v1", 1000)));
  row.message = QueuedMessage();
  EXPECT_FALSE(MayHaveLanded(&row, v));
  row.state = VersionState::kFailed;  // a FAILED row with that message is not queued
  EXPECT_TRUE(MayHaveLanded(&row, v));
}

TEST(KeyReplicasTest, ARecentPendingWriteIsLookedForAgainAfterTheGrace) {
  VersionStatus row = RowFor("r1", kDst, "v1", VersionState::kPending);
  row.updated_ns = int64_t{100} * 1000 * 1000 * 1000;  // 100 s
  const auto pending_at = AtMs(100'000);
  EXPECT_EQ(InFlightUntil(row, pending_at + std::chrono::seconds(3)),
            pending_at + kWriteInFlightGrace);
  EXPECT_EQ(InFlightUntil(row, pending_at + kWriteInFlightGrace), std::nullopt);
  EXPECT_EQ(InFlightUntil(row, pending_at + std::chrono::seconds(11)), std::nullopt);
  // A packed version is written by its archive's unpack only.
  row.message = PackedMessage("rb:stage/", "r1-j2-00000000.fza");
  EXPECT_EQ(InFlightUntil(row, pending_at + std::chrono::seconds(3)), std::nullopt);
}

}  // namespace
}  // namespace ferry::replicate::internal
