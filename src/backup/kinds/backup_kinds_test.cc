// A backup run's scan and pack jobs (TransportOptions::backup, docs/design/backup.md) on
// MemoryBackends and a SQLite store, driven as the worker drives them (the run opened by
// transport's run hook with the catalog's keeper, keeper.h): the scan compares the
// source with the catalog (never lists the destination) and plans only what changed; the pack
// job keeps its archive, records it with its entries in the catalog and enqueues no unpack
// job; a retry of a pack job whose archive is already recorded packs nothing.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "backup/kinds/keeper.h"
#include "checksum/checksum.h"
#include "jobs/scan.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/sizeless_store.h"
#include "testing/test_executor.h"
#include "transport/kinds/kinds.h"

namespace ferry::backup {
namespace {

namespace fs = std::filesystem;
using jobs::JobResult;
using jobs::JobSpec;
using jobs::KeyRange;
using jobs::Outcome;

class NoControl : public jobs::ScanControl, public jobs::JobControl {
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
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    options_.executor = &ferry::testing::TestExecutor();  // the pack's reads are its tasks
    ctx_.options.command = "backup";
    ctx_.options.transport.staging = kLoc;
    ctx_.options.transport.level = 3;
    ctx_.options.transport.unpack_jobs = false;
    ctx_.options.transport.backup = true;
    auto run =
        store_->CreateRun(jobs::RunSpec{"mem:src", kLoc, jobs::EncodeRunOptions(ctx_.options)});
    ASSERT_TRUE(run.ok());
    ctx_.run = *store_->GetRun(*run);
    ctx_.filter = std::move(plan::Filter::Make({}, std::chrono::system_clock::now())).value();
    ctx_.src = std::make_unique<storage::MemoryBackend>();
    ctx_.dst = std::make_unique<storage::MemoryBackend>();
    // The run as a worker opens it: the staging location through the worker's opener, the
    // archive progress store and the catalog in the store's database.
    auto staging = std::make_unique<StagingBackend>();
    staging_ = staging.get();
    ctx_.opener = [&staging](const std::string& location, bool) {
      EXPECT_EQ(location, kLoc);
      return Result<std::unique_ptr<storage::Backend>>(
          std::unique_ptr<storage::Backend>(std::move(staging)));
    };
    auto opened = hook_->Open(ctx_, {.store = *store_, .options = options_, .checked = true});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    ASSERT_TRUE(*opened);
    ctx_.hook = hook_.get();
    ctx_.opener = nullptr;
    for (int i = 0; i < 20; ++i) {
      Write("k/" + std::to_string(100 + i), "first " + std::to_string(i));
    }
  }
  void TearDown() override {
    ctx_.kind_state.clear();  // the stores, before their database
    store_.reset();
    fs::remove_all(dir_);
  }

  storage::MemoryBackend& src() { return static_cast<storage::MemoryBackend&>(*ctx_.src); }
  storage::MemoryBackend& dst() { return static_cast<storage::MemoryBackend&>(*ctx_.dst); }
  StagingBackend& staging() { return *staging_; }
  CatalogStore& catalog() { return **CatalogOf(ctx_); }

  void Write(const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(src().Put(key, checksum::AsBytes(body), spec, {}).ok());
  }

  // A scan of the whole key space: the pack jobs it plans.
  std::vector<JobSpec> Scan() {
    NoControl control;
    std::vector<JobSpec> more;
    Status s = jobs::ScanChunk(
        {.run = ctx_, .options = options_, .control = control, .stats = stats_}, KeyRange{}, more);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<JobSpec> packs;
    for (JobSpec& j : more) {
      if (j.kind == transport::kPackKind) packs.push_back(std::move(j));
    }
    return packs;
  }

  // Runs the pack job `spec` (attempt `attempt`) through its handler.
  JobResult Pack(const JobSpec& spec, jobs::JobId id, int attempt) {
    jobs::ClaimedJob claimed;
    claimed.job.id = id;
    claimed.job.spec = spec;
    claimed.job.attempts = attempt;
    NoControl control;
    jobs::JobContext ctx{.store = *store_,
                   .run = ctx_,
                   .claimed = claimed,
                   .options = options_,
                   .stats = stats_,
                   .cancel = {},
                   .worker_stop = {},
                   .control = control,
                   .lease_lost = {}};
    return pack_->Run(ctx);
  }

  uint64_t CatalogEntries() {
    uint64_t n = 0;
    EXPECT_TRUE(catalog()
                    .Visit(kLoc, "",
                           [&](const CatalogEntry&) {
                             ++n;
                             return Status::Ok();
                           })
                    .ok());
    return n;
  }

  static constexpr const char* kLoc = "mem:backup/";
  fs::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<jobs::JobStore> store_;
  const std::shared_ptr<const transport::ArchiveKeeper> keeper_ = MakeCatalogKeeper();
  const std::shared_ptr<const jobs::RunHook> hook_ = transport::MakeRunHook(keeper_);
  const std::shared_ptr<const jobs::JobHandler> pack_ = transport::MakePackHandler(keeper_);
  jobs::RunContext ctx_;
  StagingBackend* staging_ = nullptr;  // the run's staging location, as its worker opened it
  jobs::WorkerOptions options_;
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
    auto decoded = jobs::DecodeTransfer(p.payload);
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
  auto recorded = catalog().HasArchive(kLoc, staging().Keys()[0]);
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
  const jobs::ScanContext scan{
      .run = ctx_, .options = options_, .control = control, .stats = stats_};
  ASSERT_TRUE(jobs::ScanChunk(scan, KeyRange{"k/105", std::string("k/110")}, more).ok());
  EXPECT_EQ(*catalog().RunsWithGone(kLoc), std::vector<int64_t>{ctx_.run.id});
  ASSERT_EQ(*catalog().CommitGone(kLoc, ctx_.run.id), 1u);
  auto gone = catalog().Tombstones(kLoc, "");
  ASSERT_EQ(gone->size(), 1u);
  EXPECT_EQ(gone->front().key, "k/107");
  EXPECT_EQ(gone->front().run, ctx_.run.id);
  // The whole key space: the other two.
  EXPECT_TRUE(Scan().empty());
  EXPECT_EQ(*catalog().CommitGone(kLoc, ctx_.run.id), 2u);
  EXPECT_EQ(catalog().Tombstones(kLoc, "")->size(), 3u);
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
}  // namespace ferry::backup
