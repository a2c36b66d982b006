// What one key's pass records and writes of a version (key_records.h), on plain data.
#include "replicate/key_records.h"

#include <gtest/gtest.h>

#include "replicate/key_test_data.h"
#include "replicate/sla.h"

namespace ferry::replicate::internal {
namespace {

using keytest::kDst;
using keytest::kKey;
using keytest::kSrc;
using keytest::Listed;
using keytest::ListedMarker;
using keytest::RowFor;
using keytest::RuleTo;

constexpr int64_t kNsPerMs = 1000 * 1000;

class KeyRecordsTest : public ::testing::Test {
 protected:
  KeyRecordsTest() : rule_(RuleTo("r1", {kDst})) { rule_.replication_time = std::chrono::minutes(15); }
  RowPlace Place() {
    return RowPlace{.source = kSrc, .rule = rule_, .destination = kDst, .key = kKey,
                    .first_seen_ns = first_seen_};
  }
  Rule rule_;
  std::map<std::string, int64_t> first_seen_;
};

TEST_F(KeyRecordsTest, ARowNamesItsPlaceAndVersion) {
  storage::ObjectInfo v = Listed("v1", 1000);
  VersionStatus row = NewKeyRow(Place(), v, VersionState::kPending, 5000 * kNsPerMs);
  EXPECT_EQ(row.source, kSrc);
  EXPECT_EQ(row.rule, "r1");
  EXPECT_EQ(row.destination, kDst);
  EXPECT_EQ(row.key, kKey);
  EXPECT_EQ(row.source_version, "v1");
  EXPECT_EQ(row.state, VersionState::kPending);
  EXPECT_EQ(row.source_etag, "e-v1");
  EXPECT_FALSE(row.delete_marker);
  EXPECT_EQ(row.updated_ns, 5000 * kNsPerMs);
  EXPECT_EQ(row.size, 10);
  EXPECT_EQ(NewKeyRow(Place(), Listed("", 1000), VersionState::kCompleted, 1).source_version,
            "null");
  EXPECT_TRUE(NewKeyRow(Place(), ListedMarker("m1", 1000), VersionState::kFailed, 1).delete_marker);
}

TEST_F(KeyRecordsTest, PendingSinceTheWriteAtTheSourceUnlessAheadOfUs) {
  EXPECT_EQ(NewKeyRow(Place(), Listed("v1", 1000), VersionState::kPending, 5000 * kNsPerMs)
                .pending_since_ns,
            1000 * kNsPerMs);
  // A write time ahead of ours (clocks disagreeing), or none, counts from now.
  EXPECT_EQ(NewKeyRow(Place(), Listed("v1", 9000), VersionState::kPending, 5000 * kNsPerMs)
                .pending_since_ns,
            5000 * kNsPerMs);
  EXPECT_EQ(NewKeyRow(Place(), Listed("v1", 0), VersionState::kPending, 5000 * kNsPerMs)
                .pending_since_ns,
            5000 * kNsPerMs);
}

TEST_F(KeyRecordsTest, TheThresholdIsTheRulesExceptBeforeItWasFirstSeen) {
  const int64_t fifteen_minutes_ns = int64_t{15} * 60 * 1000 * kNsPerMs;
  EXPECT_EQ(NewKeyRow(Place(), Listed("v1", 1000), VersionState::kPending, 5000 * kNsPerMs)
                .threshold_ns,
            fifteen_minutes_ns);
  first_seen_["r1"] = 2000 * kNsPerMs;
  EXPECT_EQ(NewKeyRow(Place(), Listed("v1", 1000), VersionState::kPending, 5000 * kNsPerMs)
                .threshold_ns,
            0);
  EXPECT_EQ(NewKeyRow(Place(), Listed("v2", 3000), VersionState::kPending, 5000 * kNsPerMs)
                .threshold_ns,
            fifteen_minutes_ns);
}

TEST_F(KeyRecordsTest, ARepairIsCountedByTheRowItFoundUnlessItPredatesTheRule) {
  const storage::ObjectInfo v = Listed("v1", 3000);
  const VersionStatus failed = RowFor("r1", kDst, "v1", VersionState::kFailed);
  const VersionStatus pending = RowFor("r1", kDst, "v1", VersionState::kPending);
  EXPECT_EQ(RepairReasonOf(nullptr, v, "r1", first_seen_), kRepairMissed);
  EXPECT_EQ(RepairReasonOf(&failed, v, "r1", first_seen_), kRepairFailed);
  EXPECT_EQ(RepairReasonOf(&pending, v, "r1", first_seen_), kRepairInterrupted);
  first_seen_["r1"] = 3000 * kNsPerMs;  // the backfill of existing objects: no event was due
  EXPECT_EQ(RepairReasonOf(nullptr, v, "r1", first_seen_), std::nullopt);
  EXPECT_EQ(RepairReasonOf(nullptr, Listed("v2", 3001), "r1", first_seen_), kRepairMissed);
  EXPECT_EQ(RepairReasonOf(nullptr, v, "r2", first_seen_), kRepairMissed);
}

TEST_F(KeyRecordsTest, AReplicaSpecCarriesTheDetailsAndTheMarks) {
  const Connected connected{kSrc, kDst};
  storage::ObjectInfo d = Listed("v1", 1'250);
  d.content.content_type = "text/plain";
  d.metadata["color"] = "blue";
  d.metadata[kMetaReplicaKept] = "1";  // carried from elsewhere by an original: dropped
  d.tags = storage::Tags{{"t", "1"}};
  d.storage_class = "STANDARD_IA";
  storage::WriteSpec spec = ReplicaSpecOf(d, kSrc, connected);
  EXPECT_EQ(spec.size, 10u);
  EXPECT_EQ(spec.content.content_type, "text/plain");
  EXPECT_EQ(spec.metadata["color"], "blue");
  EXPECT_EQ(spec.metadata[storage::kMetaMtime], std::to_string(1'250 * kNsPerMs));
  EXPECT_EQ(spec.metadata[kMetaReplicaOrigin], kSrc);
  EXPECT_EQ(spec.metadata[kMetaReplicaVersion], "v1");
  EXPECT_EQ(spec.metadata[kMetaReplicaTime], "1.250");
  EXPECT_EQ(spec.metadata.count(kMetaReplicaKept), 0u);
  EXPECT_EQ(spec.tags, d.tags);
  EXPECT_EQ(spec.storage_class, "STANDARD_IA");
  // A ferry-mtime the version carries is kept; a replica keeps its own origin's marks.
  d.metadata[storage::kMetaMtime] = "77";
  d.metadata[kMetaReplicaOrigin] = kDst;
  d.metadata[kMetaReplicaVersion] = "o1";
  d.metadata[kMetaReplicaTime] = "0.500";
  spec = ReplicaSpecOf(d, kSrc, connected);
  EXPECT_EQ(spec.metadata[storage::kMetaMtime], "77");
  EXPECT_EQ(spec.metadata[kMetaReplicaOrigin], kDst);
  EXPECT_EQ(spec.metadata[kMetaReplicaVersion], "o1");
  EXPECT_EQ(spec.metadata[kMetaReplicaTime], "0.500");
  EXPECT_EQ(spec.metadata[kMetaReplicaKept], "1");
}

}  // namespace
}  // namespace ferry::replicate::internal
