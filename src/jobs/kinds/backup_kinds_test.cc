// A backup run's scan and pack jobs (TransportOptions::backup, docs/design/backup.md) on
// MemoryBackends and a SQLite store, driven as the worker drives them: the scan compares the
// source with the catalog (never lists the destination) and plans only what changed; the pack
// job keeps its archive, records it with its entries in the catalog and enqueues no unpack
// job; a retry of a pack job whose archive is already recorded packs nothing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "checksum/checksum.h"
#include "jobs/kinds/registry.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker_internal.h"
#include "storage/memory/memory_backend.h"
#include "testing/sizeless_store.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

class NoControl : public ScanControl, public JobControl {
 public:
  bool WantsSplit() override { return false; }
  Status HandOff(const KeyRange&, const std::vector<JobSpec>&) override { return Status::Ok(); }
  Status HandOff(std::string_view, const std::vector<JobSpec>&) override { return Status::Ok(); }
  void CannotServe(const Status&) override {}
};

// S3 writes an archive as a multipart upload of unknown size: the staging puts the object at
// Commit (complete only then, as an upload is), counting the writes opened.
using StagingBackend = testing::SizelessChunkedStore;

class BackupKindsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-backup-kinds-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    options_.executor = &ferry::testing::TestExecutor();  // the pack's reads are its tasks
    ctx_.options.command = "backup";
    ctx_.options.transport.staging = kLoc;
    ctx_.options.transport.level = 3;
    ctx_.options.transport.unpack_jobs = false;
    ctx_.options.transport.backup = true;
    auto run = store_->CreateRun(RunSpec{"mem:src", kLoc, EncodeRunOptions(ctx_.options)});
    ASSERT_TRUE(run.ok());
    ctx_.run = *store_->GetRun(*run);
    ctx_.filter = std::move(plan::Filter::Make({}, std::chrono::system_clock::now())).value();
    ctx_.src = std::make_unique<storage::MemoryBackend>();
    ctx_.dst = std::make_unique<storage::MemoryBackend>();
    ctx_.staging = std::make_unique<StagingBackend>();
    ctx_.archives = std::move(transport::TransportStore::Open(*store_->session())).value();
    ctx_.catalog = std::move(backup::CatalogStore::Open(*store_->session())).value();
    for (int i = 0; i < 20; ++i) {
      Write("k/" + std::to_string(100 + i), "first " + std::to_string(i));
    }
  }
  void TearDown() override {
    ctx_.archives.reset();
    ctx_.catalog.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  storage::MemoryBackend& src() { return static_cast<storage::MemoryBackend&>(*ctx_.src); }
  storage::MemoryBackend& dst() { return static_cast<storage::MemoryBackend&>(*ctx_.dst); }
  StagingBackend& staging() { return static_cast<StagingBackend&>(*ctx_.staging); }

  void Write(const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(src().Put(key, checksum::AsBytes(body), spec, {}).ok());
  }

  // A scan of the whole key space: the pack jobs it plans.
  std::vector<JobSpec> Scan() {
    NoControl control;
    std::vector<JobSpec> more;
    Status s = ScanChunk({.run = ctx_, .options = options_, .control = control, .stats = stats_},
                         KeyRange{}, more);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<JobSpec> packs;
    for (JobSpec& j : more) {
      if (j.kind == kPackKind) packs.push_back(std::move(j));
    }
    return packs;
  }

  // Runs the pack job `spec` (attempt `attempt`) through its handler.
  JobResult Pack(const JobSpec& spec, JobId id, int attempt) {
    ClaimedJob claimed;
    claimed.job.id = id;
    claimed.job.spec = spec;
    claimed.job.attempts = attempt;
    NoControl control;
    JobContext ctx{.store = *store_,
                   .run = ctx_,
                   .claimed = claimed,
                   .options = options_,
                   .stats = stats_,
                   .cancel = {},
                   .worker_stop = {},
                   .control = control,
                   .lease_lost = {}};
    return MakePackHandler()->Run(ctx);
  }

  uint64_t CatalogEntries() {
    uint64_t n = 0;
    EXPECT_TRUE(ctx_.catalog->Visit(kLoc, "", [&](const backup::CatalogEntry&) {
                               ++n;
                               return Status::Ok();
                             }).ok());
    return n;
  }

  static constexpr const char* kLoc = "mem:backup/";
  fs::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<JobStore> store_;
  RunContext ctx_;
  WorkerOptions options_;
  transfer::Stats stats_;
};

// The batches of a range start small and double (transport::Batcher's slow start): the first
// archive reaches the link soon; the last one is cut in halving pieces (the slow stop).
TEST_F(BackupKindsTest, TheBatchesOfARangeGrowFromSmall) {
  ctx_.options.transport.batch_bytes = 16ull << 20;  // first bound: 1 MiB
  const std::string mib(1u << 20, 'x');
  for (int i = 0; i < 40; ++i) Write("k/" + std::to_string(200 + i), mib);
  auto packs = Scan();
  std::vector<uint64_t> counts;
  for (const JobSpec& p : packs) {
    counts.push_back(p.objects);
    EXPECT_LE(p.bytes, 16ull << 20);
  }
  // 20 small objects, then 1 MiB ones: batches of 1, 2, 4, 8 and 16 MiB, then the rest (10 MiB)
  // in halving pieces down to the first bound (the slow stop): 5, 3 and 2 MiB.
  const std::vector<uint64_t> want = {20, 2, 4, 8, 16, 5, 3, 2};
  EXPECT_EQ(counts, want);
  // In the listing's order, every object once.
  std::vector<std::string> keys;
  for (const JobSpec& p : packs) {
    auto decoded = DecodeTransfer(p.payload);
    ASSERT_TRUE(decoded.ok());
    for (const auto& r : *decoded) keys.push_back(r.src.key);
  }
  ASSERT_EQ(keys.size(), 60u);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  EXPECT_EQ(std::set<std::string>(keys.begin(), keys.end()).size(), 60u);
}

TEST_F(BackupKindsTest, ScansAgainstTheCatalogAndPacksOnlyWhatChanged) {
  auto packs = Scan();
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].objects, 20u);
  EXPECT_EQ(dst().counts().lists, 0);  // the backup location's archives are not a listing
  JobResult r = Pack(packs[0], 7, 1);
  EXPECT_EQ(r.outcome.kind, Outcome::Kind::kDone) << r.outcome.error;
  EXPECT_TRUE(r.more.empty());  // no unpack job: the archive stays
  ASSERT_EQ(staging().Keys().size(), 1u);
  EXPECT_TRUE(staging().Keys()[0].ends_with(".fza"));
  EXPECT_EQ(CatalogEntries(), 20u);
  auto recorded = ctx_.catalog->HasArchive(kLoc, staging().Keys()[0]);
  EXPECT_TRUE(recorded.ok() && *recorded);

  // Nothing changed: nothing to pack. Two changes: only those.
  EXPECT_TRUE(Scan().empty());
  EXPECT_EQ(stats_.objects_skipped.load(), 20u);
  Write("k/105", "second");
  Write("k/200", "new");
  packs = Scan();
  ASSERT_EQ(packs.size(), 1u);
  EXPECT_EQ(packs[0].objects, 2u);
  EXPECT_EQ(Pack(packs[0], 8, 1).outcome.kind, Outcome::Kind::kDone);
  EXPECT_EQ(CatalogEntries(), 22u);  // the old entry of k/105 kept
  EXPECT_EQ(staging().Keys().size(), 2u);
}

// Keys gone from the source are noted for the run, only in the range a scan listed; they are
// tombstones once committed (by `ferry backup`, when every scan of the run is done).
TEST_F(BackupKindsTest, AScanNotesTheKeysGoneFromItsRangeForItsRun) {
  auto packs = Scan();
  ASSERT_EQ(packs.size(), 1u);
  ASSERT_EQ(Pack(packs[0], 7, 1).outcome.kind, Outcome::Kind::kDone);
  ASSERT_TRUE(src().Delete("k/103", {}).ok());
  ASSERT_TRUE(src().Delete("k/107", {}).ok());
  ASSERT_TRUE(src().Delete("k/115", {}).ok());
  NoControl control;
  std::vector<JobSpec> more;
  ASSERT_TRUE(ScanChunk({.run = ctx_, .options = options_, .control = control, .stats = stats_},
                        KeyRange{"k/105", std::string("k/110")}, more)
                  .ok());
  EXPECT_EQ(*ctx_.catalog->RunsWithGone(kLoc), std::vector<int64_t>{ctx_.run.id});
  ASSERT_EQ(*ctx_.catalog->CommitGone(kLoc, ctx_.run.id), 1u);
  auto gone = ctx_.catalog->Tombstones(kLoc, "");
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_EQ(gone->front().key, "k/107");
  EXPECT_EQ(gone->front().run, ctx_.run.id);
  // The whole key space: the other two.
  EXPECT_TRUE(Scan().empty());
  EXPECT_EQ(*ctx_.catalog->CommitGone(kLoc, ctx_.run.id), 2u);
  EXPECT_EQ(ctx_.catalog->Tombstones(kLoc, "")->size(), 3u);
}

TEST_F(BackupKindsTest, ARetryOfARecordedPackPacksNothing) {
  auto packs = Scan();
  ASSERT_EQ(packs.size(), 1u);
  ASSERT_EQ(Pack(packs[0], 7, 1).outcome.kind, Outcome::Kind::kDone);
  const std::string key = staging().Keys()[0];
  const int writers = staging().opened;
  // The worker died after the catalog recorded the archive, before the job was done: the next
  // attempt must not write the archive again under the rows that point into it.
  Write("k/100", "changed since");
  JobResult again = Pack(packs[0], 7, 2);
  EXPECT_EQ(again.outcome.kind, Outcome::Kind::kDone);
  EXPECT_EQ(staging().opened.load(), writers);
  EXPECT_EQ(staging().Keys(), std::vector<std::string>{key});
  EXPECT_EQ(CatalogEntries(), 20u);
}

}  // namespace
}  // namespace ferry::jobs
