// The unpack state machine on memory backends: every entry written with its metadata and the
// archive deleted; a crash between checkpoints resumed without writing anything twice; only
// the entries of the unpacker's region; a corrupt entry never visible; the progress store's
// rows on SQLite.
#include "transport/unpack.h"
#include "transport/unpack_testing.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <thread>

#include "archive/io.h"
#include "archive/reader.h"
#include "checksum/checksum.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "transport/pack.h"
#include "testing/test_executor.h"

namespace ferry::transport {
namespace {

using storage::MemoryBackend;

std::string Text(size_t n, int seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>('a' + rng() % 4);
  return s;
}

using test_support::MemoryJournal;

class UnpackTest : public ::testing::Test {
 protected:
  // Packs `n` objects of `src` (written first) into the archive "a.fza" of staging_.
  void Stage(int n, size_t size, std::vector<std::string> destinations = {}) {
    std::vector<storage::ObjectInfo> listed;
    for (int i = 0; i < n; ++i) {
      storage::WriteSpec spec;
      const std::string body = Text(size + static_cast<size_t>(i), i);
      spec.size = body.size();
      spec.content.content_type = "text/csv";
      spec.content.cache_control = "max-age=60";
      spec.metadata = {{"owner", "ops"}, {"n", std::to_string(i)}};
      spec.tags = storage::Tags{{"team", "a b"}, {"x", ""}};
      spec.storage_class = "STANDARD_IA";
      const std::string key = "k/" + std::to_string(i) + (i == 1 ? " ünï +%.txt" : ".csv");
      ASSERT_TRUE(src_.Put(key, checksum::AsBytes(body), spec, {}).ok());
      auto info = src_.Stat(key, false, {});
      ASSERT_TRUE(info.ok());
      listed.push_back(*info);
    }
    archive::StringSink sink;
    PackOptions o = test_support::OneThreadPacking();
    o.destinations = std::move(destinations);
    auto packed = PackObjects(src_, listed, sink, o, {});
    ASSERT_TRUE(packed.ok()) << packed.status().message();
    EXPECT_EQ(packed->summary.entries, static_cast<uint64_t>(n));
    archive_ = sink.bytes;
    storage::WriteSpec spec;
    spec.size = archive_.size();
    ASSERT_TRUE(staging_.Put("a.fza", checksum::AsBytes(archive_), spec, {}).ok());
  }

  UnpackOptions Options() {
    UnpackOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.whole_limit = 64 << 10;
    o.part_size = 5 << 20;
    o.checkpoint_every = 2;
    return o;
  }

  MemoryBackend src_, staging_, dst_;
  std::string archive_;
};

TEST_F(UnpackTest, WritesEveryEntryWithItsMetadataThenDeletesTheArchive) {
  Stage(3, 100);
  MemoryJournal journal;
  auto r = UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->written, 3u);
  EXPECT_EQ(r->checksums_verified, 3u);
  EXPECT_TRUE(journal.done);
  EXPECT_FALSE(staging_.Contents("a.fza").has_value());
  for (const std::string key : {"k/0.csv", "k/1 ünï +%.txt", "k/2.csv"}) {
    auto a = src_.Stat(key, true, {});
    auto b = dst_.Stat(key, true, {});
    ASSERT_TRUE(a.ok() && b.ok()) << key;
    EXPECT_EQ(src_.Contents(key), dst_.Contents(key));
    EXPECT_EQ(a->content, b->content);
    EXPECT_EQ(a->tags, b->tags);
    EXPECT_EQ(a->storage_class, b->storage_class);
    EXPECT_EQ(b->metadata.at("owner"), "ops");
    EXPECT_EQ(b->metadata.at("n"), a->metadata.at("n"));
    EXPECT_EQ(b->crc32c(),
              checksum::Crc32c(checksum::AsBytes(*src_.Contents(key))));
  }
}

TEST_F(UnpackTest, LargeEntriesGoThroughAChunkedWrite) {
  Stage(1, 6 << 20);
  MemoryJournal journal;
  auto r = UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(dst_.counts().puts, 0);
  EXPECT_EQ(dst_.counts().commits, 1);
  EXPECT_EQ(dst_.Contents("k/0.csv"), src_.Contents("k/0.csv"));
}

TEST_F(UnpackTest, ACrashBetweenCheckpointsResumesWithoutWritingTwice) {
  Stage(40, 50);
  UnpackOptions o = Options();
  o.window = 8;
  for (int crash_at : {2, 3, 4, 6}) {  // record 1 marks the start
    SCOPED_TRACE(crash_at);
    dst_.ResetCounts();
    for (const std::string& k : dst_.Keys()) ASSERT_TRUE(dst_.Delete(k, {}).ok());
    ASSERT_TRUE(staging_.Put("a.fza", checksum::AsBytes(archive_),
                             storage::WriteSpec{.size = archive_.size(), .content = {},
                                                .metadata = {}, .tags = {}, .storage_class = {},
                                                .mtime = {}, .content_md5 = {}},
                             {})
                    .ok());
    MemoryJournal journal;
    journal.fail_at = crash_at;  // the journal stops there, writes in flight go on: a crash
    auto first = UnpackArchive(staging_, "a.fza", dst_, journal, o, {});
    ASSERT_FALSE(first.ok());
    const int written_first = dst_.counts().puts;
    const uint64_t mark = journal.mark.value_or(0);
    // Entries past the watermark were written, but never beyond the window.
    EXPECT_LE(static_cast<uint64_t>(written_first), mark + o.window);
    journal.fail_at = 0;
    journal.records = 0;
    auto again = UnpackArchive(staging_, "a.fza", dst_, journal, o, {});
    ASSERT_TRUE(again.ok()) << again.status().message();
    // Every entry written exactly once over both attempts; those after the watermark that the
    // first wrote were recognised.
    EXPECT_EQ(dst_.counts().puts, 40);
    EXPECT_EQ(again->already_present, static_cast<uint64_t>(written_first) - mark);
    EXPECT_GT(static_cast<uint64_t>(written_first), mark);  // the case the Stat is there for
    EXPECT_EQ(dst_.Keys().size(), 40u);
    EXPECT_FALSE(staging_.Contents("a.fza").has_value());
  }
}

// A retry looks at the entries of its window for what the crashed attempt wrote. An object of
// the same bytes that an earlier run wrote (the source then had other metadata: a metadata-only
// change, a CopyObject onto itself, keeps the bytes) is not this entry: it must be written
// again, or the destination keeps the old metadata while its run is done (found by
// tests/tools/convergence_transport.py, BUG_UNPACK_SAME_BYTES: a retried unpack of region B
// kept a key's old metadata and Content-Type). The entry written by the crashed attempt carries
// the entry's ferry-mtime (the source's mtime) and is still recognised.
TEST_F(UnpackTest, ARetryRewritesAnEarlierObjectOfTheSameBytesButNotItsOwnWrite) {
  Stage(3, 100);
  for (const std::string key : {"k/0.csv", "k/1 ünï +%.txt", "k/2.csv"}) {
    const std::string body = *src_.Contents(key);
    storage::WriteSpec old;
    old.size = body.size();
    old.content.content_type = "image/jpeg";
    old.metadata = {{"owner", "before"},
                    {storage::kMetaCrc32c, checksum::Hex32(checksum::Crc32c(
                                               checksum::AsBytes(body)))},
                    {storage::kMetaMtime, "1000000"}};
    ASSERT_TRUE(dst_.Put(key, checksum::AsBytes(body), old, {}).ok());
  }
  // The written entry k/1 (the crashed attempt's write) is there as this archive wrote it.
  {
    MemoryJournal full;
    MemoryBackend once;
    ASSERT_TRUE(UnpackArchive(staging_, "a.fza", once, full, [&] {
      UnpackOptions o = Options();
      o.keep_archive = true;
      return o;
    }(), {}).ok());
    const std::string key = "k/1 ünï +%.txt";
    auto info = once.Stat(key, true, {});
    ASSERT_TRUE(info.ok());
    storage::WriteSpec same;
    same.size = info->size;
    same.content = info->content;
    same.metadata = info->metadata;
    same.tags = info->tags;
    ASSERT_TRUE(dst_.Put(key, checksum::AsBytes(*once.Contents(key)), same, {}).ok());
  }
  dst_.ResetCounts();
  MemoryJournal journal;
  journal.mark = 0;  // an attempt started (and crashed): the window is looked at
  auto r = UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->already_present, 1u) << "only the crashed attempt's own write";
  EXPECT_EQ(r->written, 2u);
  EXPECT_EQ(dst_.counts().puts, 2);
  for (const std::string key : {"k/0.csv", "k/1 ünï +%.txt", "k/2.csv"}) {
    auto b = dst_.Stat(key, true, {});
    ASSERT_TRUE(b.ok()) << key;
    EXPECT_EQ(b->metadata.at("owner"), "ops") << key;
    EXPECT_EQ(b->content.content_type, "text/csv") << key;
  }
}

// The destination's ferry-crc32c and ferry-mtime are claims (docs/design/integrity.md §8): an
// object of the entry's size that carries exactly what this archive's write records, but whose
// bytes another tool changed keeping the metadata, is not the entry: a resumed unpack reads it
// back and writes the entry again. Before, the claims alone made it "already there".
TEST_F(UnpackTest, AResumeWritesAgainAnObjectWhoseClaimsMatchButNotItsBytes) {
  Stage(3, 100);
  MemoryJournal full;
  MemoryBackend once;
  ASSERT_TRUE(UnpackArchive(staging_, "a.fza", once, full, [&] {
    UnpackOptions o = Options();
    o.keep_archive = true;
    return o;
  }(), {}).ok());
  for (const std::string key : {"k/0.csv", "k/1 ünï +%.txt", "k/2.csv"}) {
    auto info = once.Stat(key, true, {});
    ASSERT_TRUE(info.ok());
    storage::WriteSpec same;
    same.size = info->size;
    same.content = info->content;
    same.metadata = info->metadata;  // the entry's ferry-crc32c and ferry-mtime
    same.tags = info->tags;
    std::string body = *once.Contents(key);
    if (key == "k/1 ünï +%.txt") body[10] = body[10] == 'z' ? 'y' : 'z';  // changed, same size
    ASSERT_TRUE(dst_.Put(key, checksum::AsBytes(body), same, {}).ok());
  }
  dst_.ResetCounts();
  MemoryJournal journal;
  journal.mark = 0;  // an attempt started (and crashed): the window is looked at
  auto r = UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->already_present, 2u);
  EXPECT_EQ(r->written, 1u);
  EXPECT_EQ(dst_.Contents("k/1 ünï +%.txt"), src_.Contents("k/1 ünï +%.txt"));
}

// Writers slower than the archive is decoded: the window waits on the recorded watermark. It is
// recorded in steps of an eighth of the window, not once per entry the writers finish (each
// record is a transaction, and with claims two requests to staging).
TEST_F(UnpackTest, AWaitingWindowRecordsTheWatermarkInStepsNotPerEntry) {
  Stage(400, 20);
  class SlowPuts : public MemoryBackend {
   public:
    Result<storage::WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                                     const storage::WriteSpec& spec,
                                     std::stop_token stop) override {
      // real time: writes slower than the decoding (a slow destination), so that the window
      // fills and waits on the watermark (what is counted).
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      return MemoryBackend::Put(key, data, spec, stop);
    }
  } dst;
  UnpackOptions o = Options();
  o.window = 64;
  o.checkpoint_every = 100000;  // only the window makes records here
  MemoryJournal journal;
  auto r = UnpackArchive(staging_, "a.fza", dst, journal, o, {});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->written, 400u);
  EXPECT_TRUE(journal.done);
  // Steps of 8 over 400 entries, plus the start and the end.
  EXPECT_LE(journal.records, 400 / 8 + 4);
}

TEST_F(UnpackTest, AnArchiveGoneAfterItsLastRecordIsDone) {
  Stage(2, 10);
  MemoryJournal journal;
  journal.fail_done = true;  // watermark recorded, archive deleted, "done" lost
  ASSERT_FALSE(UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {}).ok());
  EXPECT_FALSE(staging_.Contents("a.fza").has_value());
  journal.fail_done = false;
  dst_.ResetCounts();
  auto again = UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {});
  ASSERT_TRUE(again.ok()) << again.status().message();
  EXPECT_TRUE(again->archive_missing);
  EXPECT_TRUE(journal.done);
  EXPECT_EQ(dst_.counts().puts, 0);
}

// An archive gone while entries past the watermark were never written (deleted by hand, by a
// lifecycle rule, by another tool) is a failure that says so. Before, the unpack recorded it
// done at any watermark: the run ended done, exit 0, with those objects missing.
TEST_F(UnpackTest, AnArchiveGoneBeforeItsEntriesWereWrittenIsAFailure) {
  Stage(2, 10);
  MemoryJournal journal;
  journal.mark = 3;  // an earlier attempt wrote 3 of the 10 entries
  journal.entries = 10;
  ASSERT_TRUE(staging_.Delete("a.fza", {}).ok());
  auto r = UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kDataLoss);
  EXPECT_NE(r.status().message().find("gone with entries not unpacked"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(journal.done);
}

TEST_F(UnpackTest, WritesOnlyTheEntriesOfItsRegion) {
  Stage(2, 10, {"west"});
  MemoryJournal journal;
  UnpackOptions o = Options();
  o.region = "east";
  o.keep_archive = true;
  auto r = UnpackArchive(staging_, "a.fza", dst_, journal, o, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->other_regions, 2u);
  EXPECT_TRUE(dst_.Keys().empty());
  MemoryJournal west_journal;
  o.region = "west";
  r = UnpackArchive(staging_, "a.fza", dst_, west_journal, o, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->written, 2u);
}

TEST_F(UnpackTest, ACorruptEntryNeverBecomesVisible) {
  Stage(1, 2000);
  // Flip a byte inside the first data frame (after the 24-byte header).
  std::string bad = archive_;
  bad[40] = static_cast<char>(bad[40] ^ 0x5a);
  storage::WriteSpec spec;
  spec.size = bad.size();
  ASSERT_TRUE(staging_.Put("a.fza", checksum::AsBytes(bad), spec, {}).ok());
  MemoryJournal journal;
  auto r = UnpackArchive(staging_, "a.fza", dst_, journal, Options(), {});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(dst_.Keys().empty());
  EXPECT_TRUE(staging_.Contents("a.fza").has_value());
}

// Object lock through an archive (format 2): the pack records each object's retention and
// legal hold from its own reads (the listing has none); the unpack writes them only with
// preserve_lock, a retention already over left out, small entries (PUT) and large ones
// (chunked write) alike.
TEST(UnpackLockTest, ThePackRecordsTheLockAndTheUnpackWritesItWhenAsked) {
  MemoryBackend::Options locking;
  locking.object_lock = true;
  MemoryBackend src(locking), staging, plain_dst(locking), lock_dst(locking);
  const auto now = std::chrono::system_clock::now();
  const auto future = std::chrono::time_point_cast<std::chrono::milliseconds>(
      now + std::chrono::hours(24 * 365));
  const auto past = std::chrono::system_clock::time_point(std::chrono::seconds(1'000'000'000));
  const std::vector<std::pair<std::string, storage::ObjectLock>> objects = {
      {"governance-hold", {.mode = "GOVERNANCE", .retain_until = future, .legal_hold = true}},
      {"compliance", {.mode = "COMPLIANCE", .retain_until = future, .legal_hold = false}},
      {"hold-only", {.mode = "", .retain_until = {}, .legal_hold = true}},
      {"over-with-hold", {.mode = "GOVERNANCE", .retain_until = past, .legal_hold = true}},
      {"none", {}},
      {"large-compliance", {.mode = "COMPLIANCE", .retain_until = future, .legal_hold = true}}};
  std::vector<storage::ObjectInfo> listed;
  for (const auto& [key, lock] : objects) {
    const std::string body = Text(key.starts_with("large") ? (6u << 20) : 300, 7);
    storage::WriteSpec spec;
    spec.size = body.size();
    spec.lock = lock;
    ASSERT_TRUE(src.Put(key, checksum::AsBytes(body), spec, {}).ok()) << key;
    auto info = src.Stat(key, false, {});
    ASSERT_TRUE(info.ok());
    ASSERT_EQ(info->lock, lock) << key;
    info->lock = {};  // a listing says nothing of locks
    info->has_details = false;
    listed.push_back(*info);
  }
  archive::StringSink sink;
  PackOptions p = test_support::OneThreadPacking();
  p.whole_read_limit = 1 << 20;  // the large one is Stat'ed and read in ranges
  auto packed = PackObjects(src, listed, sink, p, {});
  ASSERT_TRUE(packed.ok()) << packed.status().message();
  {  // recorded as the source has it
    archive::StringRangeSource in(sink.bytes);
    auto reader = archive::Reader::Open(in);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    ASSERT_EQ((*reader)->entries().size(), objects.size());
    for (size_t i = 0; i < objects.size(); ++i) {
      EXPECT_EQ((*reader)->entries()[i].header.lock, objects[i].second) << objects[i].first;
    }
  }
  ASSERT_TRUE(staging.Put("a.fza", checksum::AsBytes(sink.bytes),
                          storage::WriteSpec{.size = sink.bytes.size(), .content = {},
                                             .metadata = {}, .tags = {}, .storage_class = {},
                                             .mtime = {}, .content_md5 = {}},
                          {})
                  .ok());
  auto unpack = [&](MemoryBackend& dst, bool preserve_lock) {
    UnpackOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.whole_limit = 64 << 10;
    o.part_size = 5 << 20;
    o.keep_archive = true;
    o.preserve_lock = preserve_lock;
    MemoryJournal journal;
    auto r = UnpackArchive(staging, "a.fza", dst, journal, o, {});
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->written, objects.size());
  };
  unpack(plain_dst, false);
  unpack(lock_dst, true);
  EXPECT_EQ(lock_dst.counts().commits, 1);  // the large entry's chunked write
  for (const auto& [key, lock] : objects) {
    SCOPED_TRACE(key);
    auto plain = plain_dst.Stat(key, false, {});
    ASSERT_TRUE(plain.ok());
    EXPECT_FALSE(plain->lock.any());  // not asked for: none
    auto locked = lock_dst.Stat(key, false, {});
    ASSERT_TRUE(locked.ok());
    storage::ObjectLock want = lock;
    if (key == "over-with-hold") want = {.mode = "", .retain_until = {}, .legal_hold = true};
    EXPECT_EQ(locked->lock, want);
    EXPECT_EQ(lock_dst.Contents(key), src.Contents(key));
  }
}

// The lock an entry is written with: a retention over by `now` is left out, the legal hold kept.
TEST(UnpackLockTest, LockToWriteLeavesOutARetentionAlreadyOver) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(2'000'000'000));
  const storage::ObjectLock later{.mode = "COMPLIANCE",
                                  .retain_until = now + std::chrono::seconds(1),
                                  .legal_hold = false};
  EXPECT_EQ(LockToWrite(later, now), later);
  const storage::ObjectLock at_now{.mode = "GOVERNANCE", .retain_until = now, .legal_hold = true};
  EXPECT_EQ(LockToWrite(at_now, now),
            (storage::ObjectLock{.mode = "", .retain_until = {}, .legal_hold = true}));
  EXPECT_FALSE(LockToWrite({}, now).any());
}

TEST(TransportStoreTest, RowsGoFromStagedToDoneAndAStagedRecordNeverResetsOne) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("transport-store-" + std::to_string(getpid()) +
                                                 ".db")).string();
  std::filesystem::remove(path);
  auto session = state::OpenSqliteSession(path);
  ASSERT_TRUE(session.ok());
  auto store = TransportStore::Open(**session);
  ASSERT_TRUE(store.ok()) << store.status().message();
  ArchiveRow row{.staging = "b:stage/",
                 .archive = "x.fza",
                 .destination = "b:dst/",
                 .state = ArchiveState::kStaged,
                 .entries = 5,
                 .written = 0,
                 .archive_bytes = 1234,
                 .updated_ns = 0};
  ASSERT_TRUE((*store)->Staged(row).ok());
  StoreUnpackJournal journal(**store, row);
  auto mark = journal.Load();
  ASSERT_TRUE(mark.ok());
  EXPECT_FALSE(mark->has_value());  // staged, never started
  ASSERT_TRUE(journal.Record(3, 5, false).ok());
  ASSERT_TRUE((*store)->Staged(row).ok());  // a pack that ran again
  mark = journal.Load();
  EXPECT_EQ(*mark, std::optional<uint64_t>(3));
  ASSERT_TRUE(journal.Record(5, 5, true).ok());
  auto rows = (*store)->Rows("b:stage/");
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ(rows->front().state, ArchiveState::kDone);
  EXPECT_EQ(rows->front().archive_bytes, 1234u);
  session->reset();
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace ferry::transport
