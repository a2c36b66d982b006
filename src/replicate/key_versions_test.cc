// Which versions of a key a pass wants (key_versions.h), on plain rows and versions.
#include "replicate/key_versions.h"

#include <gtest/gtest.h>

#include "replicate/key_replicas.h"
#include "replicate/key_test_data.h"
#include "replicate/pass_internal.h"

namespace ferry::replicate::internal {
namespace {

using keytest::kDst;
using keytest::kSrc;
using keytest::Listed;
using keytest::ListedMarker;
using keytest::RowFor;
using keytest::RuleTo;

class KeyVersionsTest : public ::testing::Test {
 protected:
  std::map<std::string, int64_t> first_seen_;
  Connected connected_{kSrc, kDst};
  VersionRules Rules(bool retry_failed_only = false) {
    return VersionRules{first_seen_, connected_, retry_failed_only};
  }
  // A FAILED row of a version whose bytes, read twice alike, contradict its claim.
  static VersionStatus RefusedRow(const std::string& version) {
    VersionStatus r = RowFor("r1", kDst, version, VersionState::kFailed);
    r.error_code = std::string(ErrorCodeName(ErrorCode::kDataLoss));
    r.message = std::string(kReadTwiceAlike) + " (CRC32C 1234abcd) do not match";
    return r;
  }
};

TEST_F(KeyVersionsTest, FindKeyRowMatchesRuleDestinationAndVersion) {
  std::vector<VersionStatus> rows = {RowFor("r1", kDst, "v1", VersionState::kCompleted),
                                     RowFor("r2", kDst, "v1", VersionState::kFailed),
                                     RowFor("r1", "rc:other/", "v1", VersionState::kPending)};
  EXPECT_EQ(FindKeyRow(rows, "r2", kDst, "v1"), &rows[1]);
  EXPECT_EQ(FindKeyRow(rows, "r1", "rc:other/", "v1"), &rows[2]);
  EXPECT_EQ(FindKeyRow(rows, "r1", kDst, "v2"), nullptr);
  EXPECT_EQ(FindKeyRow(rows, "r3", kDst, "v1"), nullptr);
}

TEST_F(KeyVersionsTest, HasFailedRowLooksAtEveryRuleAndDestination) {
  const std::vector<VersionStatus> rows = {RowFor("r1", kDst, "v1", VersionState::kCompleted),
                                           RowFor("r2", "rc:x/", "v1", VersionState::kFailed),
                                           RowFor("r1", kDst, "v2", VersionState::kPending)};
  EXPECT_TRUE(HasFailedRow(rows, Listed("v1", 1000)));
  EXPECT_FALSE(HasFailedRow(rows, Listed("v2", 2000)));
  EXPECT_FALSE(HasFailedRow({}, Listed("v1", 1000)));
}

TEST_F(KeyVersionsTest, DoneIsCompletedOrAReplicaRowThatHolds) {
  const storage::ObjectInfo v = Listed("v1", 1000);
  EXPECT_FALSE(VersionDone(nullptr, v, connected_));
  VersionStatus row = RowFor("r1", kDst, "v1", VersionState::kCompleted);
  EXPECT_TRUE(VersionDone(&row, v, connected_));
  row.state = VersionState::kPending;
  EXPECT_FALSE(VersionDone(&row, v, connected_));
  row.state = VersionState::kFailed;
  EXPECT_FALSE(VersionDone(&row, v, connected_));
  row.state = VersionState::kReplica;
  row.message = std::string(kReplicaRowWrittenHere);
  EXPECT_TRUE(VersionDone(&row, v, connected_));
  row.message = std::string(kReplicaRowOf) + kDst;
  EXPECT_TRUE(VersionDone(&row, v, connected_));
  // Marks naming a place the rules no longer connect, or an older row that says neither: looked
  // at again.
  row.message = std::string(kReplicaRowOf) + "rz:elsewhere/";
  EXPECT_FALSE(VersionDone(&row, v, connected_));
  row.message.clear();
  EXPECT_FALSE(VersionDone(&row, v, connected_));
}

TEST_F(KeyVersionsTest, AnUnversionedRewriteIsNotDone) {
  storage::ObjectInfo v = Listed("", 1000);  // version "null"
  v.etag = "new";
  VersionStatus row = RowFor("r1", kDst, "null", VersionState::kCompleted);
  row.source_etag = "old";
  EXPECT_FALSE(VersionDone(&row, v, connected_));
  row.source_etag = "new";
  EXPECT_TRUE(VersionDone(&row, v, connected_));
  // A versioned source's version id is the fact: its ETag is not compared.
  storage::ObjectInfo versioned = Listed("v1", 1000);
  VersionStatus versioned_row = RowFor("r1", kDst, "v1", VersionState::kCompleted);
  versioned_row.source_etag = "other";
  EXPECT_TRUE(VersionDone(&versioned_row, versioned, connected_));
}

TEST_F(KeyVersionsTest, StillRefusedWhileTheETagIsTheSameAndNotWithRetryFailed) {
  const storage::ObjectInfo v = Listed("v1", 1000);
  VersionStatus row = RefusedRow("v1");
  EXPECT_TRUE(StillRefused(&row, v, false));
  EXPECT_FALSE(StillRefused(&row, v, true));  // --retry-failed reads it
  EXPECT_FALSE(StillRefused(nullptr, v, false));
  row.source_etag = "rewritten";
  EXPECT_FALSE(StillRefused(&row, v, false));
  VersionStatus passing = RowFor("r1", kDst, "v1", VersionState::kFailed);
  passing.error_code = std::string(ErrorCodeName(ErrorCode::kUnavailable));
  passing.message = "503";
  EXPECT_FALSE(StillRefused(&passing, v, false));
}

TEST_F(KeyVersionsTest, LatestModeWantsTheCurrentEntryOnly) {
  Rule rule = RuleTo("r1", {kDst});
  rule.versions = VersionsMode::kLatest;
  EXPECT_FALSE(RuleWants(rule, Listed("v1", 1000), nullptr, false, Rules()));
  EXPECT_TRUE(RuleWants(rule, Listed("v2", 2000, true), nullptr, false, Rules()));
}

TEST_F(KeyVersionsTest, DeleteMarkersOnlyWithTheOption) {
  Rule rule = RuleTo("r1", {kDst});
  EXPECT_FALSE(RuleWants(rule, ListedMarker("m1", 1000, true), nullptr, false, Rules()));
  rule.delete_markers = true;
  EXPECT_TRUE(RuleWants(rule, ListedMarker("m1", 1000, true), nullptr, false, Rules()));
}

TEST_F(KeyVersionsTest, ExistingObjectsOffLeavesVersionsUpToFirstSeen) {
  Rule rule = RuleTo("r1", {kDst});
  rule.existing_objects = false;
  // Unknown first-seen time: nothing excluded.
  EXPECT_TRUE(RuleWants(rule, Listed("v1", 1000), nullptr, false, Rules()));
  first_seen_["r1"] = int64_t{2000} * 1000 * 1000;  // 2 s, in ns
  EXPECT_FALSE(RuleWants(rule, Listed("v1", 1000), nullptr, false, Rules()));
  EXPECT_FALSE(RuleWants(rule, Listed("v2", 2000), nullptr, false, Rules()));  // at: left
  EXPECT_TRUE(RuleWants(rule, Listed("v3", 2001), nullptr, false, Rules()));
  rule.existing_objects = true;
  EXPECT_TRUE(RuleWants(rule, Listed("v1", 1000), nullptr, false, Rules()));
}

TEST_F(KeyVersionsTest, RetryFailedWantsFailedRowsOnly) {
  const Rule rule = RuleTo("r1", {kDst});
  const storage::ObjectInfo v = Listed("v1", 1000);
  const VersionStatus failed = RowFor("r1", kDst, "v1", VersionState::kFailed);
  const VersionStatus pending = RowFor("r1", kDst, "v1", VersionState::kPending);
  EXPECT_TRUE(RuleWants(rule, v, &failed, false, Rules(true)));
  EXPECT_FALSE(RuleWants(rule, v, &pending, false, Rules(true)));
  EXPECT_FALSE(RuleWants(rule, v, nullptr, false, Rules(true)));
}

TEST_F(KeyVersionsTest, DoneIsWantedAgainOnlyAfterAnUndelete) {
  const Rule rule = RuleTo("r1", {kDst});
  const storage::ObjectInfo v = Listed("v1", 1000, true);
  const VersionStatus done = RowFor("r1", kDst, "v1", VersionState::kCompleted);
  EXPECT_FALSE(RuleWants(rule, v, &done, false, Rules()));
  EXPECT_TRUE(RuleWants(rule, v, &done, true, Rules()));
  EXPECT_TRUE(RuleWants(rule, v, nullptr, false, Rules()));
}

TEST_F(KeyVersionsTest, JudgeVersionInTheOrderAPassAsks) {
  const Rule rule = RuleTo("r1", {kDst});
  const storage::ObjectInfo v = Listed("v1", 1000, true);
  const VersionStatus done = RowFor("r1", kDst, "v1", VersionState::kCompleted);
  VersionStatus replica = RowFor("r1", kDst, "v1", VersionState::kReplica);
  replica.message = std::string(kReplicaRowWrittenHere);
  const VersionStatus refused = RefusedRow("v1");
  const VersionStatus failed = RowFor("r1", kDst, "v1", VersionState::kFailed);
  EXPECT_EQ(JudgeVersion(rule, v, &done, false, Rules()), VersionVerdict::kDone);
  EXPECT_EQ(JudgeVersion(rule, v, &replica, false, Rules()), VersionVerdict::kReplica);
  EXPECT_EQ(JudgeVersion(rule, v, &refused, false, Rules()), VersionVerdict::kRefused);
  EXPECT_EQ(JudgeVersion(rule, v, &failed, false, Rules()), VersionVerdict::kWanted);
  EXPECT_EQ(JudgeVersion(rule, v, nullptr, false, Rules()), VersionVerdict::kWanted);
  // After an undelete a done version is written again.
  EXPECT_EQ(JudgeVersion(rule, v, &done, true, Rules()), VersionVerdict::kWanted);
  // --retry-failed: neither done nor refused counts; only the FAILED row is wanted.
  EXPECT_EQ(JudgeVersion(rule, v, &done, false, Rules(true)), VersionVerdict::kNotWanted);
  EXPECT_EQ(JudgeVersion(rule, v, &refused, false, Rules(true)), VersionVerdict::kWanted);
  // The rule leaves a marker out.
  EXPECT_EQ(JudgeVersion(rule, ListedMarker("m1", 2000, true), nullptr, false, Rules()),
            VersionVerdict::kNotWanted);
}

TEST_F(KeyVersionsTest, EncryptedVersionsOnlyForRulesThatSelectThem) {
  Rule rule = RuleTo("r1", {kDst});
  storage::ObjectInfo d = Listed("v1", 1000);
  EXPECT_FALSE(EncryptedNotSelected(rule, d));
  d.etag_opaque = true;
  EXPECT_TRUE(EncryptedNotSelected(rule, d));
  rule.sse_kms_objects = true;
  EXPECT_FALSE(EncryptedNotSelected(rule, d));
}

class KeyMayWriteTest : public ::testing::Test {
 protected:
  KeyMayWriteTest() {
    rules_.rules.push_back(RuleTo("r1", {kDst}));
    work_.key = keytest::kKey;
    work_.versions = {Listed("v1", 1000), Listed("v2", 2000, true)};
    work_.rows = {RowFor("r1", kDst, "v1", VersionState::kCompleted),
                  RowFor("r1", kDst, "v2", VersionState::kCompleted)};
  }
  bool MayWrite() const { return KeyMayWrite(kSrc, rules_, scope_, work_); }
  RuleSet rules_;
  PassScope scope_;
  KeyWork work_;
};

TEST_F(KeyMayWriteTest, AKeyEveryDestinationHasNeedsNoLock) { EXPECT_FALSE(MayWrite()); }

TEST_F(KeyMayWriteTest, AVersionWithoutAFinishedRowMayBeWritten) {
  work_.rows[1].state = VersionState::kFailed;
  EXPECT_TRUE(MayWrite());
  work_.rows.pop_back();
  EXPECT_TRUE(MayWrite());
}

TEST_F(KeyMayWriteTest, AReplicaRowCountsOnlyWhileItHolds) {
  work_.rows[1].state = VersionState::kReplica;
  work_.rows[1].message = std::string(kReplicaRowOf) + kDst;
  EXPECT_FALSE(MayWrite());
  work_.rows[1].message = std::string(kReplicaRowOf) + "rz:elsewhere/";
  EXPECT_TRUE(MayWrite());
}

TEST_F(KeyMayWriteTest, ARowOfAVersionNoLongerListedMayBeAnUndelete) {
  work_.rows.push_back(RowFor("r1", kDst, "m1", VersionState::kCompleted));
  EXPECT_TRUE(MayWrite());
}

TEST_F(KeyMayWriteTest, TwoWayTagsOrARuleThatDoesNotTakeTheKey) {
  PassScope two_way;
  two_way.two_way.insert(kDst);
  EXPECT_TRUE(KeyMayWrite(kSrc, rules_, two_way, work_));
  work_.written_rows.push_back(RowFor("r9", kSrc, "x", VersionState::kCompleted));
  EXPECT_TRUE(MayWrite());
  work_.written_rows.clear();
  rules_.rules[0].replica_modifications = true;
  EXPECT_TRUE(MayWrite());
  // A rule whose prefix does not take the key, or a disabled one, asks for nothing.
  Rule other = RuleTo("r2", {"rc:other/"});
  other.prefix = "elsewhere/";
  rules_.rules = {other};
  EXPECT_FALSE(MayWrite());
  rules_.rules[0].prefix.clear();
  rules_.rules[0].enabled = false;
  EXPECT_FALSE(MayWrite());
  rules_.rules[0].enabled = true;
  EXPECT_TRUE(MayWrite());
}

}  // namespace
}  // namespace ferry::replicate::internal
