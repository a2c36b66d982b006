// The fixture of the backup module's tests (backup_test.cc, restore_report_test.cc): memory
// backends for the source, the backup location and the destination, a SQLite catalog, and
// Backup(), which packs objects into an archive and records it as a backup run does.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "archive/io.h"
#include "backup/backup.h"
#include "backup/restore.h"
#include "checksum/checksum.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/test_executor.h"
#include "transport/pack.h"

namespace ferry::backup::fixture {

// Restore options on the test binary's executor.
inline RestoreOptions Restoring() {
  RestoreOptions o;
  o.executor = &ferry::testing::TestExecutor();
  return o;
}

using storage::MemoryBackend;
using storage::ObjectInfo;
using Clock = std::chrono::system_clock;

// A memory store with S3 Object Lock (it keeps each write's retention and legal hold).
inline MemoryBackend::Options WithObjectLock() {
  MemoryBackend::Options o;
  o.object_lock = true;
  return o;
}

inline std::string Body(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 16);
  return s;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-backup-" + std::to_string(std::random_device{}()));
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

  // Writes `n` objects of `size` bytes (plus `large`, if given, of that size) with metadata to
  // src_, packs them into archive `key` of backup_ (small entries share 64 KiB frames, large
  // ones span 1 MiB frames) and records it in the catalog, backed up at `backed_up_ms` (-1:
  // now); returns the archive's size.
  uint64_t Backup(const std::string& key, int n, size_t size, size_t large, int seed,
                  int64_t backed_up_ms) {
    std::vector<ObjectInfo> listed;
    auto put = [&](const std::string& k, const std::string& body, int i) {
      storage::WriteSpec spec;
      spec.size = body.size();
      spec.content.content_type = "text/csv";
      spec.content.content_disposition = "attachment";
      spec.metadata = {{"owner", "ops"}, {"n", std::to_string(i)}};
      spec.tags = storage::Tags{{"team", "a b"}, {"x", ""}};
      spec.storage_class = "STANDARD_IA";
      spec.mtime = Clock::time_point(std::chrono::seconds(1'700'000'000 + i));
      if (auto lock = locks_.find(k); lock != locks_.end()) spec.lock = lock->second;
      ASSERT_TRUE(src_.Put(k, checksum::AsBytes(body), spec, {}).ok());
      bodies_[k] = body;
      auto info = src_.Stat(k, false, {});
      ASSERT_TRUE(info.ok());
      info->lock = {};  // as a listing: the pack's own reads see the lock
      listed.push_back(*info);
    };
    for (int i = 0; i < n; ++i) {
      put("d/" + std::to_string(1000 + i) + (i == 3 ? " ünï +%.csv" : ".csv"),
          Body(size + static_cast<size_t>(i), seed + i), i);
    }
    if (large > 0) put("d/large.bin", Body(large, seed - 1), 9999);
    archive::StringSink sink;
    transport::PackOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.writer.threads = 1;
    o.writer.small_limit = 16 << 10;
    o.writer.frame_size = 64 << 10;
    if (large > 0) o.writer.frame_size = 1 << 20;
    auto packed = transport::PackObjects(src_, listed, sink, o, {});
    EXPECT_TRUE(packed.ok()) << packed.status().message();
    storage::WriteSpec spec;
    spec.size = sink.bytes.size();
    EXPECT_TRUE(backup_.Put(key, checksum::AsBytes(sink.bytes), spec, {}).ok());
    if (backed_up_ms < 0) {
      backed_up_ms = Clock::now().time_since_epoch() / std::chrono::milliseconds(1);
    }
    auto row = RecordBackupArchive(*catalog_, backup_,
                                   {.location = kLoc,
                                    .archive = key,
                                    .archive_bytes = sink.bytes.size(),
                                    .backed_up_ms = backed_up_ms},
                                   {});
    EXPECT_TRUE(row.ok()) << row.status().message();
    return sink.bytes.size();
  }

  std::vector<CatalogEntry> All() {
    std::vector<CatalogEntry> out;
    EXPECT_TRUE(catalog_->Visit(kLoc, "", [&](const CatalogEntry& e) {
                          out.push_back(e);
                          return Status::Ok();
                        }).ok());
    return out;
  }
  std::vector<CatalogEntry> LatestOf(const std::string& prefix) {
    std::vector<CatalogEntry> out;
    for (const CatalogEntry& e : All()) {
      if (!e.key.starts_with(prefix)) continue;
      if (out.empty() || out.back().key != e.key) out.push_back(e);  // newest first per key
    }
    return out;
  }

  static constexpr const char* kLoc = "rb:backup/p/";
  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<CatalogStore> catalog_;
  MemoryBackend src_{WithObjectLock()}, backup_, dst_{WithObjectLock()};
  std::map<std::string, std::string> bodies_;
  std::map<std::string, storage::ObjectLock> locks_;  // of the objects Backup writes
};

// A destination that refuses the write of one key (while `refuse`).
class RefusesOneKey : public MemoryBackend {
 public:
  explicit RefusesOneKey(std::string key) : key_(std::move(key)) {}
  Result<storage::WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                                   const storage::WriteSpec& spec, std::stop_token stop) override {
    if (refuse && key == key_) return Status::Unavailable("injected refusal");
    return MemoryBackend::Put(key, data, spec, stop);
  }
  bool refuse = true;

 private:
  std::string key_;
};

}  // namespace ferry::backup::fixture
