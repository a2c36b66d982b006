#include "app/files_from.h"

#include "jobs/payload.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
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
    path_ = ::testing::TempDir() + "/files_from_test_list.txt";
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
  EXPECT_NE(bad.status().message().find("files_from_test_list.txt:2: an empty key"),
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

}  // namespace
}  // namespace ferry::app
