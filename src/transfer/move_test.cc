// ferry move's source deletes (transfer/move_source.h) on MemoryBackends: a source object is
// deleted only when the destination proved it (a verified copy, or the same bytes found there),
// never when its copy failed, was corrupted on the way or could not be verified; --max-delete
// guards the source deletes; a dry run changes nothing.
#include <gtest/gtest.h>

#include <string>

#include "plan/delete_limit.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transfer/memory_fixture.h"
#include "transfer/move_source.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Put;

struct MoveFixture {
  ferry::testing::FakeClock clock;
  MemoryBackend src{Opts("a")};
  MemoryBackend dst{Opts("b")};  // another endpoint: bytes go through ferry, checked
  MemoryBackend::Options Opts(const char* endpoint) {
    MemoryBackend::Options o = testing::SmallParts(endpoint);
    o.clock = &clock;
    return o;
  }
  SyncOptions Options() {
    SyncOptions o;
    o.transfer.part_size = 4096;
    o.transfer.multipart_threshold = 10000;
    o.transfer.decide.checksum = true;  // as ferry move compares
    o.move = true;
    o.clock = &clock;
    return o;
  }
  SyncResult Move(const SyncOptions& o, Stats& stats) {
    return RunSync(ferry::testing::TestExecutor(), src, dst, o, stats, {});
  }
};

TEST(MoveTest, VerifiedCopiesAreDeletedFromTheSource) {
  MoveFixture f;
  for (int i = 0; i < 3; ++i) Put(f.src, "k" + std::to_string(i), Bytes(100 + i, i));
  Put(f.src, "big", Bytes(30000, 9));  // multipart on the way
  Stats stats;
  SyncResult r = f.Move(f.Options(), stats);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(stats.failures(), 0u);
  EXPECT_EQ(stats.sources_deleted.load(), 4u);
  EXPECT_TRUE(f.src.Keys().empty());
  EXPECT_EQ(f.dst.Contents("big"), Bytes(30000, 9));
  EXPECT_EQ(f.dst.Contents("k2"), Bytes(102, 2));
}

TEST(MoveTest, AFailedCopyNeverDeletesItsSource) {
  MoveFixture f;
  Put(f.src, "ok", Bytes(100, 1));
  Put(f.src, "fails", Bytes(100, 2));
  SyncOptions o = f.Options();
  o.executor.concurrency = 1;
  f.dst.FailNext(MemoryBackend::kPut, 1, Status::Internal("disk full"));
  Stats stats;
  SyncResult r = f.Move(o, stats);
  EXPECT_EQ(stats.failures(), 1u);
  EXPECT_EQ(stats.sources_deleted.load(), 1u);
  // Whichever key's write failed is still on the source, and only it.
  ASSERT_EQ(f.src.Keys().size(), 1u);
  const std::string kept = f.src.Keys()[0];
  EXPECT_FALSE(f.dst.Contents(kept).has_value());
  EXPECT_EQ(f.dst.Keys().size(), 1u);
}

TEST(MoveTest, ACorruptedReadNeverDeletesItsSource) {
  MoveFixture f;
  Put(f.src, "corrupt", Bytes(100, 3));
  f.src.FailNext(MemoryBackend::kRead, 100, Status::DataLoss("bytes damaged on the way"));
  Stats stats;
  f.Move(f.Options(), stats);
  EXPECT_EQ(stats.failures(), 1u);
  EXPECT_EQ(stats.sources_deleted.load(), 0u);
  EXPECT_EQ(f.src.Contents("corrupt"), Bytes(100, 3));
  EXPECT_FALSE(f.dst.Contents("corrupt").has_value());
}

TEST(MoveTest, ACopyNothingCouldVerifyKeepsItsSourceAndSaysSo) {
  MoveFixture f;
  // A multipart ETag whose layout no candidate part size reproduces: nothing checks the bytes.
  testing::PutMultipart(f.src, "odd", Bytes(50000, 6), 4999);
  Put(f.src, "plain", Bytes(100, 4));
  Stats stats;
  f.Move(f.Options(), stats);
  EXPECT_EQ(stats.objects_unverified.load(), 1u);
  EXPECT_EQ(stats.sources_kept.load(), 1u);
  EXPECT_EQ(stats.sources_deleted.load(), 1u);
  EXPECT_EQ(f.src.Keys(), std::vector<std::string>{"odd"});
  EXPECT_EQ(f.dst.Contents("odd"), Bytes(50000, 6));  // copied, not moved
  ASSERT_EQ(stats.failures(), 1u);
  const auto failures = stats.KeptFailures();
  EXPECT_EQ(failures[0].key, "odd");
  EXPECT_NE(failures[0].status.message().find("could not be verified"), std::string::npos);
}

TEST(MoveTest, AnIdenticalDestinationDeletesTheSourceWithoutACopy) {
  MoveFixture f;
  Put(f.src, "same", Bytes(100, 5));
  f.clock.Advance(std::chrono::seconds(10));
  Put(f.dst, "same", Bytes(100, 5));
  f.dst.ResetCounts();
  Stats stats;
  SyncResult r = f.Move(f.Options(), stats);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(f.dst.counts().puts, 0);
  EXPECT_EQ(stats.sources_deleted.load(), 1u);
  EXPECT_TRUE(f.src.Keys().empty());
}

TEST(MoveTest, ASkipDecidedOnSizesKeepsTheSource) {
  MoveFixture f;
  Put(f.src, "k", Bytes(100, 1));
  Put(f.dst, "k", Bytes(100, 2));  // same size, other bytes
  SyncOptions o = f.Options();
  o.transfer.decide.size_only = true;
  Stats stats;
  f.Move(o, stats);
  EXPECT_EQ(stats.sources_kept.load(), 1u);
  EXPECT_EQ(f.src.Contents("k"), Bytes(100, 1));
}

TEST(MoveTest, MaxDeleteGuardsTheSourceDeletes) {
  MoveFixture f;
  for (int i = 0; i < 4; ++i) Put(f.src, "k" + std::to_string(i), Bytes(100, i));
  SyncOptions o = f.Options();
  o.max_delete = *plan::ParseDeleteLimit("50%");
  Stats stats;
  SyncResult r = f.Move(o, stats);
  EXPECT_TRUE(r.delete_limit_tripped);
  EXPECT_NE(r.status.message().find("of the 4 source objects in scope"), std::string::npos)
      << r.status.message();
  EXPECT_EQ(f.src.counts().deletes, 0);  // not one
  EXPECT_EQ(f.src.Keys().size(), 4u);
  EXPECT_EQ(f.dst.Keys().size(), 4u);  // the copies stay
}

TEST(MoveTest, ADryRunChangesNothingAndCountsWhatWouldMove) {
  MoveFixture f;
  Put(f.src, "a", Bytes(100, 1));
  Put(f.src, "b", Bytes(100, 2));
  SyncOptions o = f.Options();
  o.transfer.dry_run = true;
  Stats stats;
  SyncResult r = f.Move(o, stats);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(stats.sources_deleted.load(), 2u);
  EXPECT_EQ(f.src.Keys().size(), 2u);
  EXPECT_TRUE(f.dst.Keys().empty());
  EXPECT_EQ(f.src.counts().deletes, 0);
}

TEST(MoveTest, ARerunAfterAFailureMovesTheRest) {
  MoveFixture f;
  Put(f.src, "a", Bytes(100, 1));
  Put(f.src, "b", Bytes(100, 2));
  // The batch's DeleteMany fails at its first key: nothing of it is deleted.
  f.src.FailNext(MemoryBackend::kDelete, 1, Status::Unavailable("source down"));
  Stats first;
  f.Move(f.Options(), first);
  EXPECT_EQ(f.src.Keys().size(), 2u);  // copied, the deletes failed
  EXPECT_GT(first.failures(), 0u);
  Stats again;
  SyncResult r = f.Move(f.Options(), again);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(again.failures(), 0u);
  EXPECT_EQ(again.objects_copied.load(), 0u);  // found identical
  EXPECT_TRUE(f.src.Keys().empty());
  EXPECT_EQ(f.dst.Keys().size(), 2u);
}

TEST(MoveTest, AVersionedSourceKeepsItsOlderVersions) {
  MoveFixture f;
  MemoryBackend::Options vo = f.Opts("a");
  vo.versioned = true;
  MemoryBackend src(vo);
  Put(src, "k", Bytes(100, 1));
  Stats stats;
  SyncResult r = RunSync(ferry::testing::TestExecutor(), src, f.dst, f.Options(), stats, {});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_TRUE(src.Keys().empty());  // the current version is a delete marker
  auto versions = src.ListVersions("", "", "");
  ASSERT_TRUE(versions.ok());
  int n = 0;
  while (true) {
    auto v = (*versions)->Next();
    ASSERT_TRUE(v.ok());
    if (*v == nullptr) break;
    ++n;
  }
  EXPECT_EQ(n, 2);  // the object's version and the delete marker
}

// The source written anew while its copy was under way (an application still writing during a
// migration): the bytes moved are no longer the source's, so the delete looks again and keeps
// the new object; the rest of the batch is deleted.
TEST(MoveTest, AnObjectWrittenAnewAfterItsCopyIsKeptOnTheSource) {
  MoveFixture f;
  struct Rewriting : MemoryBackend {
    using MemoryBackend::MemoryBackend;
    MemoryBackend* source = nullptr;
    Result<storage::WriteResult> Put(std::string_view key, std::span<const std::byte> data,
                                     const storage::WriteSpec& spec,
                                     std::stop_token stop) override {
      auto written = MemoryBackend::Put(key, data, spec, stop);
      if (key == "changed") testing::Put(*source, "changed", Bytes(120, 7));
      return written;
    }
  };
  Rewriting dst(f.Opts("b"));
  dst.source = &f.src;
  Put(f.src, "changed", Bytes(100, 1));
  Put(f.src, "still", Bytes(100, 2));
  Stats stats;
  SyncResult r = RunSync(ferry::testing::TestExecutor(), f.src, dst, f.Options(), stats, {});
  EXPECT_EQ(stats.sources_deleted.load(), 1u);
  EXPECT_EQ(stats.sources_kept.load(), 1u);
  EXPECT_EQ(f.src.Contents("changed"), Bytes(120, 7)) << "the new bytes were deleted";
  EXPECT_FALSE(f.src.Contents("still").has_value());
  EXPECT_EQ(dst.Contents("changed"), Bytes(100, 1));
  EXPECT_EQ(stats.failures(), 1u) << "the kept object is named, so the run is not a success";
  (void)r;
}

TEST(MoveTest, OnlyByteProofsProve) {
  EXPECT_TRUE(ProvesSameBytes(plan::kReasonSameEtag));
  EXPECT_TRUE(ProvesSameBytes(plan::kReasonSameChecksum));
  EXPECT_TRUE(ProvesSameBytes(plan::kReasonSameContent));
  EXPECT_FALSE(ProvesSameBytes(plan::kReasonSameSize));
  EXPECT_FALSE(ProvesSameBytes(plan::kReasonSameMtime));
  EXPECT_FALSE(ProvesSameBytes(plan::kReasonNotNewer));
  EXPECT_FALSE(ProvesSameBytes(plan::kReasonDestinationNewer));
}

}  // namespace
}  // namespace ferry::transfer
