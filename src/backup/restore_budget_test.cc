// The budget of a restore: RestoreEntries of many small objects and a few large ones, several
// times the executor's ByteBudget, from a backup archive recorded in a SQLite catalog, on an
// executor of the test's own. Every object is restored intact; the budget's peak stays within
// its capacity plus the overdraw the components document; nothing stays in it after.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "archive/io.h"
#include "archive/stream.h"
#include "checksum/checksum.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/sizeless_store.h"
#include "testing/test_data.h"
#include "testing/test_executor.h"
#include "transfer/executor.h"
#include "backup/backup.h"
#include "backup/catalog.h"
#include "transport/pack.h"
#include "backup/restore.h"

namespace ferry::backup {
namespace {

using ferry::testing::Text;
using ferry::testing::Random;

constexpr uint64_t kBudget = 4ull << 20;
constexpr uint64_t kWholeLimit = 1ull << 20;  // RestoreOptions::whole_limit
constexpr uint64_t kPartSize = 1ull << 20;    // RestoreOptions::part_size
constexpr size_t kLarge = 6u << 20;           // the large objects' size

class RestoreBudgetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-restore-budget-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
    ASSERT_TRUE(session.ok());
    session_ = std::move(session).value();
    auto catalog = CatalogStore::Open(*session_);
    ASSERT_TRUE(catalog.ok());
    catalog_ = std::move(catalog).value();
  }
  void TearDown() override {
    catalog_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }

  // 300 small objects (~4.8 MiB of text) and 3 large ones (random), one in the middle of the
  // small ones, packed into the backup archive "1.fza" and recorded in the catalog; returns
  // the catalog's rows (one per key).
  std::vector<CatalogEntry> BackUp() {
    std::vector<storage::ObjectInfo> listed;
    auto add = [&](const std::string& key, std::string body) {
      storage::WriteSpec spec;
      spec.size = body.size();
      spec.metadata = {{"owner", "ops"}};
      EXPECT_TRUE(src_.Put(key, checksum::AsBytes(body), spec, {}).ok());
      auto info = src_.Stat(key, false, {});
      EXPECT_TRUE(info.ok());
      listed.push_back(*info);
      bodies_[key] = std::move(body);
    };
    for (int i = 0; i < 300; ++i) {
      if (i == 150) add("m/large-mid", Random(kLarge + 5, 1000));
      add("s/" + std::to_string(10000 + i), Text((16u << 10) + static_cast<size_t>(i), i));
    }
    add("z/large-1", Random(kLarge, 1001));
    add("z/large-2", Random(kLarge + 3, 1002));
    archive::StringSink sink;
    transport::PackOptions o;
    o.executor = &ferry::testing::TestExecutor();  // not the one measured
    o.writer.threads = 1;
    o.writer.level = 1;
    auto packed = transport::PackObjects(src_, listed, sink, o, {});
    EXPECT_TRUE(packed.ok()) << packed.status().message();
    storage::WriteSpec spec;
    spec.size = sink.bytes.size();
    EXPECT_TRUE(backup_.Put("1.fza", checksum::AsBytes(sink.bytes), spec, {}).ok());
    CatalogArchive archive;
    archive.location = kLoc;
    archive.archive = "1.fza";
    archive.archive_bytes = sink.bytes.size();
    archive.backed_up_ms = 1'000;
    auto row = RecordBackupArchive(*catalog_, backup_, archive, {});
    EXPECT_TRUE(row.ok()) << row.status().message();
    std::vector<CatalogEntry> rows;
    EXPECT_TRUE(catalog_
                    ->Visit(kLoc, "",
                            [&](const CatalogEntry& e) {
                              rows.push_back(e);
                              return Status::Ok();
                            })
                    .ok());
    return rows;
  }

  RestoreOptions Restoring(transfer::Executor& ex) {
    RestoreOptions o;
    o.executor = &ex;
    o.whole_limit = kWholeLimit;
    o.part_size = kPartSize;
    return o;
  }

  static constexpr const char* kLoc = "rb:backup/p/";
  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<CatalogStore> catalog_;
  storage::MemoryBackend src_, backup_;
  std::map<std::string, std::string> bodies_;
};

TEST_F(RestoreBudgetTest, ARestoreOfManyTimesTheBudgetStaysWithinItsDocumentedOverdraw) {
  const std::vector<CatalogEntry> rows = BackUp();
  ASSERT_EQ(rows.size(), 303u);
  uint64_t total = 0;
  for (const auto& [key, body] : bodies_) total += body.size();
  ASSERT_GT(total, 5 * kBudget);

  storage::MemoryBackend::Options small_parts;
  small_parts.features.min_part_size = 64 << 10;  // parts of 1 MiB, as S3's of 5 MiB
  storage::MemoryBackend dst(small_parts);
  transfer::Executor ex(transfer::ExecutorOptions{.concurrency = 4, .memory_budget = kBudget});
  const auto started = std::chrono::steady_clock::now();
  auto r = RestoreEntries(backup_, rows, dst, Restoring(ex), {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(r.ok()) << r.status().message();

  // (a) Every object restored, its bytes those backed up.
  EXPECT_EQ(r->objects_written, rows.size());
  EXPECT_EQ(r->bytes_written, total);
  for (const auto& [key, body] : bodies_) {
    const auto got = dst.Contents(key);
    ASSERT_TRUE(got.has_value()) << key;
    EXPECT_TRUE(*got == body) << key;
  }
  EXPECT_EQ(dst.counts().commits, 3);  // the large ones through chunked writes

  // (b) The bound. Every TryAcquire of the budget succeeds only within its capacity, so what
  // they hold together never exceeds kBudget; beyond it only overdraws. The small entries'
  // writes are unpack's EntryWriters (restore.h), which overdraw one entry's bytes only when no
  // write of theirs is under way (unpack_pipeline.h, WaitRoom): one small entry,
  // <= whole_limit. A restore reads its archive without read-ahead (no ReadAheadSource), and
  // writes its large entries one at a time, outside the EntryWriters. The stream that decodes
  // an archive's frames overdraws what it holds itself (its input buffer and decoder: at most
  // EntryStream::MemoryFor of the largest frames there are), one stream at a time.
  archive::Manifest largest;
  largest.frames.push_back(archive::FrameInfo{.offset = 0, .stored_size = 1ull << 40,
                                              .raw_size = 1ull << 40, .crc32c = 0, .stored = false});
  const uint64_t bound = kBudget + kWholeLimit + archive::EntryStream::MemoryFor(largest);
  const uint64_t peak = ex.budget().peak();
  std::printf("restore: budget %llu, peak %llu, bound %llu (%.2f s)\n",
              static_cast<unsigned long long>(kBudget), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(bound), seconds);
  EXPECT_LE(peak, bound);
  EXPECT_GT(peak, 0u);

  // (c) Nothing left in the budget.
  EXPECT_EQ(ex.budget().in_use(), 0u);
}

// A large entry's parts are object bytes held in memory while they upload (tasks of the
// executor, up to (part_threads + 1) x part_size: unpack_pipeline.h, PartUploader), so they
// belong in the budget (executor.h: every task that holds object bytes acquires them there
// first), as UnpackArchive reserves them for its large entries (LargeWrite::Held through
// EntryWriters::WaitRoom). While a full part of a large entry uploads, at least its bytes must
// be in use.
TEST_F(RestoreBudgetTest, ALargeEntrysPartsAreInTheBudgetWhileTheyUpload) {
  const std::vector<CatalogEntry> rows = BackUp();
  ASSERT_EQ(rows.size(), 303u);
  testing::SizelessChunkedStore dst;  // chunked writes that take parts of any size
  transfer::Executor ex(transfer::ExecutorOptions{.concurrency = 4, .memory_budget = kBudget});
  std::atomic<uint64_t> least_during_parts{UINT64_MAX};
  std::atomic<uint64_t> most_during_parts{0};
  dst.part_hook = [&](int part_number) {
    if (part_number <= 6) {  // parts 1-6 of every large entry are full (6 MiB and a few bytes)
      const uint64_t now = ex.budget().in_use();
      uint64_t seen = least_during_parts.load();
      while (now < seen && !least_during_parts.compare_exchange_weak(seen, now)) {
      }
      seen = most_during_parts.load();
      while (now > seen && !most_during_parts.compare_exchange_weak(seen, now)) {
      }
    }
    return Status::Ok();
  };
  auto r = RestoreEntries(backup_, rows, dst, Restoring(ex), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(dst.committed.load(), 3);
  for (const auto& [key, body] : bodies_) {
    const auto got = dst.Contents(key);
    ASSERT_TRUE(got.has_value()) << key;
    EXPECT_TRUE(*got == body) << key;
  }
  ASSERT_NE(least_during_parts.load(), UINT64_MAX);  // parts were seen
  std::printf("restore: in use while a full 1 MiB part uploads: least %llu, most %llu; peak %llu\n",
              static_cast<unsigned long long>(least_during_parts.load()),
              static_cast<unsigned long long>(most_during_parts.load()),
              static_cast<unsigned long long>(ex.budget().peak()));
  EXPECT_GE(least_during_parts.load(), kPartSize);
  EXPECT_EQ(ex.budget().in_use(), 0u);
}

}  // namespace
}  // namespace ferry::backup
