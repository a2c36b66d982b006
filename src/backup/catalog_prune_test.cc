// Deletions and retention of a backup location: what a restore sees of a key as of a time
// (SelectVersion), the retention policy (PlanPrune, pure), and the prune's crash order: rows
// first, then the archive, a crash in between finished by the next prune (SQLite catalog,
// memory backend).
#include "backup/catalog_prune.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "checksum/checksum.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "backup/backup.h"

namespace ferry::backup {
namespace {

constexpr const char* kLoc = "rb:backup/p/";

CatalogEntry Version(const std::string& key, const std::string& archive, uint64_t entry,
                     int64_t at) {
  CatalogEntry e;
  e.location = kLoc;
  e.key = key;
  e.archive = archive;
  e.entry = entry;
  e.size = 10;
  e.data_bytes = 7;
  e.backed_up_ms = at;
  return e;
}

Tombstone Gone(const std::string& key, int64_t at) {
  return Tombstone{.location = kLoc, .key = key, .deleted_ms = at, .run = 1};
}

CatalogArchive Archive(const std::string& name, uint64_t bytes) {
  return CatalogArchive{
      .location = kLoc, .archive = name, .entries = 0, .archive_bytes = bytes, .backed_up_ms = 0};
}

TEST(SelectVersionTest, AsOfATimeADeletionHidesTheVersionsBeforeIt) {
  const std::vector<CatalogEntry> v = {Version("k", "1", 0, 100), Version("k", "2", 0, 300)};
  const std::vector<Tombstone> t = {Gone("k", 200), Gone("k", 400)};
  // Now: deleted at 400 after the version of 300.
  Selected now = SelectVersion(v, t, "", 0);
  ASSERT_TRUE(now.entry.has_value());
  EXPECT_EQ(now.entry->backed_up_ms, 300);
  EXPECT_EQ(now.deleted_ms, 400);
  // As of 350: the re-created key's version, not deleted.
  Selected mid = SelectVersion(v, t, "", 350);
  EXPECT_EQ(mid.entry->backed_up_ms, 300);
  EXPECT_EQ(mid.deleted_ms, 0);
  // As of 250: deleted at 200 (after the version of 100).
  Selected gone = SelectVersion(v, t, "", 250);
  EXPECT_EQ(gone.entry->backed_up_ms, 100);
  EXPECT_EQ(gone.deleted_ms, 200);
  EXPECT_EQ(SelectVersion(v, t, "", 150).deleted_ms, 0);
  // Before any backup: nothing.
  EXPECT_FALSE(SelectVersion(v, t, "", 50).entry.has_value());
  // No tombstones: the latest, not deleted.
  EXPECT_EQ(SelectVersion(v, {}, "", 0).deleted_ms, 0);
  // A tombstone as new as the version hides it.
  EXPECT_EQ(SelectVersion(v, std::vector<Tombstone>{Gone("k", 300)}, "", 0).deleted_ms, 300);
}

std::vector<std::string> Names(const std::vector<CatalogEntry>& rows) {
  std::vector<std::string> out;
  for (const auto& e : rows) out.push_back(e.key + "@" + std::to_string(e.backed_up_ms));
  return out;
}

TEST(PlanPruneTest, KeepLastCountsADeletionAsTheNewestState) {
  // a: three versions, live. b: two versions, then deleted. c: one version.
  const std::vector<CatalogEntry> e = {
      Version("a", "1.fza", 0, 100), Version("b", "1.fza", 1, 100), Version("c", "1.fza", 2, 100),
      Version("a", "2.fza", 0, 200), Version("b", "2.fza", 1, 200), Version("a", "3.fza", 0, 300)};
  const std::vector<Tombstone> t = {Gone("b", 250)};
  const std::vector<CatalogArchive> archives = {Archive("1.fza", 1000), Archive("2.fza", 500),
                                                Archive("3.fza", 300)};
  PrunePlan one = PlanPrune(e, t, archives, RetentionPolicy{.keep_last = 1, .keep_within_ms = 0},
                            10'000);
  // a keeps its newest; b (deleted) keeps nothing, its tombstone goes too; c keeps its one.
  EXPECT_EQ(Names(one.dropped), (std::vector<std::string>{"a@200", "a@100", "b@200", "b@100"}));
  EXPECT_EQ(one.dropped_tombstones, t);
  EXPECT_EQ(one.kept, 2u);
  // 2.fza held only dropped versions: deleted. 1.fza still holds c: kept whole.
  ASSERT_EQ(one.doomed.size(), 1u);
  EXPECT_EQ(one.doomed[0].archive, "2.fza");
  EXPECT_EQ(one.doomed_bytes, 500u);
  ASSERT_EQ(one.partly_kept.size(), 1u);
  EXPECT_EQ(one.partly_kept[0].archive.archive, "1.fza");
  EXPECT_EQ(one.partly_kept[0].dropped_entries, 2u);
  EXPECT_EQ(one.partly_kept[0].dropped_bytes, 14u);

  // keep_last 2: a keeps two; b keeps its last version, and the tombstone that hides it.
  PrunePlan two = PlanPrune(e, t, archives, RetentionPolicy{.keep_last = 2, .keep_within_ms = 0},
                            10'000);
  EXPECT_EQ(Names(two.dropped), (std::vector<std::string>{"a@100", "b@100"}));
  EXPECT_TRUE(two.dropped_tombstones.empty());
  EXPECT_TRUE(two.doomed.empty());
}

TEST(PlanPruneTest, KeepWithinKeepsEveryVersionCurrentInTheWindow) {
  const std::vector<CatalogEntry> e = {
      Version("a", "1.fza", 0, 100), Version("a", "2.fza", 0, 500), Version("a", "3.fza", 0, 900),
      Version("b", "1.fza", 1, 100)};
  const std::vector<Tombstone> t = {Gone("b", 700)};
  const std::vector<CatalogArchive> archives = {Archive("1.fza", 1), Archive("2.fza", 1),
                                                Archive("3.fza", 1)};
  // Window (400, 1000]: a@100 was superseded at 500 (inside): kept, it was current at 450;
  // b@100 was current until its deletion at 700: kept, with the tombstone.
  PrunePlan wide = PlanPrune(e, t, archives,
                             RetentionPolicy{.keep_last = 0, .keep_within_ms = 600}, 1000);
  EXPECT_TRUE(wide.dropped.empty());
  EXPECT_TRUE(wide.dropped_tombstones.empty());
  // Window (800, 1000]: a@500 was current until 900 (kept); a@100 until 500 and b until its
  // deletion at 700 went before the window.
  PrunePlan narrow = PlanPrune(e, t, archives,
                               RetentionPolicy{.keep_last = 0, .keep_within_ms = 200}, 1000);
  EXPECT_EQ(Names(narrow.dropped), (std::vector<std::string>{"a@100", "b@100"}));
  EXPECT_EQ(narrow.dropped_tombstones, t);
  ASSERT_EQ(narrow.doomed.size(), 1u);
  EXPECT_EQ(narrow.doomed[0].archive, "1.fza");
  // Window (950, 1000]: only a@900, the newest of a live key.
  PrunePlan now = PlanPrune(e, t, archives,
                            RetentionPolicy{.keep_last = 0, .keep_within_ms = 50}, 1000);
  EXPECT_EQ(Names(now.dropped), (std::vector<std::string>{"a@500", "a@100", "b@100"}));
  ASSERT_EQ(now.doomed.size(), 2u);
  EXPECT_EQ(now.doomed[1].archive, "2.fza");
  // Both rules: a version either keeps is kept.
  PrunePlan both = PlanPrune(e, t, archives,
                             RetentionPolicy{.keep_last = 2, .keep_within_ms = 200}, 1000);
  EXPECT_EQ(Names(both.dropped), (std::vector<std::string>{"a@100"}));
}

// A backend whose deletes fail: a prune that dies after forgetting the rows.
class PruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-prune-" + std::to_string(std::random_device{}()));
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
    ASSERT_TRUE(session.ok());
    session_ = std::move(session).value();
    catalog_ = std::move(CatalogStore::Open(*session_)).value();
  }
  void TearDown() override {
    catalog_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Put(const std::string& archive, std::vector<CatalogEntry> rows, int64_t at) {
    storage::WriteSpec spec;
    spec.size = 4;
    ASSERT_TRUE(backup_.Put(archive, checksum::AsBytes(std::string("data")), spec, {}).ok());
    ASSERT_TRUE(catalog_
                    ->RecordArchive(CatalogArchive{.location = kLoc,
                                                   .archive = archive,
                                                   .entries = rows.size(),
                                                   .archive_bytes = 4,
                                                   .backed_up_ms = at},
                                    rows)
                    .ok());
  }
  bool Exists(const std::string& key) { return backup_.Stat(key, false, {}).ok(); }

  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<CatalogStore> catalog_;
  storage::MemoryBackend backup_;
};

// A prune of kLoc at 1000 ms under `policy`, neither dry nor checked.
PruneRequest Request(const RetentionPolicy& policy) {
  return {.location = kLoc, .policy = policy, .now_ms = 1000, .dry_run = false, .approve = nullptr};
}

TEST_F(PruneTest, RowsGoBeforeTheArchiveAndTheNextPruneFinishesACrash) {
  Put("1.fza", {Version("a", "1.fza", 0, 100), Version("b", "1.fza", 1, 100)}, 100);
  Put("2.fza", {Version("a", "2.fza", 0, 200)}, 200);
  Put("3.fza", {Version("a", "3.fza", 0, 300)}, 300);
  const RetentionPolicy last1{.keep_last = 1, .keep_within_ms = 0};
  // A plan its check refuses (--max-delete) changes nothing, and the check sees the plan.
  size_t seen = 0;
  auto refused = PruneCatalog(
      *catalog_, backup_,
      {.location = kLoc,
       .policy = last1,
       .now_ms = 1000,
       .dry_run = false,
       .approve = [&seen](const PrunePlan& p) {
         seen = p.dropped.size();
         return Status::InvalidArgument("over --max-delete");
       }},
      {});
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(seen, 2u);
  EXPECT_EQ(catalog_->Versions(kLoc, "a")->size(), 3u);
  EXPECT_TRUE(Exists("2.fza"));
  // A dry run changes nothing.
  auto dry = PruneCatalog(
      *catalog_, backup_,
      {.location = kLoc, .policy = last1, .now_ms = 1000, .dry_run = true, .approve = nullptr}, {});
  ASSERT_TRUE(dry.ok()) << dry.status().message();
  EXPECT_EQ(dry->plan.dropped.size(), 2u);
  EXPECT_EQ(dry->plan.doomed.size(), 1u);  // 2.fza; 1.fza still holds b
  EXPECT_EQ(catalog_->Versions(kLoc, "a")->size(), 3u);
  EXPECT_TRUE(Exists("2.fza"));
  // The delete fails (the process dies there): no row points into 2.fza any more, the archive
  // is still there, listed as doomed.
  backup_.FailNext(storage::MemoryBackend::kDelete, 1, Status::Unavailable("connection reset"));
  auto crashed = PruneCatalog(*catalog_, backup_, Request(last1), {});
  EXPECT_EQ(crashed.status().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(Exists("2.fza"));
  auto versions = catalog_->Versions(kLoc, "a");
  ASSERT_EQ(versions->size(), 1u);
  EXPECT_EQ(versions->front().archive, "3.fza");
  EXPECT_EQ(catalog_->Archives(kLoc)->size(), 2u);
  ASSERT_EQ(catalog_->Doomed(kLoc)->size(), 1u);
  // A rebuild leaves the doomed archive alone: it opens the other two (not real archives in
  // this test: named as unreadable, their rows left) and never 2.fza.
  auto rebuilt = RebuildCatalog(*catalog_, backup_, kLoc, {});
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().message();
  ASSERT_EQ(rebuilt->failed.size(), 2u);
  EXPECT_TRUE(rebuilt->failed[0].starts_with("1.fza: "));
  EXPECT_TRUE(rebuilt->failed[1].starts_with("3.fza: "));
  EXPECT_EQ(catalog_->Versions(kLoc, "a")->size(), 1u);
  // The next prune deletes it, and has nothing else to do.
  auto next = PruneCatalog(*catalog_, backup_, Request(last1), {});
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ(next->earlier_doomed, 1u);
  EXPECT_TRUE(next->plan.dropped.empty());
  EXPECT_FALSE(Exists("2.fza"));
  EXPECT_TRUE(Exists("1.fza"));
  EXPECT_TRUE(Exists("3.fza"));
  EXPECT_TRUE(catalog_->Doomed(kLoc)->empty());
  // No rule: refused.
  EXPECT_EQ(PruneCatalog(*catalog_, backup_, Request(RetentionPolicy{}), {})
                .status()
                .code(),
            ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::backup
