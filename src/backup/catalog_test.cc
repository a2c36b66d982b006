// CatalogStore on SQLite (unit) and, built with FERRY_CATALOG_PG, on the PostgreSQL of
// FERRY_TEST_PG_URL (integration): archives recorded with their entries in one transaction,
// the latest entry of a key, versions, prefixes in byte order, forgetting archives; tombstones,
// keys noted gone by a run and committed, live keys of an interval, the rows a prune forgets.
#include "backup/catalog.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include "base/clock.h"
#include "state/state.h"

namespace ferry::backup {
namespace {

class CatalogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef FERRY_CATALOG_PG
    const char* url = std::getenv("FERRY_TEST_PG_URL");
    ASSERT_NE(url, nullptr) << "FERRY_TEST_PG_URL is not set";
    auto session = state::OpenPgSession(url, SystemClock::Default());
#else
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-catalog-" + std::to_string(std::random_device{}()));
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
#endif
    ASSERT_TRUE(session.ok()) << session.status().message();
    session_ = std::move(session).value();
    auto store = CatalogStore::Open(*session_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store).value();
    // Rows of other tests (a shared PostgreSQL) never share this location.
    loc_ = "rb:backup-" + std::to_string(std::random_device{}()) + "/p/";
  }
  void TearDown() override {
    store_.reset();
    session_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  CatalogEntry Row(const std::string& archive, uint64_t entry, const std::string& key,
                   int64_t backed_up_ms, uint64_t size = 10) {
    CatalogEntry e;
    e.location = loc_;
    e.key = key;
    e.version_id = "v-" + archive;
    e.size = size;
    e.etag = "0123456789abcdef0123456789abcdef";
    e.crc32c = 0xdeadbeef;
    e.mtime_ns = 1'700'000'000'123'456'789;
    e.archive = archive;
    e.entry = entry;
    e.first_frame = entry / 4;
    e.frame_count = 1;
    e.offset_in_frame = (entry % 4) * size;
    e.data_offset = 24 + e.first_frame * 100;
    e.data_bytes = 100;
    e.backed_up_ms = backed_up_ms;
    return e;
  }

  Status Record(const std::string& archive, const std::vector<CatalogEntry>& rows,
                int64_t backed_up_ms) {
    return store_->RecordArchive(CatalogArchive{.location = loc_,
                                                .archive = archive,
                                                .entries = rows.size(),
                                                .archive_bytes = 1000,
                                                .backed_up_ms = backed_up_ms},
                                 rows);
  }

  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<CatalogStore> store_;
  std::string loc_;
};

TEST_F(CatalogStoreTest, RecordsArchivesAndFindsTheLatestEntryOfEachKey) {
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 1000), Row("1.fza", 1, "b", 1000)}, 1000).ok());
  ASSERT_TRUE(Record("2.fza", {Row("2.fza", 0, "b", 2000, 20)}, 2000).ok());
  auto has = store_->HasArchive(loc_, "2.fza");
  ASSERT_TRUE(has.ok());
  EXPECT_TRUE(*has);
  EXPECT_FALSE(*store_->HasArchive(loc_, "3.fza"));
  EXPECT_FALSE(*store_->HasArchive("rb:other/", "2.fza"));

  const std::vector<std::string> keys = {"a", "b", "missing"};
  auto latest = store_->Latest(loc_, keys);
  ASSERT_TRUE(latest.ok()) << latest.status().message();
  ASSERT_EQ(latest->size(), 2u);
  std::map<std::string, CatalogEntry> by_key;
  for (const auto& e : *latest) by_key[e.key] = e;
  EXPECT_EQ(by_key["a"], Row("1.fza", 0, "a", 1000));  // every column round-trips
  EXPECT_EQ(by_key["b"].archive, "2.fza");
  EXPECT_EQ(by_key["b"].size, 20u);

  auto versions = store_->Versions(loc_, "b");
  ASSERT_TRUE(versions.ok());
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_EQ((*versions)[0].archive, "2.fza");  // newest first
  EXPECT_EQ((*versions)[1].archive, "1.fza");
  auto archives = store_->Archives(loc_);
  ASSERT_TRUE(archives.ok());
  ASSERT_EQ(archives->size(), 2u);
  EXPECT_EQ((*archives)[0].archive, "1.fza");
  EXPECT_EQ((*archives)[0].entries, 2u);
}

TEST_F(CatalogStoreTest, LatestLooksUpMoreKeysThanOneStatementHolds) {
  std::vector<CatalogEntry> rows;
  std::vector<std::string> keys;
  for (uint64_t i = 0; i < 2 * CatalogStore::kLookupBatch + 37; ++i) {
    keys.push_back("k" + std::to_string(i));
    if (i % 3 != 0) rows.push_back(Row("1.fza", i, keys.back(), 5));
  }
  ASSERT_TRUE(Record("1.fza", rows, 5).ok());
  auto latest = store_->Latest(loc_, keys);
  ASSERT_TRUE(latest.ok()) << latest.status().message();
  EXPECT_EQ(latest->size(), rows.size());
}

TEST_F(CatalogStoreTest, RecordingAnArchiveAgainReplacesItsRows) {
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 1), Row("1.fza", 1, "b", 1)}, 1).ok());
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "c", 2)}, 2).ok());
  std::vector<std::string> keys;
  ASSERT_TRUE(store_->Visit(loc_, "", [&](const CatalogEntry& e) {
                      keys.push_back(e.key);
                      return Status::Ok();
                    }).ok());
  EXPECT_EQ(keys, std::vector<std::string>{"c"});
  EXPECT_EQ(store_->Archives(loc_)->front().backed_up_ms, 2);
}

TEST_F(CatalogStoreTest, VisitsAPrefixInByteOrderNewestFirst) {
  // Byte order: "z" (0x7a) sorts before "é" (0xc3 0xa9), whatever a locale says.
  ASSERT_TRUE(Record("1.fza",
                     {Row("1.fza", 0, "d/é", 1), Row("1.fza", 1, "d/z", 1),
                      Row("1.fza", 2, "e", 1), Row("1.fza", 3, "d/a", 1)},
                     1)
                  .ok());
  ASSERT_TRUE(Record("2.fza", {Row("2.fza", 0, "d/z", 2)}, 2).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store_->Visit(loc_, "d/", [&](const CatalogEntry& e) {
                      seen.push_back(e.key + "@" + e.archive);
                      return Status::Ok();
                    }).ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"d/a@1.fza", "d/z@2.fza", "d/z@1.fza", "d/é@1.fza"}));
  // A visitor's error ends the walk and is returned.
  int calls = 0;
  Status s = store_->Visit(loc_, "", [&](const CatalogEntry&) {
    ++calls;
    return Status::Cancelled("enough");
  });
  EXPECT_EQ(s.code(), ErrorCode::kCancelled);
  EXPECT_EQ(calls, 1);
}

TEST_F(CatalogStoreTest, ForgetsArchivesNotKept) {
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 1)}, 1).ok());
  ASSERT_TRUE(Record("2.fza", {Row("2.fza", 0, "b", 1)}, 1).ok());
  auto n = store_->ForgetArchivesExcept(loc_, {"2.fza"});
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
  EXPECT_FALSE(*store_->HasArchive(loc_, "1.fza"));
  EXPECT_TRUE(store_->Versions(loc_, "a")->empty());
  EXPECT_EQ(store_->Versions(loc_, "b")->size(), 1u);
}

TEST_F(CatalogStoreTest, ATombstoneHidesAKeyUntilItIsBackedUpAgain) {
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 1000), Row("1.fza", 1, "b", 1000)}, 1000).ok());
  const Tombstone gone{.location = loc_, .key = "a", .deleted_ms = 2000, .run = 3};
  ASSERT_TRUE(store_->RecordTombstones(std::vector<Tombstone>{gone}).ok());
  const std::vector<std::string> keys = {"a", "b"};
  auto latest = store_->Latest(loc_, keys);
  ASSERT_TRUE(latest.ok()) << latest.status().message();
  ASSERT_EQ(latest->size(), 1u);  // "a" is deleted: a listing that shows it again packs it
  EXPECT_EQ(latest->front().key, "b");
  EXPECT_EQ(*store_->LiveKeysBetween(loc_, "", std::nullopt), std::vector<std::string>{"b"});
  EXPECT_EQ(*store_->Tombstones(loc_, ""), std::vector<Tombstone>{gone});
  EXPECT_TRUE(store_->Tombstones(loc_, "b")->empty());
  // Backed up again: a new version, live again.
  ASSERT_TRUE(Record("2.fza", {Row("2.fza", 0, "a", 3000)}, 3000).ok());
  EXPECT_EQ(store_->Latest(loc_, keys)->size(), 2u);
  EXPECT_EQ(*store_->LiveKeysBetween(loc_, "", std::nullopt),
            (std::vector<std::string>{"a", "b"}));
}

TEST_F(CatalogStoreTest, KeysNotedGoneBecomeTombstonesOnlyWhenCommitted) {
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 1000), Row("1.fza", 1, "b", 1000)}, 1000).ok());
  const std::vector<std::string> a = {"a"}, b = {"b"};
  ASSERT_TRUE(store_->NoteGone(loc_, 7, a, 2000).ok());
  ASSERT_TRUE(store_->NoteGone(loc_, 7, a, 2500).ok());  // a retried scan: the first note stays
  ASSERT_TRUE(store_->NoteGone(loc_, 9, b, 2600).ok());
  EXPECT_TRUE(store_->Tombstones(loc_, "")->empty());  // nothing is deleted by a note
  EXPECT_EQ(*store_->RunsWithGone(loc_), (std::vector<int64_t>{7, 9}));
  auto n = store_->CommitGone(loc_, 7);
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(*store_->Tombstones(loc_, ""),
            (std::vector<Tombstone>{{.location = loc_, .key = "a", .deleted_ms = 2000, .run = 7}}));
  // Run 9's listing never completed: its notes go without a tombstone.
  ASSERT_TRUE(store_->DiscardGone(loc_, 9).ok());
  EXPECT_TRUE(store_->RunsWithGone(loc_)->empty());
  EXPECT_EQ(store_->Tombstones(loc_, "")->size(), 1u);
  // A key already deleted gets no second tombstone.
  ASSERT_TRUE(store_->NoteGone(loc_, 10, a, 3000).ok());
  EXPECT_EQ(*store_->CommitGone(loc_, 10), 0u);
  EXPECT_EQ(store_->Tombstones(loc_, "")->size(), 1u);
}

TEST_F(CatalogStoreTest, LiveKeysBetweenWalksIntervalsInByteOrderAcrossPages) {
  std::vector<CatalogEntry> rows;
  for (uint64_t i = 0; i < CatalogStore::kRangePage * 2 + 20; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%05u", static_cast<unsigned>(i));
    rows.push_back(Row("1.fza", i, key, 5));
  }
  rows.push_back(Row("1.fza", rows.size(), "z", 5));
  rows.push_back(Row("1.fza", rows.size(), "é", 5));  // after "z" in byte order
  ASSERT_TRUE(Record("1.fza", rows, 5).ok());
  auto all = store_->LiveKeysBetween(loc_, "", std::nullopt);
  ASSERT_TRUE(all.ok()) << all.status().message();
  ASSERT_EQ(all->size(), rows.size());
  EXPECT_EQ(all->at(all->size() - 2), "z");
  EXPECT_EQ(all->back(), "é");
  auto some = store_->LiveKeysBetween(loc_, "k00010", std::string("k00013"));
  EXPECT_EQ(*some, (std::vector<std::string>{"k00011", "k00012", "k00013"}));
  EXPECT_EQ(*store_->LiveKeysBetween(loc_, "z", std::nullopt), std::vector<std::string>{"é"});
  EXPECT_TRUE(store_->LiveKeysBetween("rb:other/", "", std::nullopt)->empty());
}

TEST_F(CatalogStoreTest, ForgetRowsListsDoomedArchivesInOneStep) {
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 1), Row("1.fza", 1, "b", 1)}, 1).ok());
  ASSERT_TRUE(Record("2.fza", {Row("2.fza", 0, "a", 2)}, 2).ok());
  const Tombstone t{.location = loc_, .key = "b", .deleted_ms = 3, .run = 1};
  ASSERT_TRUE(store_->RecordTombstones(std::vector<Tombstone>{t}).ok());
  const auto doomed = *store_->Archives(loc_);  // both, to see one forgotten whole
  ASSERT_TRUE(store_->ForgetRows(std::vector<CatalogEntry>{Row("1.fza", 0, "a", 1),
                                                           Row("2.fza", 0, "a", 2)},
                                 std::vector<Tombstone>{t},
                                 std::vector<CatalogArchive>{doomed[1]})
                  .ok());
  std::vector<std::string> left;
  ASSERT_TRUE(store_->Visit(loc_, "", [&](const CatalogEntry& e) {
                      left.push_back(e.key + "@" + e.archive);
                      return Status::Ok();
                    }).ok());
  EXPECT_EQ(left, std::vector<std::string>{"b@1.fza"});
  EXPECT_TRUE(store_->Tombstones(loc_, "")->empty());
  ASSERT_EQ(store_->Archives(loc_)->size(), 1u);
  EXPECT_EQ(*store_->Doomed(loc_), std::vector<CatalogArchive>{doomed[1]});
  ASSERT_TRUE(store_->ForgetDoomed(loc_, "2.fza").ok());
  EXPECT_TRUE(store_->Doomed(loc_)->empty());
}

// A prune planned from a catalog read before a backup recorded an archive (again) must not
// doom it: the rows of that backup would be forgotten and its archive deleted.
TEST_F(CatalogStoreTest, ForgetRowsKeepsAnArchiveThatGainedEntriesSinceThePlan) {
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 1)}, 1).ok());
  const auto planned = *store_->Archives(loc_);  // the prune's read: 1.fza, entry "a"
  // The backup (a retried job) records 1.fza again, with its entries, before the prune writes.
  ASSERT_TRUE(Record("1.fza", {Row("1.fza", 0, "a", 5), Row("1.fza", 1, "b", 5)}, 5).ok());
  auto listed = store_->ForgetRows(std::vector<CatalogEntry>{Row("1.fza", 0, "a", 1)}, {},
                                   planned);
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_TRUE(listed->empty());
  EXPECT_TRUE(store_->Doomed(loc_)->empty());
  ASSERT_EQ(store_->Archives(loc_)->size(), 1u);
  EXPECT_EQ(store_->Versions(loc_, "b")->size(), 1u);
  // With nothing left of it, it is doomed.
  auto later = store_->ForgetRows(*store_->Versions(loc_, "b"), {}, planned);
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->size(), 0u);  // "a" of the second record still names it
  auto last = store_->ForgetRows(*store_->Versions(loc_, "a"), {}, planned);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->size(), 1u);
  EXPECT_EQ(store_->Doomed(loc_)->size(), 1u);
  EXPECT_TRUE(store_->Archives(loc_)->empty());
}

// The scan that finds a key gone and the pack that backs it up run on different workers, whose
// clocks may disagree by minutes. The order of a key's rows is the order they were recorded in:
// a deletion noted by a clock behind the packer's still hides the version it found gone, and a
// version packed again after it by a clock behind still is the newest.
TEST_F(CatalogStoreTest, AKeysRowsKeepTheOrderTheyWereRecordedInWhateverTheClocks) {
  auto newest = [&](const std::string& archive, int64_t at) {
    return store_->RecordNewestArchive(
        CatalogArchive{.location = loc_, .archive = archive, .entries = 1, .archive_bytes = 10,
                       .backed_up_ms = at},
        std::vector<CatalogEntry>{Row(archive, 0, "k", at)});
  };
  ASSERT_EQ(*newest("1.fza", 5000), 5000);  // a packer ahead
  const std::vector<std::string> k{"k"};
  ASSERT_TRUE(store_->NoteGone(loc_, 2, k, 3000).ok());  // a scanner behind
  ASSERT_EQ(*store_->CommitGone(loc_, 2), 1u);
  EXPECT_TRUE(store_->Latest(loc_, k)->empty()) << "the deleted key looks live";
  EXPECT_EQ(store_->Tombstones(loc_, "")->at(0).deleted_ms, 5001);
  // Backed up again by a packer whose clock is behind both.
  ASSERT_EQ(*newest("3.fza", 4000), 5002);
  auto latest = store_->Latest(loc_, k);
  ASSERT_EQ(latest->size(), 1u) << "the key backed up again looks deleted";
  EXPECT_EQ(latest->front().archive, "3.fza");
  EXPECT_EQ(store_->Archives(loc_)->back().backed_up_ms, 5002);
  // A retry recording the same archive again is not raised above itself.
  ASSERT_EQ(*newest("3.fza", 4000), 5002);
}

TEST_F(CatalogStoreTest, ALocationHoldsTheBackupsOfOneSource) {
  EXPECT_EQ(*store_->ClaimSource(loc_, "ra:data/"), "ra:data/");
  EXPECT_EQ(*store_->ClaimSource(loc_, "ra:data/"), "ra:data/");
  EXPECT_EQ(*store_->ClaimSource(loc_, "ra:other/"), "ra:data/");  // the first one stays
  EXPECT_EQ(*store_->ClaimSource(loc_ + "x/", "ra:other/"), "ra:other/");
}

TEST(CatalogPickTest, PicksByVersionIdOrTime) {
  auto row = [](std::string version, int64_t at) {
    CatalogEntry e;
    e.key = "k";
    e.version_id = std::move(version);
    e.archive = "a" + std::to_string(at);
    e.backed_up_ms = at;
    return e;
  };
  const std::vector<CatalogEntry> v = {row("v1", 100), row("v3", 300), row("v2", 200)};
  EXPECT_EQ(PickVersion(v, "", 0)->version_id, "v3");    // the latest
  EXPECT_EQ(PickVersion(v, "", 250)->version_id, "v2");  // as of a time
  EXPECT_EQ(PickVersion(v, "", 200)->version_id, "v2");  // at that very time
  EXPECT_FALSE(PickVersion(v, "", 99).has_value());      // before the first backup
  EXPECT_EQ(PickVersion(v, "v1", 0)->backed_up_ms, 100);
  EXPECT_FALSE(PickVersion(v, "v9", 0).has_value());
  // One backup time: the later archive, then the later entry, is the latest.
  CatalogEntry a = row("", 5), b = row("", 5);
  a.archive = "x";
  b.archive = "y";
  EXPECT_TRUE(NewerThan(b, a));
  b.archive = "x";
  b.entry = 1;
  EXPECT_TRUE(NewerThan(b, a));
}

}  // namespace
}  // namespace ferry::backup
