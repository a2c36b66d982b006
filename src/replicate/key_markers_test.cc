// Delete markers in one key's pass (key_markers.h), on plain rows and versions.
#include "replicate/key_markers.h"

#include <gtest/gtest.h>

#include "replicate/key_test_data.h"

namespace ferry::replicate::internal {
namespace {

using keytest::kDst;
using keytest::kKey;
using keytest::kSrc;
using keytest::Listed;
using keytest::ListedMarker;
using keytest::RowFor;
using keytest::RuleTo;

// A COMPLETED marker row at a destination without versions (it became a DELETE: no version).
VersionStatus DeleteRowAt(int64_t updated_ns) {
  VersionStatus r = RowFor("r1", kDst, "m1", VersionState::kCompleted);
  r.delete_marker = true;
  r.updated_ns = updated_ns;
  return r;
}

class KeyMarkersTest : public ::testing::Test {
 protected:
  KeyMarkersTest() {
    Rule rule = RuleTo("r1", {"rb:packed/", kDst});
    rule.delete_markers = true;
    rule.destinations[0].transport.compress = true;
    rule.destinations[0].transport.staging = "rb:stage/";
    rules_.rules.push_back(rule);
  }
  VersionRules Rules() { return VersionRules{first_seen_, connected_, false}; }
  RuleSet rules_;
  std::map<std::string, int64_t> first_seen_;
  Connected connected_{kSrc, kDst, "rb:packed/"};
};

TEST_F(KeyMarkersTest, AMarkerToReplicateSendsTheKeyDirectlyToATransportedDestination) {
  const std::vector<storage::ObjectInfo> versions = {Listed("v1", 1000),
                                                     ListedMarker("m1", 2000, true)};
  EXPECT_EQ(MarkerDirectDestinations(rules_, kKey, versions, {}, Rules()),
            std::set<std::string>{"rb:packed/"});
}

TEST_F(KeyMarkersTest, NoMarkerOrAMarkerNotWantedKeepsTheArchivePath) {
  EXPECT_TRUE(MarkerDirectDestinations(rules_, kKey, {Listed("v1", 1000, true)}, {}, Rules())
                  .empty());
  const std::vector<storage::ObjectInfo> versions = {Listed("v1", 1000),
                                                     ListedMarker("m1", 2000, true)};
  // Done there already.
  VersionStatus done = RowFor("r1", "rb:packed/", "m1", VersionState::kCompleted);
  done.delete_marker = true;
  EXPECT_TRUE(MarkerDirectDestinations(rules_, kKey, versions, {done}, Rules()).empty());
  // A rule that does not replicate markers.
  rules_.rules[0].delete_markers = false;
  EXPECT_TRUE(MarkerDirectDestinations(rules_, kKey, versions, {}, Rules()).empty());
}

TEST_F(KeyMarkersTest, AnUndoneDeleteIsFoundWhenTheMarkerIsGoneAndNothingCameAfter) {
  const std::vector<storage::ObjectInfo> versions = {Listed("v1", 1000, true)};
  const std::vector<VersionStatus> rows = {DeleteRowAt(500)};
  EXPECT_EQ(FindUndoneDeletes(versions, rows), (UndoneDeletes{{"r1", kDst}}));
}

TEST_F(KeyMarkersTest, NoUndoneDeleteInTheseCases) {
  const std::vector<storage::ObjectInfo> versions = {Listed("v1", 1000, true)};
  // The marker is still listed.
  EXPECT_TRUE(FindUndoneDeletes({ListedMarker("m1", 500), Listed("v1", 1000, true)},
                                {DeleteRowAt(5)})
                  .empty());
  // The current entry is a marker, or there is none.
  EXPECT_TRUE(FindUndoneDeletes({Listed("v1", 1000), ListedMarker("m2", 2000, true)},
                                {DeleteRowAt(5)})
                  .empty());
  EXPECT_TRUE(FindUndoneDeletes({Listed("v1", 1000, false)}, {DeleteRowAt(5)}).empty());
  EXPECT_TRUE(FindUndoneDeletes({}, {DeleteRowAt(5)}).empty());
  // A versioned destination kept the marker (a destination version): removing it is not
  // replicated.
  VersionStatus kept = DeleteRowAt(5);
  kept.dest_version = "dm1";
  EXPECT_TRUE(FindUndoneDeletes(versions, {kept}).empty());
  // The marker was not COMPLETED there.
  VersionStatus failed = DeleteRowAt(5);
  failed.state = VersionState::kFailed;
  EXPECT_TRUE(FindUndoneDeletes(versions, {failed}).empty());
  // A version was written there after the DELETE.
  VersionStatus later = RowFor("r1", kDst, "v0", VersionState::kCompleted);
  later.updated_ns = 6;
  EXPECT_TRUE(FindUndoneDeletes(versions, {DeleteRowAt(5), later}).empty());
  // ... but one written before it, or at another destination, does not count.
  later.updated_ns = 4;
  EXPECT_FALSE(FindUndoneDeletes(versions, {DeleteRowAt(5), later}).empty());
  later.updated_ns = 6;
  later.destination = "rc:other/";
  EXPECT_FALSE(FindUndoneDeletes(versions, {DeleteRowAt(5), later}).empty());
}

TEST_F(KeyMarkersTest, UndeletedIsTheCurrentVersionAtAnUndoneDestination) {
  const std::vector<storage::ObjectInfo> versions = {Listed("v0", 500), Listed("v1", 1000, true)};
  const UndoneDeletes undone = {{"r1", kDst}};
  const VersionStatus row = RowFor("r1", kDst, "v1", VersionState::kCompleted);
  const VersionStatus elsewhere = RowFor("r1", "rc:other/", "v1", VersionState::kCompleted);
  EXPECT_TRUE(IsUndeleted(&row, versions.back(), versions, undone));
  EXPECT_FALSE(IsUndeleted(&row, versions.front(), versions, undone));  // not the current one
  EXPECT_FALSE(IsUndeleted(&elsewhere, versions.back(), versions, undone));
  EXPECT_FALSE(IsUndeleted(nullptr, versions.back(), versions, undone));
  EXPECT_FALSE(IsUndeleted(&row, versions.back(), versions, {}));
}

TEST_F(KeyMarkersTest, MarkerDeletesCountsEachMarkerWantedWhereNoVersionIsKept) {
  // the rule's two destinations: kDst keeps no versions, rb:packed/ does
  auto keeps = [](const std::string& dest) { return dest == "rb:packed/"; };
  const std::vector<storage::ObjectInfo> versions = {
      ListedMarker("m0", 500), Listed("v1", 1000), ListedMarker("m1", 2000, true)};
  EXPECT_EQ(MarkerDeletes(rules_, kKey, versions, {}, {}, Rules(), keeps), 2u);
  // m1 deleted the key there already: only m0 is left to replicate
  EXPECT_EQ(MarkerDeletes(rules_, kKey, versions, {DeleteRowAt(3000)}, {}, Rules(), keeps), 1u);
  // a marker a pass wrote to this source is a replica: not replicated, no delete
  EXPECT_EQ(MarkerDeletes(rules_, kKey, versions, {}, {"m0", "m1"}, Rules(), keeps), 0u);
  // every destination keeps versions: markers stay markers
  EXPECT_EQ(MarkerDeletes(rules_, kKey, versions, {}, {}, Rules(),
                          [](const std::string&) { return true; }),
            0u);
  // a rule that does not replicate markers deletes nothing
  rules_.rules[0].delete_markers = false;
  EXPECT_EQ(MarkerDeletes(rules_, kKey, versions, {}, {}, Rules(), keeps), 0u);
}

}  // namespace
}  // namespace ferry::replicate::internal
