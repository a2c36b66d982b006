// Planner::Finish with a folder probe: a copy held at the end of a merge that stopped before
// the destination's "key/" region (a durable scan's chunk end) waits for the next run when the
// run will delete destination keys under "key/", and goes ahead otherwise.
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "transfer/planner.h"

namespace ferry::transfer {
namespace {

class RecordingSink : public PlanSink {
 public:
  Status Copy(CopyRequest request) override {
    copies.push_back(request.src.key);
    return Status::Ok();
  }
  Status Delete(const storage::ObjectInfo& dst) override {
    deletes.push_back(dst.key);
    return Status::Ok();
  }
  std::vector<std::string> copies;
  std::vector<std::string> deletes;
};

// Plans a source-only file "a/k" whose "a/k/" region the merge never reached, then finishes
// with `probe`; returns the sink.
RecordingSink PlanHeldCopy(Stats& stats, const Planner::FolderProbe& probe) {
  auto filter = plan::Filter::Make({}, std::chrono::system_clock::now());
  EXPECT_TRUE(filter.ok());
  RecordingSink sink;
  // delete_extra on a destination without folder markers (a local folder): copies are held.
  Planner planner(*filter, plan::DecideOptions{}, /*delete_extra=*/true,
                  /*dst_folder_markers=*/false, stats, sink);
  storage::ObjectInfo src;
  src.key = "a/k";
  src.size = 3;
  EXPECT_TRUE(planner.SourceOnly(src).ok());
  EXPECT_TRUE(planner.holding());
  EXPECT_TRUE(planner.Finish(probe).ok());
  return sink;
}

TEST(PlannerFinishTest, AHeldCopyWaitsWhenTheRunDeletesKeysUnderItsName) {
  Stats stats;
  std::string asked;
  RecordingSink sink = PlanHeldCopy(stats, [&](std::string_view folder) -> Result<bool> {
    asked = std::string(folder);
    return true;  // the destination has "a/k/..." and the source has nothing there
  });
  EXPECT_EQ(asked, "a/k/");
  EXPECT_TRUE(sink.copies.empty());
  EXPECT_EQ(stats.conflicts_deferred.load(), 1u);
}

TEST(PlannerFinishTest, AHeldCopyGoesAheadOtherwise) {
  Stats stats;
  RecordingSink sink = PlanHeldCopy(stats, [](std::string_view) -> Result<bool> { return false; });
  EXPECT_EQ(sink.copies, std::vector<std::string>{"a/k"});
  EXPECT_EQ(stats.conflicts_deferred.load(), 0u);
  Stats unprobed;
  sink = PlanHeldCopy(unprobed, nullptr);  // the merge saw every destination key
  EXPECT_EQ(sink.copies, std::vector<std::string>{"a/k"});
}

TEST(PlannerFinishTest, AFailedProbeFailsTheMerge) {
  auto filter = plan::Filter::Make({}, std::chrono::system_clock::now());
  ASSERT_TRUE(filter.ok());
  Stats stats;
  RecordingSink sink;
  Planner planner(*filter, plan::DecideOptions{}, true, false, stats, sink);
  storage::ObjectInfo src;
  src.key = "k";
  ASSERT_TRUE(planner.SourceOnly(src).ok());
  Status s = planner.Finish([](std::string_view) -> Result<bool> {
    return Status::Unavailable("listing failed");
  });
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(sink.copies.empty());
}

// A source folder the listing did not enter (a symbolic link to a folder): nothing is copied
// for it, and the destination keys under it are kept by --delete (its keys are unknown, not
// absent); keys after it are deleted as usual. Before, the link was left out of the listing and
// --delete removed everything the destination held under its name.
TEST(PlannerTest, AFolderNotFollowedKeepsItsDestinationKeys) {
  auto filter = plan::Filter::Make({}, std::chrono::system_clock::now());
  ASSERT_TRUE(filter.ok());
  Stats stats;
  RecordingSink sink;
  Planner planner(*filter, plan::DecideOptions{}, /*delete_extra=*/true,
                  /*dst_folder_markers=*/true, stats, sink);
  storage::ObjectInfo link;
  link.key = "d/";
  link.not_followed = true;
  ASSERT_TRUE(planner.SourceOnly(link).ok());
  for (const char* k : {"d/a", "d/sub/b", "e"}) {
    storage::ObjectInfo dst;
    dst.key = k;
    dst.size = 1;
    ASSERT_TRUE(planner.DestinationOnly(dst).ok());
  }
  ASSERT_TRUE(planner.Finish(nullptr).ok());
  EXPECT_TRUE(sink.copies.empty());
  EXPECT_EQ(sink.deletes, std::vector<std::string>{"e"});
  EXPECT_EQ(stats.folders_not_followed.load(), 1u);
}

}  // namespace
}  // namespace ferry::transfer
