// --backup-dir (transfer/backup_dir.h) on MemoryBackends: what a run replaces or deletes on the
// destination is copied into the backup location first, and a failed backup copy leaves the
// destination object untouched (the run fails); the location may not overlap the destination.
#include <gtest/gtest.h>

#include <string>

#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transfer/backup_dir.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;

struct BackupFixture {
  ferry::testing::FakeClock clock;
  MemoryBackend src{Opts("a")};
  MemoryBackend dst{Opts("b")};
  MemoryBackend backup{Opts("b")};  // the destination's store: copies on the server
  BackupFixture() {
    Put(dst, "changed", Bytes(100, 1));
    Put(dst, "extra", Bytes(50, 2));
    Put(dst, "same", Bytes(30, 3));
    clock.Advance(std::chrono::seconds(10));
    Put(src, "changed", Bytes(120, 4));
    Put(src, "same", Bytes(30, 3));
    Put(src, "new", Bytes(10, 5));
  }
  MemoryBackend::Options Opts(const char* endpoint) {
    MemoryBackend::Options o = testing::SmallParts(endpoint);
    o.clock = &clock;
    return o;
  }
  SyncOptions Options() {
    SyncOptions o;
    o.transfer.part_size = 4096;
    o.transfer.multipart_threshold = 10000;
    o.delete_extra = true;
    o.transfer.decide.delete_extra = true;
    o.backup = {.backup = &backup, .suffix = ".bak"};
    o.clock = &clock;
    return o;
  }
  SyncResult Sync(const SyncOptions& o, Stats& stats) {
    return RunSync(ferry::testing::TestExecutor(), src, dst, o, stats, {});
  }
};

TEST(BackupDirTest, ReplacedAndDeletedObjectsAreKeptFirst) {
  BackupFixture f;
  Stats stats;
  SyncResult r = f.Sync(f.Options(), stats);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(f.backup.Contents("changed.bak"), Bytes(100, 1));  // the version replaced
  EXPECT_EQ(f.backup.Contents("extra.bak"), Bytes(50, 2));     // the object deleted
  EXPECT_EQ(f.backup.Keys().size(), 2u);  // nothing else: "new" replaced nothing
  EXPECT_EQ(stats.backups_kept.load(), 2u);
  EXPECT_EQ(f.dst.Contents("changed"), Bytes(120, 4));
  EXPECT_FALSE(f.dst.Contents("extra").has_value());
}

TEST(BackupDirTest, AFailedBackupLeavesTheDestinationUntouched) {
  BackupFixture f;
  f.backup.FailNext(MemoryBackend::kCopyFrom, 100, Status::Internal("backup bucket full"));
  Stats stats;
  f.Sync(f.Options(), stats);
  EXPECT_GE(stats.failures(), 1u);  // the run fails
  EXPECT_EQ(f.dst.Contents("changed"), Bytes(100, 1));  // not replaced
  EXPECT_EQ(f.dst.Contents("extra"), Bytes(50, 2));     // not deleted (a failed run never does)
  EXPECT_EQ(f.dst.Contents("new"), Bytes(10, 5));       // replacing nothing needs no backup
  EXPECT_TRUE(f.backup.Keys().empty());
}

TEST(BackupDirTest, AFailedBackupOfADeleteKeepsTheObject) {
  BackupFixture f;
  Put(f.src, "changed", Bytes(100, 1));  // nothing to replace: only the delete of "extra"
  f.clock.Advance(std::chrono::seconds(10));
  Put(f.dst, "changed", Bytes(100, 1));
  f.backup.FailNext(MemoryBackend::kCopyFrom, 100, Status::Internal("backup bucket full"));
  Stats stats;
  f.Sync(f.Options(), stats);
  ASSERT_EQ(stats.failures(), 1u);
  EXPECT_EQ(stats.KeptFailures()[0].key, "extra");
  EXPECT_EQ(f.dst.Contents("extra"), Bytes(50, 2));
  EXPECT_EQ(f.dst.counts().deletes, 0);
}

TEST(BackupDirTest, ABackupCopyIsPinnedToTheListedObject) {
  BackupFixture f;
  // The destination's "changed" is replaced behind the run's back after the listing: the
  // backup copy (pinned to the listed ETag) fails, and so the overwrite.
  storage::ObjectInfo listed;
  listed.key = "changed";
  listed.etag = "not-the-etag";
  Stats stats;
  BackupDir dir({.backup = &f.backup, .suffix = ""}, f.dst, stats);
  EXPECT_FALSE(dir.Keep(listed, {}).ok());
  bool wrote = false;
  auto fence = dir.BeforeWrite(listed, [&wrote] { wrote = true; return Status::Ok(); }, {});
  EXPECT_FALSE(fence().ok());
  EXPECT_FALSE(wrote);  // the fence after it never ran: nothing is written
  EXPECT_TRUE(f.backup.Keys().empty());
}

TEST(BackupDirTest, TheLocationMayNotOverlapTheDestination) {
  EXPECT_FALSE(CheckBackupLocation({"b", "data/old"}, {"b", "data"}).ok());
  EXPECT_FALSE(CheckBackupLocation({"b", "data"}, {"b", "data/new"}).ok());
  EXPECT_FALSE(CheckBackupLocation({"b", ""}, {"b", "data"}).ok());
  EXPECT_FALSE(CheckBackupLocation({"b", "data/"}, {"b", "data"}).ok());
  Status s = CheckBackupLocation({"b", "x"}, {"b", ""});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("--backup-dir"), std::string::npos);
  EXPECT_TRUE(CheckBackupLocation({"b", "data-old"}, {"b", "data"}).ok());
  EXPECT_TRUE(CheckBackupLocation({"b", "backup"}, {"b", "data"}).ok());
  EXPECT_TRUE(CheckBackupLocation({"other", "data"}, {"b", "data"}).ok());
  EXPECT_TRUE(LocationsOverlap({"", "/srv/a/"}, {"", "/srv/a/b/"}));
  EXPECT_FALSE(LocationsOverlap({"", "/srv/a/"}, {"", "/srv/ab/"}));
}

}  // namespace
}  // namespace ferry::transfer
