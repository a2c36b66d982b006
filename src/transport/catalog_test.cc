// CatalogStore on SQLite (unit) and, built with FERRY_CATALOG_PG, on the PostgreSQL of
// FERRY_TEST_PG_URL (integration): archives recorded with their entries in one transaction,
// the latest entry of a key, versions, prefixes in byte order, forgetting archives.
#include "transport/catalog.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

#include "base/clock.h"
#include "state/state.h"

namespace ferry::transport {
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
}  // namespace ferry::transport
