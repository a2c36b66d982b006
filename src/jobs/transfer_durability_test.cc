// The durability contract of durable runs (storage/backend.h): a transfer job writes its objects
// with deferred durability and calls the destination's Sync before its outcome records them
// done. What these would catch: a job recorded done whose objects a crash could still take (a
// Sync missing, or after the outcome), a failed Sync that still lets the job count as done.
// MemoryBackends (the destination behind a testing::SyncRecorder), a SQLite JobStore, a real
// worker.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <vector>

#include "base/clock.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/sync_recorder.h"
#include "testing/test_executor.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;
using Event = testing::SyncRecorder::Event;

class TransferDurabilityTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-transfer-durability-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), SystemClock::Default());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    for (int i = 0; i < 40; ++i) {
      const std::string body(100 + i, static_cast<char>('a' + i % 26));
      storage::WriteSpec spec;
      spec.size = body.size();
      ASSERT_TRUE(src_.Put("k" + std::to_string(i), std::as_bytes(std::span(body)), spec, {}).ok());
    }
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A cp run src -> dst with its first scan job, run by one worker until it ends.
  RunId Run() {
    RunOptions options;
    options.max_attempts = 1;
    auto run = store_->CreateRun(RunSpec{"src", "dst", EncodeRunOptions(options)});
    EXPECT_TRUE(run.ok());
    run_ = *run;  // before the worker's threads look at it
    JobSpec scan;
    scan.run = *run;
    scan.kind = kScanKind;
    scan.payload = EncodeScan(KeyRange{});
    scan.max_attempts = options.max_attempts;
    EXPECT_TRUE(store_->Enqueue({scan}).ok());
    WorkerOptions w;
    w.owner = "test:worker";
    w.concurrency = 4;
    w.executor = &ferry::testing::TestExecutor();
    w.batch_objects = 10;  // four transfer jobs
    w.only_run = *run;
    w.exit_when_done = true;
    w.idle_poll = std::chrono::milliseconds(10);
    const BackendOpener opener = [this](const std::string& text, bool) {
      if (text == "src") {
        return Result<std::unique_ptr<storage::Backend>>(
            std::make_unique<ferry::testing::BorrowedBackend>(src_));
      }
      return Result<std::unique_ptr<storage::Backend>>(
          std::make_unique<ferry::testing::BorrowedBackend>(
              static_cast<storage::Backend&>(recorder_)));  // not a copy of the recorder
    };
    Worker worker(*store_, opener, w, stats_);
    RunProgress progress = RunProgress::kWorking;
    (void)worker.Run({}, &progress);
    return *run;
  }

  // How many transfer jobs of `run` are in `state`.
  size_t TransferJobs(RunId run, JobState state) {
    auto jobs = store_->ListJobs(run, state, 1000);
    EXPECT_TRUE(jobs.ok()) << jobs.status().ToString();
    size_t n = 0;
    if (jobs.ok()) {
      for (const Job& j : *jobs) n += j.spec.kind == kTransferKind ? 1 : 0;
    }
    return n;
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  storage::MemoryBackend src_;
  storage::MemoryBackend dst_;
  testing::SyncRecorder recorder_{dst_};
  transfer::Stats stats_;
  RunId run_ = 0;
};

// Each job's writes are deferred and followed by a Sync before the job is done: at each Sync the
// objects written so far are all there, and no more transfer jobs are done than Syncs came
// before (a job recorded done before its Sync would make the count run ahead).
TEST_F(TransferDurabilityTest, EachJobSyncsItsWritesBeforeItIsDone) {
  std::mutex mu;
  std::vector<size_t> done_at_sync;
  recorder_.on_sync = [&] {
    const size_t done = TransferJobs(run_, JobState::kDone);
    std::lock_guard lock(mu);
    done_at_sync.push_back(done);
    return Status::Ok();
  };
  const RunId id = Run();
  EXPECT_EQ(stats_.objects_copied.load(), 40u);
  const size_t jobs = TransferJobs(id, JobState::kDone);
  EXPECT_GE(jobs, 4u);
  const auto events = recorder_.events();
  size_t syncs = 0;
  for (const Event& e : events) {
    if (e.kind == Event::kSync) {
      ++syncs;
    } else {
      EXPECT_TRUE(e.deferred) << e.key;
    }
  }
  EXPECT_EQ(syncs, jobs) << "one Sync per transfer job";
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().kind, Event::kSync) << "the last write is followed by a Sync";
  std::lock_guard lock(mu);
  for (size_t i = 0; i < done_at_sync.size(); ++i) {
    EXPECT_LE(done_at_sync[i], i) << "a job was recorded done before its Sync";
  }
}

// A Sync that fails (the flush of the file system reported an error: the writes may be lost)
// records no object done: the job fails as its writes would have, although every byte was
// written.
TEST_F(TransferDurabilityTest, AFailedSyncRecordsNoJobDone) {
  recorder_.on_sync = [] { return Status::PermissionDenied("flush to disk: refused"); };
  const RunId run = Run();
  EXPECT_EQ(TransferJobs(run, JobState::kDone), 0u);
  EXPECT_GE(TransferJobs(run, JobState::kDead), 4u);
  auto written = dst_.Stat("k0", false, {});
  EXPECT_TRUE(written.ok()) << "the bytes were written; only the record is withheld";
}

}  // namespace
}  // namespace ferry::jobs
