// A durable run's --max-transfer (WorkerOptions::cutoff, docs/design/guards.md): the command's
// worker copies no more than the limit lets start, gives back the copies it kept from starting
// (no attempt counted), claims nothing more and returns with the run unfinished; nothing is
// deleted; another worker (or the command again) finishes the run. Local folders on both sides
// and a SQLite store in a temporary folder, real worker threads.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "base/clock.h"
#include "checksum/checksum.h"
#include "jobs/payload.h"
#include "jobs/scan.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/local/local_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "transfer/cutoff.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

class TransferCutoffTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-transfer-cutoff-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "src");
    fs::create_directories(dir_ / "dst");
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    // 10 objects of 12 bytes ("body of k100") to copy, 2 extras at the destination to delete
    for (int i = 0; i < 10; ++i) Write("src", "k" + std::to_string(100 + i));
    Write("dst", "x1");
    Write("dst", "x2");
    RunOptions options;
    options.command = "sync";
    options.delete_extra = true;
    options.decide.delete_extra = true;
    auto run = store_->CreateRun(RunSpec{Side("src"), Side("dst"), EncodeRunOptions(options)},
                                 {FirstScanJob(0, 5)});
    ASSERT_TRUE(run.ok());
    run_ = *run;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string Side(const char* name) const { return (dir_ / name).string(); }

  void Write(const char* side, const std::string& key) {
    storage::LocalBackend backend(Side(side));
    const std::string body = "body of " + key;
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(backend.Put(key, checksum::AsBytes(body), spec, {}).ok()) << key;
  }

  size_t Count(const char* side) const {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / side)) n += e.is_regular_file();
    return n;
  }

  // One worker on the run until it returns (the run done, or the cutoff cut it).
  RunProgress Work(transfer::Cutoff* cutoff) {
    WorkerOptions w;
    w.executor = &ferry::testing::TestExecutor();
    w.owner = "cutoff-test";
    w.concurrency = 4;
    w.batch_objects = 3;  // transfer jobs of 3 objects: one is cut in its middle
    w.only_run = run_;
    w.exit_when_done = true;
    w.idle_poll = std::chrono::milliseconds(10);
    w.cutoff = cutoff;
    const BackendOpener opener = [](const std::string& path, bool) {
      return Result<std::unique_ptr<storage::Backend>>(
          std::unique_ptr<storage::Backend>(std::make_unique<storage::LocalBackend>(path)));
    };
    transfer::Stats stats;
    Worker worker(*store_, opener, w, stats);
    RunProgress progress = RunProgress::kWorking;
    EXPECT_TRUE(worker.Run({}, &progress).ok());
    return progress;
  }

  // After a cut: the run unfinished, its transfer jobs given back without an attempt counted,
  // nothing deleted; then a worker without a limit finishes it, deletes included.
  void ExpectResumable() {
    auto counts = store_->CountJobs(run_);
    ASSERT_TRUE(counts.ok());
    EXPECT_EQ(counts->state, RunState::kRunning);
    EXPECT_EQ(counts->jobs[static_cast<size_t>(JobState::kDead)], 0u);
    auto queued = store_->ListJobs(run_, JobState::kQueued, 100);
    ASSERT_TRUE(queued.ok());
    size_t transfers = 0;
    for (const Job& j : *queued) {
      if (j.spec.kind != kTransferKind) continue;
      ++transfers;
      EXPECT_EQ(j.attempts, 0) << "a cut is no failed attempt";
    }
    EXPECT_GT(transfers, 0u);
    EXPECT_TRUE(fs::exists(dir_ / "dst" / "x1")) << "a cut run deletes nothing";
    EXPECT_TRUE(fs::exists(dir_ / "dst" / "x2"));
    EXPECT_EQ(Work(nullptr), RunProgress::kDone);
    EXPECT_EQ(Count("dst"), 10u);
    EXPECT_FALSE(fs::exists(dir_ / "dst" / "x1"));
  }

  SystemClock clock_;
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  RunId run_ = 0;
};

TEST_F(TransferCutoffTest, CautiousCopiesNoMoreThanTheLimitAndTheRunResumes) {
  // 50 bytes: 4 copies of 12 (48); a 5th would pass the limit and never starts
  transfer::Cutoff cutoff({.max_transfer = 50,
                           .max_duration = std::chrono::milliseconds(0),
                           .mode = transfer::CutoffMode::kCautious},
                          SystemClock::Default(), SystemClock::Default().MonoNow());
  EXPECT_EQ(Work(&cutoff), RunProgress::kWorking);
  EXPECT_TRUE(cutoff.cut());
  EXPECT_EQ(cutoff.reason(), transfer::CutoffReason::kMaxTransfer);
  EXPECT_EQ(Count("dst"), 4u + 2u);  // the 2 extras still there
  ExpectResumable();
}

TEST_F(TransferCutoffTest, HardAndSoftStopAtTheLimitAndTheRunResumes) {
  for (transfer::CutoffMode mode : {transfer::CutoffMode::kHard, transfer::CutoffMode::kSoft}) {
    SCOPED_TRACE(transfer::CutoffModeName(mode));
    TearDown();
    SetUp();
    // 30 bytes: copies start while fewer than 30 bytes started (3 of 12); the 4th is refused
    transfer::Cutoff cutoff(
        {.max_transfer = 30, .max_duration = std::chrono::milliseconds(0), .mode = mode},
        SystemClock::Default(), SystemClock::Default().MonoNow());
    EXPECT_EQ(Work(&cutoff), RunProgress::kWorking);
    EXPECT_TRUE(cutoff.cut());
    EXPECT_LE(Count("dst"), 3u + 2u);  // a hard cut may cancel one that had started
    ExpectResumable();
  }
}

TEST_F(TransferCutoffTest, ASoftDeadlinePassedClaimsNothingAndTheRunResumes) {
  // --max-duration soft, its deadline passed before the worker's first claim: no job is
  // claimed (Cutoff::CutNow before each claim), even though no copy ever asked MayStart
  ferry::testing::FakeClock fake;
  transfer::Cutoff cutoff({.max_transfer = 0,
                           .max_duration = std::chrono::milliseconds(1000),
                           .mode = transfer::CutoffMode::kSoft},
                          fake, fake.MonoNow());
  fake.Advance(std::chrono::seconds(2));
  EXPECT_EQ(Work(&cutoff), RunProgress::kWorking);
  EXPECT_EQ(cutoff.reason(), transfer::CutoffReason::kMaxDuration);
  auto queued = store_->ListJobs(run_, JobState::kQueued, 10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 1u);
  EXPECT_EQ(queued->front().spec.kind, kScanKind);
  EXPECT_EQ(queued->front().attempts, 0) << "the scan was claimed past the deadline";
  EXPECT_EQ(Count("dst"), 2u);
  EXPECT_EQ(Work(nullptr), RunProgress::kDone);
  EXPECT_EQ(Count("dst"), 10u);
}

}  // namespace
}  // namespace ferry::jobs
