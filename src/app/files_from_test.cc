#include "app/files_from.h"

#include "jobs/list_scan_rows.h"
#include "jobs/payload.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transfer/sync.h"

namespace ferry::app {
namespace {

void PutKeys(storage::Backend& store, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    storage::WriteSpec spec;
    spec.size = k.size();
    ASSERT_TRUE(store.Put(k, checksum::AsBytes(k), spec, {}).ok());
  }
}

std::vector<std::string> KeysOf(storage::Backend& store) {
  std::vector<std::string> keys;
  auto cursor = store.List("");
  EXPECT_TRUE(cursor.ok());
  for (;;) {
    auto o = (*cursor)->Next();
    EXPECT_TRUE(o.ok());
    if (!o.ok() || *o == nullptr) return keys;
    keys.push_back((*o)->key);
  }
}

// A source whose lookups fail (a store that answers 503 past its retries).
class FailingSource : public storage::MemoryBackend {
 public:
  Result<storage::ObjectInfo> Stat(std::string_view key, bool with_tags,
                                   std::stop_token stop) override {
    if (key == "boom") return Status::Unavailable("503 SlowDown");
    return MemoryBackend::Stat(key, with_tags, stop);
  }
  Result<std::unique_ptr<storage::ListingCursor>> ListFrom(std::string_view prefix,
                                                           std::string_view start_after) override {
    if (fail_listings) return Status::Unavailable("503 SlowDown");
    return MemoryBackend::ListFrom(prefix, start_after);
  }
  bool fail_listings = false;
};

class FilesFromTest : public ::testing::Test {
 protected:
  std::string WriteList(const std::string& text) {
    // Each test case runs in a process of its own, two at once under ctest -j: a path per process.
    path_ = ::testing::TempDir() + "/files_from_test_list-" + std::to_string(::getpid()) + ".txt";
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::remove(path_.c_str()); }

  Result<std::unique_ptr<FilesFrom>> Open(const std::string& text, FilesFromSettings s = {}) {
    s.list = WriteList(text);
    return FilesFrom::Open(wiring_, std::move(s), {});
  }

  transfer::SyncResult Sync(FilesFrom& list, bool delete_extra) {
    return SyncFrom(src_, list, delete_extra);
  }
  transfer::SyncResult SyncFrom(storage::Backend& src, FilesFrom& list, bool delete_extra) {
    transfer::SyncOptions options;
    options.delete_extra = delete_extra;
    options.listing = list.Driver(stats_);
    return transfer::RunSync(testing::TestExecutor(), src, dst_, options, stats_, {});
  }

  Wiring wiring_{Config{}};
  storage::MemoryBackend src_;
  storage::MemoryBackend dst_;
  transfer::Stats stats_;
  std::string path_;
};

TEST_F(FilesFromTest, OnlyListedKeysAreCopiedAndDeleted) {
  PutKeys(src_, {"a/1", "a/2", "b", "c"});
  PutKeys(dst_, {"gone", "extra", "c"});
  auto list = Open("# listed\na/1\nb\ngone\nmissing\n");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  transfer::SyncResult r = Sync(**list, /*delete_extra=*/true);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  // a/2 and c are not listed: not copied, not looked at; extra is not listed: kept.
  EXPECT_EQ(KeysOf(dst_), (std::vector<std::string>{"a/1", "b", "c", "extra"}));
  EXPECT_EQ(stats_.objects_copied.load(), 2u);
  EXPECT_EQ(stats_.objects_deleted.load(), 1u);
  EXPECT_EQ(stats_.listed_not_found.load(), 2u);  // gone, missing
}

TEST_F(FilesFromTest, ManyBatchesOfDenseAndSparseKeysGiveWhatAFullListingWould) {
  std::vector<std::string> src_keys, listed;
  for (int i = 0; i < 6000; ++i) src_keys.push_back("k/" + std::to_string(100000 + i));
  PutKeys(src_, src_keys);
  std::string text;
  for (int i = 0; i < 6000; ++i) {
    if (i < 3000 || i % 997 == 0) {  // dense, then sparse
      text += src_keys[i] + "\n";
      listed.push_back(src_keys[i]);
    }
  }
  auto list = Open(text);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  transfer::SyncResult r = Sync(**list, false);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(KeysOf(dst_), listed);
  EXPECT_EQ(stats_.listed_not_found.load(), 0u);
}

TEST_F(FilesFromTest, ABadLineFailsTheOpen) {
  auto bad = Open("a\n/\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(std::filesystem::path(path_).filename().string() +
                                         ":2: an empty key"),
            std::string::npos)
      << bad.status().ToString();
  FilesFromSettings format;
  format.format = "json";
  EXPECT_FALSE(Open("a\n", format).ok());
}

// A durable run's first jobs: every listed key once, sorted, in list-scan jobs of at most
// kListChunkKeys keys.
TEST_F(FilesFromTest, ADurableRunGetsTheSortedKeysInListScanJobs) {
  std::string text;
  std::vector<std::string> want;
  for (int i = 2499; i >= 0; --i) {
    const std::string key = "k" + std::to_string(100000 + i);
    text += key + "\n" + (i % 7 == 0 ? key + "\n" : "");  // some listed twice
    want.insert(want.begin(), key);
  }
  auto list = Open(text);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  auto jobs = (*list)->ListScanJobs(3);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 3u);
  std::vector<std::string> got;
  for (const jobs::JobSpec& j : *jobs) {
    EXPECT_EQ(j.kind, jobs::kListScanKind);
    EXPECT_EQ(j.max_attempts, 3);
    auto keys = jobs::DecodeListScan(j.payload);
    ASSERT_TRUE(keys.ok()) << keys.status().ToString();
    EXPECT_LE(keys->size(), jobs::kListChunkKeys);
    got.insert(got.end(), keys->begin(), keys->end());
  }
  EXPECT_EQ(got, want);
}

TEST_F(FilesFromTest, AFailedLookupOfTheSourceFailsTheRunAndDeletesNothing) {
  FailingSource src;
  PutKeys(dst_, {"boom", "gone"});
  auto stats_fail = Open("boom\ngone\n");  // two keys: a Stat each
  ASSERT_TRUE(stats_fail.ok());
  transfer::SyncResult r = SyncFrom(src, **stats_fail, /*delete_extra=*/true);
  EXPECT_EQ(r.status.code(), ErrorCode::kUnavailable) << r.status.ToString();
  EXPECT_EQ(KeysOf(dst_), (std::vector<std::string>{"boom", "gone"}));

  src.fail_listings = true;
  auto list_fail = Open("a\nb\ngone\n");  // three keys: a listing first
  ASSERT_TRUE(list_fail.ok());
  r = SyncFrom(src, **list_fail, /*delete_extra=*/true);
  EXPECT_EQ(r.status.code(), ErrorCode::kUnavailable) << r.status.ToString();
  EXPECT_EQ(KeysOf(dst_), (std::vector<std::string>{"boom", "gone"}));
  EXPECT_EQ(stats_.objects_deleted.load(), 0u);
}

TEST_F(FilesFromTest, CsvRowsNameTheSourceBucketAndPrefix) {
  PutKeys(src_, {"x", "y"});
  FilesFromSettings s;
  s.format = "csv";
  auto source = ParseLocation("s3://bkt/pre/");
  ASSERT_TRUE(source.ok());
  s.source = *source;
  auto list = Open("bkt,pre/x\nbkt,pre/nope\n", s);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_TRUE(Sync(**list, false).status.ok());
  EXPECT_EQ(KeysOf(dst_), std::vector<std::string>{"x"});
  EXPECT_EQ(stats_.listed_not_found.load(), 1u);
}

// An unversioned CSV inventory of `bucket` (Bucket, Key columns; one data file, not gzip'ed:
// the reader finds gzip by its magic bytes) written under `root` in the AWS layout. Returns
// its configuration's prefix.
std::string WriteInventoryOf(const std::string& root, const std::string& bucket,
                             const std::vector<std::string>& keys) {
  const std::string config = "inventories/" + bucket + "/daily";
  std::filesystem::create_directories(root + "/" + config + "/data");
  std::filesystem::create_directories(root + "/" + config + "/2026-11-27T00-00Z");
  std::string rows;
  for (const std::string& k : keys) rows += "\"" + bucket + "\",\"" + k + "\"\n";
  std::ofstream(root + "/" + config + "/data/part.csv") << rows;
  const std::string md5 = checksum::Hex(checksum::Md5(checksum::AsBytes(rows)));
  std::ofstream(root + "/" + config + "/2026-11-27T00-00Z/manifest.json")
      << R"({"sourceBucket":")" << bucket << R"(","fileFormat":"CSV","fileSchema":"Bucket, Key",)"
      << R"("files":[{"key":")" << config << R"(/data/part.csv","size":)" << rows.size()
      << R"(,"MD5checksum":")" << md5 << R"("}]})";
  return root + "/" + config;
}

TEST_F(FilesFromTest, AnInventoryRunActsOnCurrentFactsAndCountsOnlySourceKeysGoneSince) {
  const std::string root =
      ::testing::TempDir() + "/files_from_inventory_run-" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  FilesFromSettings s;
  s.source_inventory = WriteInventoryOf(root, "src", {"b", "a", "gone"});
  s.dest_inventory = WriteInventoryOf(root, "dst", {"d", "x", "keep"});
  s.source = *ParseLocation("s3://src/");
  s.destination = *ParseLocation("s3://dst/");
  // Since the inventories: gone deleted and new, keep added on the source; x deleted from dst.
  PutKeys(src_, {"a", "b", "new", "keep"});
  PutKeys(dst_, {"d", "keep"});
  auto run = FilesFrom::OpenInventories(wiring_, s, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  transfer::SyncResult r = Sync(**run, /*delete_extra=*/true);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  // new is in neither inventory: not looked at. keep is on the source now: not deleted.
  EXPECT_EQ(KeysOf(dst_), (std::vector<std::string>{"a", "b", "keep"}));
  EXPECT_EQ(stats_.objects_copied.load(), 2u);
  EXPECT_EQ(stats_.objects_deleted.load(), 1u);   // d: present, and the source lacks it now
  EXPECT_EQ(stats_.listed_not_found.load(), 1u);  // gone; x was only the destination's
  std::filesystem::remove_all(root);
}

// A memory store that records the keys it was asked about (Stat) and counts its listings (List
// is a ListFrom).
class CountingStore : public storage::MemoryBackend {
 public:
  explicit CountingStore(Clock* clock) : MemoryBackend(Options{.clock = clock}) {}
  Result<storage::ObjectInfo> Stat(std::string_view key, bool with_tags,
                                   std::stop_token stop) override {
    {
      std::lock_guard lock(mu_);
      statted.push_back(std::string(key));
    }
    return MemoryBackend::Stat(key, with_tags, stop);
  }
  Result<std::unique_ptr<storage::ListingCursor>> ListFrom(std::string_view prefix,
                                                           std::string_view start_after) override {
    ++listings;
    return MemoryBackend::ListFrom(prefix, start_after);
  }
  std::mutex mu_;
  std::vector<std::string> statted;
  std::atomic<int> listings{0};
};

std::string InventoryTime(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
  const std::time_t secs = static_cast<std::time_t>(ms.count() / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms.count() % 1000));
  return buf;
}

// An inventory of `store`'s objects now, with the Size, LastModifiedDate and ETag columns a
// run compares (as WriteInventoryOf; rows in reverse order: nothing promises key order).
std::string WriteRowsInventoryOf(const std::string& root, const std::string& bucket,
                                 storage::Backend& store) {
  const std::string config = "inventories/" + bucket + "/daily";
  std::filesystem::create_directories(root + "/" + config + "/data");
  std::filesystem::create_directories(root + "/" + config + "/2026-11-27T00-00Z");
  auto cursor = store.List("");
  EXPECT_TRUE(cursor.ok());
  std::vector<std::string> lines;
  for (;;) {
    auto o = (*cursor)->Next();
    if (!o.ok() || *o == nullptr) break;
    lines.push_back("\"" + bucket + "\",\"" + (*o)->key + "\",\"" + std::to_string((*o)->size) +
                    "\",\"" + InventoryTime((*o)->mtime) + "\",\"" + (*o)->etag + "\"\n");
  }
  std::string rows;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) rows += *it;
  std::ofstream(root + "/" + config + "/data/part.csv") << rows;
  const std::string md5 = checksum::Hex(checksum::Md5(checksum::AsBytes(rows)));
  std::ofstream(root + "/" + config + "/2026-11-27T00-00Z/manifest.json")
      << R"({"sourceBucket":")" << bucket << R"(","fileFormat":"CSV",)"
      << R"("fileSchema":"Bucket, Key, Size, LastModifiedDate, ETag",)"
      << R"("files":[{"key":")" << config << R"(/data/part.csv","size":)" << rows.size()
      << R"(,"MD5checksum":")" << md5 << R"("}]})";
  return root + "/" + config;
}

void PutBytes(storage::Backend& store, const std::string& key, const std::string& bytes) {
  storage::WriteSpec spec;
  spec.size = bytes.size();
  ASSERT_TRUE(store.Put(key, checksum::AsBytes(bytes), spec, {}).ok());
}

TEST_F(FilesFromTest, TwoInventoriesPlanFromRowsListNothingAndActOnlyOnFactsReadNow) {
  const std::string root =
      ::testing::TempDir() + "/files_from_inventory_rows-" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  testing::FakeClock clock;
  CountingStore src(&clock), dst(&clock);
  for (const char* k : {"a", "b", "c", "gone", "twin"}) PutBytes(src, k, std::string("v1 ") + k);
  clock.Advance(std::chrono::seconds(10));
  for (const char* k : {"a", "b"}) PutBytes(dst, k, std::string("v1 ") + k);
  for (const char* k : {"d", "e", "f"}) PutBytes(dst, k, "stale");
  FilesFromSettings s;
  s.source_inventory = WriteRowsInventoryOf(root, "src", src);
  s.dest_inventory = WriteRowsInventoryOf(root, "dst", dst);
  s.source = *ParseLocation("s3://src/");
  s.destination = *ParseLocation("s3://dst/");
  // Since the inventories: c changed, gone deleted, f added on the source; twin appeared at the
  // destination as the source has it, e deleted from the destination.
  clock.Advance(std::chrono::seconds(10));
  PutBytes(src, "c", "v2 c, longer");
  ASSERT_TRUE(src.Delete("gone", {}).ok());
  PutBytes(src, "f", "stale");
  PutBytes(dst, "twin", "v1 twin");
  ASSERT_TRUE(dst.Delete("e", {}).ok());
  src.listings = 0;  // the inventories' own listings
  dst.listings = 0;
  auto run = FilesFrom::OpenInventories(wiring_, s, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  transfer::SyncOptions options;
  options.delete_extra = true;
  options.listing = (*run)->Driver(stats_, &options);
  transfer::SyncResult r =
      transfer::RunSync(testing::TestExecutor(), src, dst, options, stats_, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(src.listings.load(), 0);  // the rows are the listings
  EXPECT_EQ(dst.listings.load(), 0);
  for (const std::vector<std::string>* statted : {&src.statted, &dst.statted}) {
    for (const std::string& key : *statted) {
      EXPECT_TRUE(key != "a" && key != "b") << key << ": its rows say equal, yet it was read";
    }
  }
  EXPECT_EQ(KeysOf(dst), (std::vector<std::string>{"a", "b", "c", "f", "twin"}));
  auto c = dst.Stat("c", false, {});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size, std::string("v2 c, longer").size());  // as it is now, not as the row said
  EXPECT_EQ(stats_.objects_copied.load(), 1u);    // c; twin is at the destination already
  EXPECT_EQ(stats_.objects_deleted.load(), 1u);   // d; e was gone, f is on the source again
  EXPECT_EQ(stats_.listed_not_found.load(), 1u);  // gone: reported, not failed
  EXPECT_EQ(stats_.failures(), 0u);
  std::filesystem::remove_all(root);
}

TEST_F(FilesFromTest, ASourceInventoryAloneLooksTheDestinationUpAndNeverListsTheSource) {
  const std::string root =
      ::testing::TempDir() + "/files_from_inventory_source_rows-" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  testing::FakeClock clock;
  CountingStore src(&clock), dst(&clock);
  for (const char* k : {"a", "b", "gone"}) PutBytes(src, k, std::string("v1 ") + k);
  clock.Advance(std::chrono::seconds(10));
  PutBytes(dst, "a", "v1 a");
  FilesFromSettings s;
  s.source_inventory = WriteRowsInventoryOf(root, "src", src);
  s.source = *ParseLocation("s3://src/");
  s.destination = *ParseLocation("s3://dst/");
  ASSERT_TRUE(src.Delete("gone", {}).ok());
  src.listings = 0;
  auto run = FilesFrom::OpenInventories(wiring_, s, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  transfer::SyncOptions options;
  options.listing = (*run)->Driver(stats_, &options);
  ASSERT_TRUE(
      transfer::RunSync(testing::TestExecutor(), src, dst, options, stats_, {}).status.ok());
  EXPECT_EQ(src.listings.load(), 0);
  EXPECT_EQ(KeysOf(dst), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(stats_.objects_copied.load(), 1u);    // b; a is at the destination as its row says
  EXPECT_EQ(stats_.listed_not_found.load(), 1u);  // gone
  for (const std::string& key : src.statted) EXPECT_NE(key, "a");
  std::filesystem::remove_all(root);
}

// A durable run's list-scan jobs carry what its workers plan from: the rows of both sides (the
// destination's as rows with a destination inventory, looked up without one), or the keys alone
// when the inventories lack the columns a comparison reads.
TEST_F(FilesFromTest, ADurableInventoryRunsJobsCarryTheRows) {
  const std::string root =
      ::testing::TempDir() + "/files_from_inventory_durable-" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  testing::FakeClock clock;
  storage::MemoryBackend src(storage::MemoryBackend::Options{.clock = &clock});
  storage::MemoryBackend dst(storage::MemoryBackend::Options{.clock = &clock});
  PutBytes(src, "a", "v1 a");
  PutBytes(src, "b", "v1 b");
  PutBytes(dst, "b", "v0 b, other");
  PutBytes(dst, "z", "stale");
  FilesFromSettings s;
  s.source_inventory = WriteRowsInventoryOf(root, "src", src);
  s.dest_inventory = WriteRowsInventoryOf(root, "dst", dst);
  s.source = *ParseLocation("s3://src/");
  s.destination = *ParseLocation("s3://dst/");
  auto run = FilesFrom::OpenInventories(wiring_, s, {});
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto jobs = (*run)->ListScanJobs(3);
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].max_attempts, 3);
  auto rows = jobs::DecodeListScanRows((*jobs)[0].payload);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_FALSE(rows->destination_current);
  ASSERT_EQ(rows->pairs.size(), 3u);  // a, b, z
  EXPECT_EQ(rows->pairs[1].key, "b");
  ASSERT_TRUE(rows->pairs[1].source && rows->pairs[1].destination);
  EXPECT_EQ(rows->pairs[1].source->size, 4u);
  EXPECT_EQ(rows->pairs[1].destination->size, std::string("v0 b, other").size());
  EXPECT_EQ(rows->pairs[1].source->etag, src.Stat("b", false, {})->etag);
  EXPECT_FALSE(rows->pairs[2].source.has_value());  // z: the destination's only

  s.dest_inventory.clear();  // the source's alone: the destination looked up by the workers
  auto alone = FilesFrom::OpenInventories(wiring_, s, {});
  ASSERT_TRUE(alone.ok());
  auto alone_jobs = (*alone)->ListScanJobs(3);
  ASSERT_TRUE(alone_jobs.ok());
  auto alone_rows = jobs::DecodeListScanRows((*alone_jobs)[0].payload);
  ASSERT_TRUE(alone_rows.ok());
  EXPECT_TRUE(alone_rows->destination_current);
  EXPECT_EQ(alone_rows->pairs.size(), 2u);

  s.source_inventory = WriteInventoryOf(root + "/keys", "src", {"b", "a"});  // no Size, ETag
  auto keys_only = FilesFrom::OpenInventories(wiring_, s, {});
  ASSERT_TRUE(keys_only.ok());
  auto key_jobs = (*keys_only)->ListScanJobs(3);
  ASSERT_TRUE(key_jobs.ok());
  EXPECT_FALSE(jobs::IsListScanRows((*key_jobs)[0].payload));
  EXPECT_EQ(*jobs::DecodeListScan((*key_jobs)[0].payload), (std::vector<std::string>{"a", "b"}));
  std::filesystem::remove_all(root);
}

TEST_F(FilesFromTest, AnInventoryOfAnotherBucketOrADestinationAloneIsRefused) {
  const std::string root =
      ::testing::TempDir() + "/files_from_inventory_refused-" + std::to_string(::getpid());
  std::filesystem::remove_all(root);
  FilesFromSettings s;
  s.source_inventory = WriteInventoryOf(root, "other", {"a"});
  s.source = *ParseLocation("s3://src/");
  auto other = FilesFrom::OpenInventories(wiring_, s, {});
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.status().message().find("not of the run's bucket \"src\""), std::string::npos);
  FilesFromSettings dest_only;
  dest_only.dest_inventory = s.source_inventory;
  EXPECT_EQ(FilesFrom::OpenInventories(wiring_, dest_only, {}).status().code(),
            ErrorCode::kInvalidArgument);
  std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace ferry::app
