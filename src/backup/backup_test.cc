// Backup mode on memory backends and a SQLite catalog: the incremental selection, an archive's
// catalog rows read back from its manifest, the catalog rebuilt from manifests, and restores
// that read only the frames of what they restore, checked and with every piece of metadata.
#include "backup/backup.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

#include "archive/backend_io.h"
#include "archive/io.h"
#include "checksum/checksum.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "transport/pack.h"
#include "backup/restore.h"
#include "backup/backup_test_fixture.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"

namespace ferry::backup {
namespace {

using namespace fixture;  // Restoring, Body, BackupTest, ... (backup_test_fixture.h)

CatalogEntry Latest(uint64_t size, std::string etag, int64_t backed_up_ms, int64_t mtime_ns = 0) {
  CatalogEntry e;
  e.size = size;
  e.etag = std::move(etag);
  e.backed_up_ms = backed_up_ms;
  e.mtime_ns = mtime_ns;
  return e;
}

ObjectInfo Listed(uint64_t size, std::string etag, int64_t mtime_ms) {
  ObjectInfo o;
  o.key = "k";
  o.size = size;
  o.etag = std::move(etag);
  o.mtime = Clock::time_point(std::chrono::milliseconds(mtime_ms));
  return o;
}

TEST(NeedsBackupTest, ComparesSizeEtagAndTimes) {
  const std::string md5 = "0123456789abcdef0123456789abcdef";
  const CatalogEntry old = Latest(10, md5, 5'000);
  EXPECT_EQ(NeedsBackup(Listed(10, md5, 4'000), nullptr).reason, "missing");
  EXPECT_EQ(NeedsBackup(Listed(11, md5, 4'000), &old).reason, "size differs");
  EXPECT_EQ(NeedsBackup(Listed(10, "ffff" + md5.substr(4), 4'000), &old).reason, "etag differs");
  // Same bytes, rewritten (metadata or tags changed by a copy onto itself) after the backup.
  EXPECT_EQ(NeedsBackup(Listed(10, md5, 5'001), &old).reason, "modified since backup");
  const BackupVerdict same =
      NeedsBackup(Listed(10, "0123456789ABCDEF0123456789ABCDEF", 5'000), &old);
  EXPECT_FALSE(same.pack);
  EXPECT_EQ(same.reason, "unchanged");
  // Local files: no ETag; the modification time in whole seconds decides.
  const CatalogEntry file = Latest(10, "", 9'000'000, 7'000'900'000'000);
  EXPECT_FALSE(NeedsBackup(Listed(10, "", 7'000'100), &file).pack);
  EXPECT_EQ(NeedsBackup(Listed(10, "", 7'001'000), &file).reason, "mtime differs");
}

// A source listing from a vector.
class VectorCursor : public storage::ListingCursor {
 public:
  explicit VectorCursor(std::vector<ObjectInfo> objects) : objects_(std::move(objects)) {}
  Result<const ObjectInfo*> Next() override {
    if (at_ == objects_.size()) return static_cast<const ObjectInfo*>(nullptr);
    return &objects_[at_++];
  }

 private:
  std::vector<ObjectInfo> objects_;
  size_t at_ = 0;
};

TEST_F(BackupTest, RecordsEveryEntryWithWhereItsFramesAre) {
  const uint64_t bytes = Backup("1.fza", 40, 3000, 0, 1, 1234);
  const auto rows = All();
  ASSERT_EQ(rows.size(), 40u);
  auto archives = catalog_->Archives(kLoc);
  ASSERT_EQ(archives->size(), 1u);
  EXPECT_EQ(archives->front().archive_bytes, bytes);
  uint64_t frames_seen = 0;
  for (const CatalogEntry& e : rows) {
    EXPECT_EQ(e.archive, "1.fza");
    EXPECT_EQ(e.backed_up_ms, 1234);
    EXPECT_EQ(e.crc32c, checksum::Crc32c(checksum::AsBytes(bodies_[e.key])));
    EXPECT_EQ(e.etag, src_.Stat(e.key, false, {})->etag);
    EXPECT_GE(e.data_offset, 24u);
    EXPECT_LT(e.data_offset + e.data_bytes, bytes);
    EXPECT_EQ(e.frame_count, 1u);
    frames_seen = std::max(frames_seen, e.first_frame + 1);
  }
  EXPECT_GT(frames_seen, 1u);  // 120 KB in 64 KiB frames: entries share several frames
}

TEST_F(BackupTest, ChangedObjectsYieldsOnlyWhatTheCatalogLacks) {
  Backup("1.fza", 450, 100, 0, 7, -1);  // backed up now, after the objects were written
  std::vector<ObjectInfo> listing;
  auto cursor = src_.List("");
  for (;;) {
    auto o = (*cursor)->Next();
    ASSERT_TRUE(o.ok());
    if (*o == nullptr) break;
    listing.push_back(**o);
  }
  ASSERT_EQ(listing.size(), 450u);
  listing[10].etag = "ffffffffffffffffffffffffffffffff";  // changed content
  listing[300].size += 1;
  ObjectInfo fresh = listing[5];
  fresh.key += "-new";  // never backed up (listing order does not matter to the selection)
  listing.insert(listing.begin() + 6, fresh);
  VectorCursor inner(listing);
  ChangedObjects changed(inner, *catalog_, kLoc);
  std::vector<std::string> keys;
  for (;;) {
    auto o = changed.Next();
    ASSERT_TRUE(o.ok()) << o.status().message();
    if (*o == nullptr) break;
    keys.push_back((*o)->key);
  }
  EXPECT_EQ(keys, (std::vector<std::string>{fresh.key, listing[11].key, listing[301].key}));
  EXPECT_EQ(changed.unchanged(), 448u);
}

// A listing that fails after `ok` keys.
class FailingCursor : public storage::ListingCursor {
 public:
  FailingCursor(std::vector<ObjectInfo> objects, size_t ok)
      : objects_(std::move(objects)), ok_(ok) {}
  Result<const ObjectInfo*> Next() override {
    if (at_ == ok_) return Status::Unavailable("listing: connection reset");
    if (at_ == objects_.size()) return static_cast<const ObjectInfo*>(nullptr);
    return &objects_[at_++];
  }

 private:
  std::vector<ObjectInfo> objects_;
  size_t ok_;
  size_t at_ = 0;
};

TEST_F(BackupTest, ChangedObjectsNotesTheLiveKeysItsListingLacks) {
  ferry::testing::FakeClock at_9000{Clock::time_point(std::chrono::milliseconds(9000))};
  Backup("1.fza", 450, 100, 0, 7, -1);
  std::vector<ObjectInfo> listing;
  auto cursor = src_.List("");
  for (;;) {
    auto o = (*cursor)->Next();
    ASSERT_TRUE(o.ok());
    if (*o == nullptr) break;
    listing.push_back(**o);
  }
  ASSERT_EQ(listing.size(), 450u);
  const std::string first = listing[0].key, tenth = listing[10].key, mid = listing[300].key,
                    last = listing[449].key;
  std::vector<ObjectInfo> shown = listing;
  shown.erase(shown.begin() + 449);
  shown.erase(shown.begin() + 300);
  shown.erase(shown.begin() + 10);
  shown.erase(shown.begin());
  auto drain = [](ChangedObjects& c) -> Status {
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, c.Next());
      if (o == nullptr) return Status::Ok();
    }
  };
  // A listing that fails at the 250th key: only the first batch's interval (keys up to the
  // 200th listed) was seen whole; the keys missing there are noted, nothing after.
  {
    FailingCursor failing(shown, 250);
    ChangedObjects c(failing, *catalog_, kLoc,
                     GoneTracking{.run = 4, .start_after = "", .covered_to = nullptr,
                                  .clock = &at_9000});
    EXPECT_EQ(drain(c).code(), ErrorCode::kUnavailable);
    EXPECT_EQ(c.noted_gone(), 2u);  // the first and the tenth key
  }
  ASSERT_TRUE(catalog_->DiscardGone(kLoc, 4).ok());
  // A chunk cut after its first 100 keys covers up to its last key only.
  {
    VectorCursor part(std::vector<ObjectInfo>(shown.begin(), shown.begin() + 100));
    const std::string boundary = shown[99].key;
    ChangedObjects c(part, *catalog_, kLoc,
                     GoneTracking{.run = 5, .start_after = "", .covered_to = [&] {
                                    return std::optional<std::string>(boundary);
                                  },
                                  .clock = &at_9000});
    ASSERT_TRUE(drain(c).ok());
    EXPECT_EQ(c.noted_gone(), 2u);
  }
  ASSERT_TRUE(catalog_->DiscardGone(kLoc, 5).ok());
  // The whole listing: the four keys it lacks, tombstones once committed.
  VectorCursor whole(shown);
  ChangedObjects c(whole, *catalog_, kLoc,
                   GoneTracking{.run = 6, .start_after = "", .covered_to = nullptr,
                                .clock = nullptr});
  ASSERT_TRUE(drain(c).ok());
  EXPECT_EQ(c.noted_gone(), 4u);
  EXPECT_EQ(c.unchanged(), 446u);
  ASSERT_EQ(*catalog_->CommitGone(kLoc, 6), 4u);
  auto tombstones = catalog_->Tombstones(kLoc, "");
  ASSERT_TRUE(tombstones.ok());
  std::vector<std::string> gone;
  for (const Tombstone& t : tombstones.value()) gone.push_back(t.key);
  EXPECT_EQ(gone, (std::vector<std::string>{first, tenth, mid, last}));
  // Listed again later, a deleted key is packed again (a new version); the others are not.
  VectorCursor again(listing);
  ChangedObjects next(again, *catalog_, kLoc);
  std::vector<std::string> packed;
  for (;;) {
    auto o = next.Next();
    ASSERT_TRUE(o.ok());
    if (*o == nullptr) break;
    packed.push_back((*o)->key);
  }
  EXPECT_EQ(packed, (std::vector<std::string>{first, tenth, mid, last}));
}

// A folder replaced by a symbolic link to it (a local source: not followed) or one that cannot
// be read: the keys backed up under it are unknown now, not gone. Before, they were noted gone,
// tombstoned, and `catalog prune --keep-last 1` deleted the only backups of live data.
TEST_F(BackupTest, KeysUnderAFolderNotFollowedOrUnreadableAreNotNotedGone) {
  ferry::testing::FakeClock at_9000{Clock::time_point(std::chrono::milliseconds(9000))};
  std::vector<std::string> keys;
  for (int i = 0; i < 199; ++i) keys.push_back("a/" + std::to_string(1000 + i));
  for (const char* k : {"link/k1", "link/k2", "link/sub/k3", "m-gone", "sad/k4", "z"}) {
    keys.push_back(k);
  }
  std::vector<CatalogEntry> rows;
  for (const std::string& k : keys) {
    CatalogEntry e;
    e.location = kLoc;
    e.key = k;
    e.size = 1;
    e.archive = "x.fza";
    e.entry = rows.size();
    e.backed_up_ms = 1000;
    rows.push_back(e);
  }
  ASSERT_TRUE(catalog_
                  ->RecordArchive(CatalogArchive{.location = kLoc, .archive = "x.fza",
                                                 .entries = rows.size(), .archive_bytes = 1,
                                                 .backed_up_ms = 1000},
                                  rows)
                  .ok());
  // The listing: the 199 "a/" keys, then "link/" (a link to the folder, not followed) as the
  // last entry of the first lookup batch: its keys come in the next interval; then "sad/"
  // (unreadable) and "z". "m-gone" is really gone.
  std::vector<ObjectInfo> listing;
  for (int i = 0; i < 199; ++i) {
    ObjectInfo o;
    o.key = keys[static_cast<size_t>(i)];
    o.size = 1;
    listing.push_back(o);
  }
  ObjectInfo link;
  link.key = "link/";
  link.not_followed = true;
  listing.push_back(link);
  ObjectInfo sad;
  sad.key = "sad/";
  sad.unreadable = "sad: Permission denied";
  listing.push_back(sad);
  ObjectInfo z;
  z.key = "z";
  z.size = 1;
  listing.push_back(z);
  ASSERT_EQ(listing.size(), CatalogStore::kLookupBatch + 2);
  VectorCursor cursor(listing);
  ChangedObjects c(cursor, *catalog_, kLoc,
                   GoneTracking{.run = 7, .start_after = "", .covered_to = nullptr,
                                .clock = &at_9000});
  for (;;) {
    auto o = c.Next();
    ASSERT_TRUE(o.ok()) << o.status().message();
    if (*o == nullptr) break;
  }
  EXPECT_EQ(c.noted_gone(), 1u);
  ASSERT_EQ(*catalog_->CommitGone(kLoc, 7), 1u);
  auto tombstones = catalog_->Tombstones(kLoc, "");
  ASSERT_EQ(tombstones->size(), 1u);
  EXPECT_EQ(tombstones->front().key, "m-gone");
}

TEST_F(BackupTest, RestoresOneObjectReadingOnlyItsFrames) {
  // Entries of about 40 KB, each in frames of its own: an archive of more than 1 MiB.
  const uint64_t archive_bytes = Backup("1.fza", 60, 40000, 0, 3, 1000);
  ASSERT_GT(archive_bytes, archive::kReadAheadToOpen.whole_below);
  const auto rows = LatestOf("d/1003");  // the one with the hostile key
  ASSERT_EQ(rows.size(), 1u);
  auto r = RestoreEntries(backup_, rows, dst_, Restoring(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->objects_written, 1u);
  EXPECT_EQ(r->archives_read, 1u);
  EXPECT_EQ(r->archive_bytes, archive_bytes);
  // The header; the tail (trailer and manifest); the frame that holds it.
  EXPECT_EQ(r->ranged_reads, 3u);
  EXPECT_LT(r->bytes_read, rows[0].data_bytes + (64 << 10) + 4096)
      << r->bytes_read << " of " << archive_bytes;
  const std::string& key = rows[0].key;
  auto got = dst_.Stat(key, true, {});
  ASSERT_TRUE(got.ok());
  auto want = src_.Stat(key, true, {});
  std::string bytes(got->size, '\0');
  ASSERT_TRUE(dst_.ReadAt(key, 0, std::as_writable_bytes(std::span(bytes)), "", {}).ok());
  EXPECT_EQ(bytes, bodies_[key]);
  EXPECT_EQ(got->content, want->content);
  EXPECT_EQ(got->tags, want->tags);
  EXPECT_EQ(got->storage_class, "STANDARD_IA");
  EXPECT_EQ(got->metadata.at("owner"), "ops");
  EXPECT_EQ(got->crc32c(), rows[0].crc32c);
  EXPECT_EQ(got->source_mtime(), want->source_mtime());
}

// A range of the archive corrupted on the way (its frame's checksum refuses it) is read again:
// the restore succeeds. Before, it exited 1 and only a second run restored the object.
TEST_F(BackupTest, ACorruptedArchiveReadIsReadAgain) {
  Backup("1.fza", 3, 2000, 0, 5, 1000);
  const auto rows = LatestOf("d/");
  ASSERT_EQ(rows.size(), 3u);
  backup_.FailNext(MemoryBackend::kRead, 1,
                   Status::DataLoss("corrupt archive: frame 0 checksum mismatch"));
  auto r = RestoreEntries(backup_, rows, dst_, Restoring(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->objects_written, 3u);
  EXPECT_EQ(r->archives_read, 1u);
  for (const CatalogEntry& row : rows) {
    std::string bytes(row.size, '\0');
    ASSERT_TRUE(dst_.ReadAt(row.key, 0, std::as_writable_bytes(std::span(bytes)), "", {}).ok());
    EXPECT_EQ(bytes, bodies_[row.key]);
  }
  // Corrupted every time: one clear failure.
  MemoryBackend other;
  backup_.FailNext(MemoryBackend::kRead, 10,
                   Status::DataLoss("corrupt archive: frame 0 checksum mismatch"));
  EXPECT_EQ(RestoreEntries(backup_, rows, other, Restoring(), {}).status().code(),
            ErrorCode::kDataLoss);
}

TEST_F(BackupTest, RestoresFromASmallArchiveWithOneRead) {
  const uint64_t archive_bytes = Backup("1.fza", 60, 3000, 0, 3, 1000);
  ASSERT_LE(archive_bytes, archive::kReadAheadToOpen.whole_below);
  const auto rows = LatestOf("d/1003");
  ASSERT_EQ(rows.size(), 1u);
  auto r = RestoreEntries(backup_, rows, dst_, Restoring(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->objects_written, 1u);
  EXPECT_EQ(r->ranged_reads, 1u);  // the whole archive, instead of four reads
  EXPECT_EQ(r->bytes_read, archive_bytes);
  std::string bytes(rows[0].size, '\0');
  ASSERT_TRUE(dst_.ReadAt(rows[0].key, 0, std::as_writable_bytes(std::span(bytes)), "", {}).ok());
  EXPECT_EQ(bytes, bodies_[rows[0].key]);
}

// A destination that refuses the PUT of one key.
TEST_F(BackupTest, RestoresManyObjectsAtOnceAndARerunFinishesAfterAFailedWrite) {
  Backup("1.fza", 300, 500, 0, 7, 1000);
  const auto latest = LatestOf("d/");
  ASSERT_EQ(latest.size(), 300u);
  RestoreOptions o = Restoring();
  auto r = RestoreEntries(backup_, latest, dst_, o, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->objects_written, 300u);
  for (const CatalogEntry& row : latest) {
    auto got = dst_.Stat(row.key, true, {});
    ASSERT_TRUE(got.ok()) << row.key;
    std::string bytes(got->size, '\0');
    ASSERT_TRUE(dst_.ReadAt(row.key, 0, std::as_writable_bytes(std::span(bytes)), "", {}).ok());
    EXPECT_EQ(bytes, bodies_[row.key]) << row.key;
    EXPECT_EQ(got->metadata.at("owner"), "ops") << row.key;
    EXPECT_EQ(got->crc32c(), row.crc32c) << row.key;
  }
  // One write refused: the restore fails naming that key; what was written stays.
  RefusesOneKey flaky("d/1150.csv");
  auto failed = RestoreEntries(backup_, latest, flaky, o, {});
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("d/1150.csv"), std::string::npos)
      << failed.status().message();
  EXPECT_FALSE(flaky.Stat("d/1150.csv", false, {}).ok());
  // The rerun writes what is missing and leaves what is there.
  flaky.refuse = false;
  auto rerun = RestoreEntries(backup_, latest, flaky, o, {});
  ASSERT_TRUE(rerun.ok()) << rerun.status().message();
  EXPECT_EQ(rerun->objects_written + rerun->identical, 300u);
  EXPECT_GE(rerun->objects_written, 1u);
  EXPECT_EQ(rerun->kept, 0u);
  for (const CatalogEntry& row : latest) {
    auto got = flaky.Stat(row.key, false, {});
    ASSERT_TRUE(got.ok()) << row.key;
    EXPECT_EQ(got->size, row.size) << row.key;
  }
}

TEST_F(BackupTest, NeverOverwritesATargetThatDiffersWithoutForce) {
  Backup("1.fza", 5, 2000, 0, 4, 1000);
  const auto rows = LatestOf("d/1001");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(RestoreEntries(backup_, rows, dst_, Restoring(), {}).ok());
  // Identical: left as it is, nothing read.
  auto again = RestoreEntries(backup_, rows, dst_, Restoring(), {});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->identical, 1u);
  EXPECT_EQ(again->objects_written, 0u);
  EXPECT_EQ(again->ranged_reads, 0u);
  // Differs: kept and reported, unless forced.
  storage::WriteSpec spec;
  spec.size = 3;
  ASSERT_TRUE(dst_.Put(rows[0].key, checksum::AsBytes(std::string("new")), spec, {}).ok());
  auto kept = RestoreEntries(backup_, rows, dst_, Restoring(), {});
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->kept, 1u);
  EXPECT_EQ(kept->kept_keys, std::vector<std::string>{rows[0].key});
  EXPECT_EQ(dst_.Stat(rows[0].key, false, {})->size, 3u);
  RestoreOptions force = Restoring();
  force.force = true;
  auto forced = RestoreEntries(backup_, rows, dst_, force, {});
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced->overwritten, 1u);
  EXPECT_EQ(dst_.Stat(rows[0].key, false, {})->size, rows[0].size);
}

// A target damaged in place keeps its metadata, its recorded CRC32C included (a stale claim):
// without --force it is read back and found to differ (kept and reported, issue 43 §3: it was
// "identical" from the claim); --force writes it again. Before, --force trusted the recorded
// checksum and left the damaged bytes.
TEST_F(BackupTest, ForceWritesATargetWhoseRecordedChecksumStillMatches) {
  Backup("1.fza", 5, 2000, 0, 4, 1000);
  const auto rows = LatestOf("d/1001");
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_TRUE(RestoreEntries(backup_, rows, dst_, Restoring(), {}).ok());
  auto info = dst_.Stat(rows[0].key, true, {});
  ASSERT_TRUE(info.ok());
  storage::WriteSpec spec;
  spec.size = info->size;
  spec.metadata = info->metadata;  // ferry-crc32c of the good bytes
  const std::string damaged(info->size, 'x');
  ASSERT_TRUE(dst_.Put(rows[0].key, checksum::AsBytes(damaged), spec, {}).ok());
  auto plain = RestoreEntries(backup_, rows, dst_, Restoring(), {});
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->identical, 0u);
  EXPECT_EQ(plain->kept, 1u);
  EXPECT_EQ(dst_.Contents(rows[0].key), damaged);  // never overwritten without --force
  RestoreOptions force = Restoring();
  force.force = true;
  auto forced = RestoreEntries(backup_, rows, dst_, force, {});
  ASSERT_TRUE(forced.ok()) << forced.status().message();
  EXPECT_EQ(forced->overwritten, 1u);
  EXPECT_EQ(forced->objects_written, 1u);
  EXPECT_EQ(dst_.Contents(rows[0].key), bodies_[rows[0].key]);
}

// A prefix restore into a folder: an empty folder marker ("d/") is skipped as sync skips it,
// and a key whose target cannot be looked at fails alone; every other key is restored. Before,
// the first such key failed the whole restore before anything was written.
TEST_F(BackupTest, AKeyThatCannotBeATargetFailsAloneAndMarkersAreSkipped) {
  Backup("1.fza", 4, 500, 0, 5, 1000);
  std::vector<CatalogEntry> rows = LatestOf("d/");
  ASSERT_EQ(rows.size(), 4u);
  CatalogEntry marker = rows[0];
  marker.key = "d/";
  marker.size = 0;
  rows.insert(rows.begin(), marker);
  storage::Features f = storage::MemoryBackendDefaultFeatures();
  f.folder_markers = false;  // as a local folder
  MemoryBackend folder(MemoryBackend::Options{.features = f});
  folder.FailNext(MemoryBackend::kStat, 1, Status::InvalidArgument("d/1000.csv is a folder here"));
  // One at a time: the Stat that fails is the first row's.
  transfer::Executor serial(transfer::ExecutorOptions{.concurrency = 1});
  RestoreOptions one = Restoring();
  one.executor = &serial;
  auto r = RestoreEntries(backup_, rows, folder, one, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->markers_skipped, 1u);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].first, rows[1].key);
  EXPECT_EQ(r->objects_written, 3u);
  for (size_t i = 2; i < rows.size(); ++i) {
    EXPECT_EQ(folder.Contents(rows[i].key), bodies_[rows[i].key]) << rows[i].key;
  }
}

TEST_F(BackupTest, RestoresAPrefixAcrossArchivesAndALargeEntryInParts) {
  Backup("1.fza", 30, 5000, 6 << 20, 5, 1000);  // a 6 MiB entry spans six 1 MiB frames
  Backup("2.fza", 30, 5000, 0, 50, 2000);        // the same small keys, new bytes
  auto latest = LatestOf("d/");
  ASSERT_EQ(latest.size(), 31u);
  RestoreOptions o = Restoring();
  o.whole_limit = 1 << 20;  // the large entry goes through a chunked write (5 MiB parts)
  o.part_size = 5 << 20;
  auto r = RestoreEntries(backup_, latest, dst_, o, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->objects_written, 31u);
  EXPECT_EQ(r->archives_read, 2u);
  for (const auto& [key, body] : bodies_) {  // the latest bytes of every key
    std::string got(body.size(), '\0');
    ASSERT_TRUE(dst_.ReadAt(key, 0, std::as_writable_bytes(std::span(got)), "", {}).ok()) << key;
    EXPECT_EQ(got, body) << key;
  }
  // An older point in time: the keys as the first backup had them.
  std::vector<CatalogEntry> older;
  for (const CatalogEntry& e : All()) {
    if (e.archive == "1.fza" && e.key != "d/large.bin") older.push_back(e);
  }
  RestoreOptions force = Restoring();
  force.force = true;
  auto back = RestoreEntries(backup_, older, dst_, force, {});
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->overwritten, 30u);
  EXPECT_EQ(back->archives_read, 1u);
  // Only the shared frames were read, not the six frames of the large entry.
  EXPECT_LT(back->bytes_read, back->archive_bytes / 4);
}

// The backup records each object's retention and legal hold (archive format 2); a restore
// writes them with preserve_lock only, a retention already over left out (S3 refuses a date in
// the past), small entries (PUT) and a large one (chunked write) alike.
TEST_F(BackupTest, RestoresTheRecordedLockOnlyWhenAsked) {
  const auto future = std::chrono::time_point_cast<std::chrono::milliseconds>(
      Clock::now() + std::chrono::hours(24 * 365));
  const auto past = Clock::time_point(std::chrono::seconds(1'000'000'000));
  locks_["d/1000.csv"] = {.mode = "GOVERNANCE", .retain_until = future, .legal_hold = true};
  locks_["d/1001.csv"] = {.mode = "COMPLIANCE", .retain_until = past, .legal_hold = false};
  locks_["d/1002.csv"] = {.mode = "", .retain_until = {}, .legal_hold = true};
  locks_["d/large.bin"] = {.mode = "COMPLIANCE", .retain_until = future, .legal_hold = false};
  Backup("1.fza", 4, 2000, 6 << 20, 5, 1000);
  const auto latest = LatestOf("d/");
  ASSERT_EQ(latest.size(), 5u);
  RestoreOptions o = Restoring();
  o.whole_limit = 1 << 20;  // the large entry goes through a chunked write
  o.part_size = 5 << 20;
  MemoryBackend without(WithObjectLock());
  auto plain = RestoreEntries(backup_, latest, without, o, {});
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  o.preserve_lock = true;
  auto r = RestoreEntries(backup_, latest, dst_, o, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->objects_written, 5u);
  EXPECT_EQ(dst_.counts().commits, 1);
  for (const CatalogEntry& row : latest) {
    SCOPED_TRACE(row.key);
    auto got = dst_.Stat(row.key, false, {});
    ASSERT_TRUE(got.ok());
    storage::ObjectLock want;
    if (row.key != "d/1001.csv" && locks_.count(row.key) > 0) want = locks_[row.key];
    EXPECT_EQ(got->lock, want);
    EXPECT_EQ(dst_.Contents(row.key), bodies_[row.key]);
    auto unlocked = without.Stat(row.key, false, {});
    ASSERT_TRUE(unlocked.ok());
    EXPECT_FALSE(unlocked->lock.any());  // not asked for: none
  }
}

TEST_F(BackupTest, RebuildsTheCatalogFromTheManifests) {
  Backup("1.fza", 10, 1000, 0, 8, 1000);
  Backup("sub/2.fza", 5, 1000, 0, 9, 2000);
  const auto before = All();
  storage::WriteSpec spec;
  spec.size = 4;
  ASSERT_TRUE(backup_.Put("notes.txt", checksum::AsBytes(std::string("keep")), spec, {}).ok());
  spec.size = 100;
  ASSERT_TRUE(backup_.Put("bad.fza", checksum::AsBytes(std::string(100, 'x')), spec, {}).ok());
  // A lost state file: a new, empty catalog (and one row of an archive that is gone).
  catalog_.reset();
  session_.reset();
  std::filesystem::remove_all(dir_);
  session_ = std::move(state::OpenSqliteSession((dir_ / "state.db").string())).value();
  catalog_ = std::move(CatalogStore::Open(*session_)).value();
  ASSERT_TRUE(catalog_->RecordArchive(CatalogArchive{.location = kLoc, .archive = "gone.fza",
                                                     .entries = 0, .archive_bytes = 1,
                                                     .backed_up_ms = 1},
                                      {})
                  .ok());
  auto r = RebuildCatalog(*catalog_, backup_, kLoc, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->archives, 2u);
  EXPECT_EQ(r->entries, 15u);
  EXPECT_EQ(r->forgotten, 1u);
  ASSERT_EQ(r->failed.size(), 1u);
  EXPECT_TRUE(r->failed[0].starts_with("bad.fza: ")) << r->failed[0];
  auto after = All();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    // Everything but the backed-up time (now the archive's LastModified) is as recorded.
    CatalogEntry a = after[i], b = before[i];
    a.backed_up_ms = b.backed_up_ms = 0;
    EXPECT_EQ(a, b) << a.key;
  }
  // And a restore reads from it.
  auto rows = LatestOf("d/1002");
  ASSERT_TRUE(RestoreEntries(backup_, rows, dst_, Restoring(), {}).ok());
  EXPECT_TRUE(dst_.Stat(rows[0].key, false, {}).ok());
}

TEST_F(BackupTest, AStaleCatalogOrAMissingArchiveIsOneClearError) {
  Backup("1.fza", 4, 1000, 0, 11, 1000);
  auto rows = LatestOf("d/1000");
  CatalogEntry stale = rows[0];
  stale.entry = 2;  // another key sits there
  auto r = RestoreEntries(backup_, std::vector<CatalogEntry>{stale}, dst_, Restoring(), {});
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.status().message().find("ferry catalog rebuild"), std::string::npos);
  ASSERT_TRUE(backup_.Delete("1.fza", {}).ok());
  r = RestoreEntries(backup_, rows, dst_, Restoring(), {});
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("1.fza"), std::string::npos);
  EXPECT_FALSE(dst_.Stat(rows[0].key, false, {}).ok());
}

}  // namespace
}  // namespace ferry::backup
