// RunSync + TransferEngine against MemoryBackend fakes: planning, whole and multipart copies,
// checksums, budgets, failure handling, deletes.
#include "transfer/sync.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <random>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "transfer/memory_fixture.h"
#include "testing/sync_recorder.h"
#include "testing/wait_for.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;
using testing::SmallParts;

SyncOptions Options() {
  SyncOptions o;
  o.executor.concurrency = 8;
  o.executor.memory_budget = 64 * 1024;
  o.transfer.part_size = 4096;
  o.transfer.multipart_threshold = 10000;
  return o;
}

SyncResult RunOnce(MemoryBackend& src, MemoryBackend& dst, Stats& stats,
               SyncOptions options = Options()) {
  return testing::SyncOnOwnExecutor(src, dst, options, stats, {});
}

TEST(SyncTest, CopiesWholeAndMultipartObjectsWithChecksumsWithinBudget) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  for (int i = 0; i < 200; ++i) Put(src, "small/" + std::to_string(i), Bytes(i * 37, i));
  const std::string big = Bytes(50000, 1);  // 13 parts of 4 KiB
  Put(src, "big", big, {{"owner", "bob"}});
  Stats stats;
  SyncResult r = RunOnce(src, dst, stats);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.objects_copied.load(), 201u);
  EXPECT_EQ(stats.objects_multipart.load(), 1u);
  EXPECT_LE(r.peak_buffer_bytes, 64u * 1024);
  EXPECT_EQ(dst.Contents("big"), big);
  EXPECT_EQ(dst.Contents("small/199"), Bytes(199 * 37, 199));
  auto info = dst.Stat("big", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->metadata.at("owner"), "bob");
  EXPECT_EQ(info->crc32c(), checksum::Crc32c(checksum::AsBytes(big)));
  EXPECT_NE(info->etag.find("-13"), std::string::npos) << info->etag;
  EXPECT_EQ(dst.counts().parts, 13);
  EXPECT_EQ(dst.open_writers(), 0);
}

TEST(SyncTest, ResyncCopiesNothingAndSameSizeEditCopiesOne) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  for (int i = 0; i < 20; ++i) Put(src, "k" + std::to_string(i), Bytes(100, i));
  Put(src, "big", Bytes(30000, 5));
  Stats first;
  ASSERT_TRUE(RunOnce(src, dst, first).status.ok());
  Stats second;
  ASSERT_TRUE(RunOnce(src, dst, second).status.ok());
  EXPECT_EQ(second.objects_copied.load(), 0u);
  EXPECT_EQ(second.objects_skipped.load(), 21u);
  Put(src, "k3", Bytes(100, 333));
  Stats third;
  ASSERT_TRUE(RunOnce(src, dst, third).status.ok());
  EXPECT_EQ(third.objects_copied.load(), 1u);
  EXPECT_EQ(dst.Contents("k3"), Bytes(100, 333));
}

TEST(SyncTest, FailedPartAbortsUploadAndLeavesNoObject) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "big", Bytes(40000, 2));
  dst.FailNext(MemoryBackend::kWriteChunk, 1, Status::PermissionDenied("no"));
  Stats stats;
  SyncResult r = RunOnce(src, dst, stats);
  EXPECT_TRUE(r.status.ok());
  EXPECT_EQ(stats.failures(), 1u);
  EXPECT_EQ(stats.KeptFailures()[0].status.code(), ErrorCode::kPermissionDenied);
  EXPECT_FALSE(dst.Contents("big").has_value());
  EXPECT_EQ(dst.open_writers(), 0);
  EXPECT_GE(dst.counts().aborts, 1);
}

TEST(SyncTest, SourceChecksumMismatchIsDataLossAndNothingIsWritten) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  // "small": a stale ferry-crc32c (a claim) over bytes its MD5 ETag (the store's) confirms is
  // copied (docs/design/integrity.md §8); "big", copied in parts with only the claim to check
  // its bytes against, is refused.
  Put(src, "small", "abc", {{storage::kMetaCrc32c, "00000000"}});
  Put(src, "big", Bytes(30000, 3), {{storage::kMetaCrc32c, "12345678"}});
  Stats stats;
  RunOnce(src, dst, stats);
  EXPECT_EQ(stats.failures(), 1u);
  for (const auto& f : stats.KeptFailures()) {
    EXPECT_EQ(f.status.code(), ErrorCode::kDataLoss) << f.status.ToString();
  }
  EXPECT_EQ(dst.Keys(), std::vector<std::string>{"small"});
  EXPECT_EQ(dst.open_writers(), 0);
}

TEST(SyncTest, SameEndpointCopiesOnTheServer) {
  MemoryBackend src(SmallParts("same"));
  MemoryBackend dst(SmallParts("same"));
  Put(src, "a", "1");
  Put(src, "big", Bytes(30000, 4));
  SyncOptions o = Options();
  o.transfer.server_side_copy_limit = 10000;  // "big" goes through part copies
  Stats stats;
  ASSERT_TRUE(RunOnce(src, dst, stats, o).status.ok());
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(dst.counts().copies, 1);
  EXPECT_GT(dst.counts().part_copies, 1);
  EXPECT_EQ(dst.counts().bytes_written, 0u);
  EXPECT_EQ(dst.Contents("big"), Bytes(30000, 4));
}

TEST(SyncTest, DeletesRunAfterCopiesAndAreSkippedWhenSomethingFailed) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "keep", "k");
  Put(src, "fails", "f");
  Put(dst, "extra1", "x");
  Put(dst, "extra2", "y");
  SyncOptions o = Options();
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  dst.FailNext(MemoryBackend::kPut, 1, Status::Unavailable("503"));
  Stats failed;
  SyncResult r = RunOnce(src, dst, failed, o);
  EXPECT_TRUE(r.deletes_skipped);
  EXPECT_EQ(dst.Keys().size(), 3u);  // one of the two copies failed, extras kept

  Stats ok;
  r = RunOnce(src, dst, ok, o);
  EXPECT_FALSE(r.deletes_skipped);
  EXPECT_EQ(ok.objects_deleted.load(), 2u);
  EXPECT_EQ(dst.Keys(), (std::vector<std::string>{"fails", "keep"}));
}

TEST(SyncTest, DryRunChangesNothing) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  Put(src, "new", "n");
  Put(dst, "old", "o");
  SyncOptions o = Options();
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  o.transfer.dry_run = true;
  dst.ResetCounts();
  Stats stats;
  ASSERT_TRUE(RunOnce(src, dst, stats, o).status.ok());
  EXPECT_EQ(stats.objects_copied.load(), 1u);
  EXPECT_EQ(stats.objects_deleted.load(), 1u);
  EXPECT_EQ(dst.Keys(), (std::vector<std::string>{"old"}));
  EXPECT_EQ(dst.counts().puts, 0);
}

// What the default logger writes to stderr while `fn` runs.
template <class Fn>
std::string CaptureStderr(Fn fn) {
  char path[] = "/tmp/ferry-sync-test-XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  const int saved = dup(STDERR_FILENO);
  dup2(fd, STDERR_FILENO);
  fn();
  dup2(saved, STDERR_FILENO);
  close(saved);
  std::string out;
  char buf[4096];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fd);
  std::remove(path);
  return out;
}

// A dry run prints one line per object, as it always did (copies decided by the listing now
// on the listing thread, in key order; those needing a closer look after their HEADs), and the
// summary's counts stay exact.
TEST(SyncTest, DryRunPrintsOneLinePerActionWithExactCounts) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  std::vector<std::string> expected;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "tree/" + std::to_string(i / 10) + "/k" + std::to_string(i);
    Put(src, key, Bytes(10, i));
    expected.push_back("ferry: info: would copy key=" + key + " reason=missing\n");
  }
  Put(src, "same", "s");
  Put(dst, "same", "s");
  Put(src, "grown", "two");
  Put(dst, "grown", "1");
  expected.push_back("ferry: info: would copy key=grown reason=\"size differs\"\n");
  // Multipart on both sides, same size, other bytes: decided after a HEAD of each side.
  {
    SyncOptions copy = Options();
    MemoryBackend stage(SmallParts("c"));
    Put(stage, "big", Bytes(30000, 2));
    Stats st;
    ASSERT_TRUE(RunOnce(stage, dst, st, copy).status.ok());  // dst "big" now multipart
    MemoryBackend stage2(SmallParts("d"));
    Put(stage2, "big", Bytes(30000, 1));
    ASSERT_TRUE(RunOnce(stage2, src, st, copy).status.ok());  // src "big" multipart too
  }
  expected.push_back("ferry: info: would copy key=big reason=\"checksum differs\"\n");
  Put(dst, "old/x", "o");
  Put(dst, "old/y", "o");
  expected.push_back("ferry: info: would delete key=old/x reason=\"destination only\"\n");
  expected.push_back("ferry: info: would delete key=old/y reason=\"destination only\"\n");

  SyncOptions o = Options();
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  o.transfer.dry_run = true;
  dst.ResetCounts();
  Stats stats;
  SyncResult r;
  const std::string out = CaptureStderr([&] { r = RunOnce(src, dst, stats, o); });
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  std::vector<std::string> lines;
  for (size_t at = 0; at < out.size();) {
    const size_t end = out.find('\n', at);
    lines.push_back(out.substr(at, end + 1 - at));
    at = end + 1;
  }
  // Copies the listing decided come in key order; the rest in any order.
  std::vector<std::string> listed;
  for (const auto& l : lines) {
    if (l.find("key=tree/") != std::string::npos) listed.push_back(l);
  }
  EXPECT_TRUE(std::is_sorted(listed.begin(), listed.end()));
  std::sort(lines.begin(), lines.end());
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(lines, expected);
  EXPECT_EQ(stats.objects_copied.load(), 302u);
  EXPECT_EQ(stats.bytes_copied.load(), 300u * 10 + 3 + 30000);
  EXPECT_EQ(stats.objects_deleted.load(), 2u);
  EXPECT_EQ(stats.objects_skipped.load(), 1u);
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(dst.counts().puts + dst.counts().parts + dst.counts().deletes, 0);
  EXPECT_EQ(dst.counts().stats, 1);  // "big" only
}

// A budget's gauge that counts each thread that starts to wait for bytes (every caller counts
// as a worker; none is ever stalled): the test knows a borrow waits, not just that it did not
// return yet.
class OversizedWaitWatch : public WorkerGauge {
 public:
  bool CallerIsWorker() const override { return true; }
  void Waiting(bool waiting) override {
    if (waiting) ++waits;
  }
  bool Stalled() const override { return false; }
  std::atomic<int> waits{0};
};

TEST(ByteBudgetTest, OversizedRequestWaitsForAnEmptyBudget) {
  ByteBudget budget(100);
  OversizedWaitWatch watch;
  budget.SetWorkerGauge(&watch);
  EXPECT_TRUE(budget.Acquire(60, {}));
  std::stop_source stop;
  std::thread t([&] {
    EXPECT_TRUE(budget.Acquire(150, {}));  // waits until the 60 are released
    budget.Release(150);
  });
  EXPECT_TRUE(ferry::testing::WaitFor([&] { return watch.waits.load() > 0; }));  // it waits
  EXPECT_EQ(budget.in_use(), 60u);
  budget.Release(60);
  t.join();
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_EQ(budget.peak(), 150u);
  stop.request_stop();
  ByteBudget full(10);
  ASSERT_TRUE(full.Acquire(10, {}));
  EXPECT_FALSE(full.Acquire(5, stop.get_token()));
}

// The durability contract of an in-memory run (storage/backend.h): every copy is written with
// deferred durability, and the destination's Sync comes once, after the last write (every
// object is there when it runs) and before RunSync returns (the caller prints the summary
// then). What it catches: a run that ends, or counts its copies done, before they are durable.
TEST(SyncTest, CopiesAreMadeDurableBySyncBeforeTheRunEnds) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  for (int i = 0; i < 30; ++i) Put(src, "k" + std::to_string(i), Bytes(100, i));
  Put(src, "big", Bytes(30000, 7));  // multipart
  ferry::testing::SyncRecorder recorder(dst);
  int present_at_sync = -1;
  recorder.on_sync = [&] {
    auto list = dst.List("");
    if (!list.ok()) return list.status();
    present_at_sync = 0;
    for (auto e = (*list)->Next(); e.ok() && *e != nullptr; e = (*list)->Next()) ++present_at_sync;
    return Status::Ok();
  };
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(src, recorder, Options(), stats);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(present_at_sync, 31) << "every object written before Sync";
  const auto events = recorder.events();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, ferry::testing::SyncRecorder::Event::kSync) << "Sync comes last";
  int syncs = 0;
  for (const auto& e : events) {
    if (e.kind == ferry::testing::SyncRecorder::Event::kSync) ++syncs;
    else EXPECT_TRUE(e.deferred) << e.key;
  }
  EXPECT_EQ(syncs, 1);
}

// A Sync that fails fails the run: its copies may be lost, so the run does not end well, and a
// move deletes no source.
TEST(SyncTest, AFailedSyncFailsTheRunAndAMoveDeletesNoSource) {
  MemoryBackend src(SmallParts("a"));
  MemoryBackend dst(SmallParts("b"));
  for (int i = 0; i < 5; ++i) Put(src, "k" + std::to_string(i), Bytes(100, i));
  ferry::testing::SyncRecorder recorder(dst);
  recorder.on_sync = [] { return Status::Internal("flush to disk: Input/output error"); };
  SyncOptions o = Options();
  o.move = true;
  Stats stats;
  SyncResult r = testing::SyncOnOwnExecutor(src, recorder, o, stats);
  EXPECT_EQ(r.status.code(), ErrorCode::kInternal) << r.status.ToString();
  EXPECT_NE(r.status.message().find("durable"), std::string::npos) << r.status.ToString();
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(src.Stat("k" + std::to_string(i), false, {}).ok()) << i;
}

}  // namespace
}  // namespace ferry::transfer
