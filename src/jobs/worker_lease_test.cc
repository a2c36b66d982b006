// Workers and their leases: a worker that cannot open a run gives the job back and stops; a
// worker whose lease was lost stops that job's work at once and writes nothing more for it;
// leases of dead processes are released early only when they are surely of this machine.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <regex>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "checksum/checksum.h"
#include "jobs/kinds/handler.h"
#include "jobs/kinds/registry.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "jobs/worker_internal.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using std::chrono::seconds;

class WorkerLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-worker-lease-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  RunId NewRun(const RunOptions& options, JobSpec job) {
    auto run = store_->CreateRun(RunSpec{"src-loc", "dst-loc", EncodeRunOptions(options)});
    EXPECT_TRUE(run.ok());
    job.run = *run;
    job.max_attempts = options.max_attempts;
    auto ids = store_->Enqueue({job});
    EXPECT_TRUE(ids.ok());
    job_ = ids->at(0);
    return *run;
  }
  Job GetJob() {
    auto j = store_->GetJob(job_);
    EXPECT_TRUE(j.ok());
    return j.ok() ? *j : Job{};
  }
  static JobSpec ScanSpec() {
    JobSpec s;
    s.kind = kScanKind;
    s.payload = EncodeScan(KeyRange{});
    return s;
  }

  // Moves the worker's clock by `step` until the worker made a transaction (an idle poll), each
  // move once the worker waits on its clock (a move that lands while the worker is still busy
  // with its last poll, before it waits for the next deadline, would wake nothing). False when
  // the worker did not wait, or woke and waited again without a transaction, 20 times.
  bool AdvanceUntilTransaction(milliseconds step) {
    const uint64_t before = store_->transactions();
    for (int moves = 0; moves < 20; ++moves) {
      if (!worker_clock_.AwaitWaiters(1)) return false;
      const uint64_t begun = worker_clock_.waits_begun();
      worker_clock_.Advance(step);
      testing::WaitFor([&] {
        return store_->transactions() > before || worker_clock_.waits_begun() > begun;
      });
      if (store_->transactions() > before) return true;
    }
    return false;
  }

  testing::FakeClock clock_;         // the store's
  testing::FakeClock worker_clock_;  // the worker's: idle polls and renewals happen when moved
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  JobId job_ = 0;
};

// An opener that cannot open the destination (unknown remote, missing credentials): the
// worker gives the job back without counting the attempt and stops with that one error.
TEST_F(WorkerLeaseTest, AWorkerThatCannotOpenARunGivesTheJobBackAndStops) {
  RunOptions options;
  options.max_attempts = 1;  // a counted attempt would make the job dead at once
  const RunId run = NewRun(options, ScanSpec());
  for (const Status& why :
       {Status::InvalidArgument("unknown remote 'nope' in 'nope:bucket' (not defined in x)"),
        Status::NotFound("no AWS credentials found (profile \"default\")")}) {
    for (RunId only_run : {run, RunId{0}}) {  // cp/sync's worker, then `ferry worker`
      BackendOpener opener = [&](const std::string& location,
                                 bool destination) -> Result<std::unique_ptr<storage::Backend>> {
        (void)location;
        if (destination) return why;
        return std::unique_ptr<storage::Backend>(std::make_unique<storage::MemoryBackend>());
      };
      WorkerOptions w;
      w.executor = &ferry::testing::TestExecutor();
      w.owner = "test:1:-:00000001";
      w.only_run = only_run;
      w.exit_when_done = only_run != 0;
      w.idle_poll = milliseconds(10);
      transfer::Stats stats;
      Worker worker(*store_, opener, w, stats);
      Status s = worker.Run({});
      EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument) << s.ToString();
      EXPECT_EQ(s.message(), "cannot open the destination of run " + std::to_string(run) +
                                  ": " + why.message());
      const Job job = GetJob();
      EXPECT_EQ(job.state, JobState::kQueued);
      EXPECT_EQ(job.attempts, 0) << "giving back does not count an attempt";
      EXPECT_EQ(job.lease_owner, "");
    }
  }
}

// A transient failure to open (the server is down) is the job's to retry, as before: the
// worker goes on.
TEST_F(WorkerLeaseTest, ATransientFailureToOpenIsRetried) {
  const RunId run = NewRun(RunOptions{}, ScanSpec());
  std::atomic<int> opens{0};
  BackendOpener opener = [&](const std::string&,
                             bool) -> Result<std::unique_ptr<storage::Backend>> {
    ++opens;
    return Status::Unavailable("connection refused");
  };
  WorkerOptions w;
  w.executor = &ferry::testing::TestExecutor();
  w.owner = "test:2:-:00000002";
  w.only_run = run;
  w.idle_poll = milliseconds(10);
  w.clock = &worker_clock_;
  transfer::Stats stats;
  Worker worker(*store_, opener, w, stats);
  std::stop_source stop;
  Status result;
  std::thread serving([&] { result = worker.Run(stop.get_token()); });
  testing::WaitFor([&] { return GetJob().attempts != 0; });
  // Five more idle polls, one per move of the worker's clock: each claims nothing (the retry
  // waits out its backoff on the store's clock).
  bool polled = true;
  for (int i = 0; i < 5 && polled; ++i) {
    polled = AdvanceUntilTransaction(w.idle_poll);
    EXPECT_TRUE(polled) << "poll " << i;
  }
  const Job job = GetJob();
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.attempts, 1) << "a transient failure counts";
  EXPECT_NE(job.last_error.find("connection refused"), std::string::npos);
  stop.request_stop();
  serving.join();
  EXPECT_TRUE(result.ok()) << result.ToString();
}

// A source whose first `free_reads` ranged reads are served at once and whose later ones wait
// until they are stopped (at most 10 s), so that a multipart copy is still going when its
// lease is taken away.
class StallingSource : public storage::MemoryBackend {
 public:
  StallingSource(Options o, int free_reads)
      : MemoryBackend(std::move(o)), free_reads_(free_reads) {}
  Status ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                std::string_view etag, std::stop_token stop) override {
    if (reads_.fetch_add(1) >= free_reads_) {
      std::mutex mu;
      std::condition_variable_any woken_by_the_stop;
      std::unique_lock lock(mu);
      woken_by_the_stop.wait_for(lock, stop, seconds(10), [] { return false; });
    }
    return MemoryBackend::ReadAt(key, offset, out, etag, stop);
  }

 private:
  const int free_reads_;
  std::atomic<int> reads_{0};
};

// The lease of a worker's job is taken over by another worker (it expired, e.g. a long GC
// pause or a network partition): the worker stops the job's work at once, keeps the upload for
// the new holder (no abort), and neither finishes the job nor moves its checkpoint.
TEST_F(WorkerLeaseTest, AWorkerThatLostItsLeaseStopsTheJobAndLeavesTheUpload) {
  storage::MemoryBackend::Options mem;
  mem.features.min_part_size = 1024;
  auto src_owned = std::make_unique<StallingSource>(mem, 8);
  mem.endpoint = "other";  // no server-side copy: the parts go through this worker
  auto dst_owned = std::make_unique<storage::MemoryBackend>(mem);
  StallingSource* src = src_owned.get();
  storage::MemoryBackend* dst = dst_owned.get();
  const std::string body(300 * 1024, 'b');  // 300 parts of 1 KiB, all but 8 stalled
  storage::WriteSpec spec;
  spec.size = body.size();
  ASSERT_TRUE(src->Put("big", checksum::AsBytes(body), spec, {}).ok());
  auto info = src->Stat("big", false, {});
  ASSERT_TRUE(info.ok());
  RunOptions options;
  options.multipart_threshold = 4096;
  options.part_size = 1024;
  transfer::CopyRequest copy;
  copy.src = *info;
  JobSpec transfer;
  transfer.kind = kTransferKind;
  transfer.payload = EncodeTransfer({copy});
  const RunId run = NewRun(options, transfer);
  BackendOpener opener = [&](const std::string&,
                             bool destination) -> Result<std::unique_ptr<storage::Backend>> {
    if (destination) return std::unique_ptr<storage::Backend>(std::move(dst_owned));
    return std::unique_ptr<storage::Backend>(std::move(src_owned));
  };
  WorkerOptions w;
  w.executor = &ferry::testing::TestExecutor();
  w.owner = "test:3:-:00000003";
  w.only_run = run;
  w.concurrency = 2;
  w.lease_ttl = seconds(1);  // renewed every 333 ms of the worker's clock
  w.idle_poll = milliseconds(10);
  w.clock = &worker_clock_;
  transfer::Stats stats;
  Worker worker(*store_, opener, w, stats);
  std::stop_source stop;
  std::thread serving([&] { EXPECT_TRUE(worker.Run(stop.get_token()).ok()); });
  // Wait until some parts are checkpointed.
  testing::WaitFor([&] {
    auto u = store_->LoadUpload(job_, {"", "big"});
    return u.ok() && u->has_value() && (*u)->parts.size() >= 5;
  });
  // Another worker claims the job once its lease ran out on the store's clock (the worker's
  // clock stands still: it renews nothing meanwhile). First the worker's claim loop waits for
  // its next poll: a claim still under way would take the job back itself.
  ASSERT_TRUE(worker_clock_.AwaitWaiters(2));
  clock_.Advance(seconds(2));
  auto claimed = store_->Claim("thief", seconds(600), 1, run);
  ASSERT_TRUE(claimed.ok());
  std::vector<ClaimedJob> thief = *claimed;
  if (thief.empty()) {
    const Job j = GetJob();
    stop.request_stop();
    serving.join();
    FAIL() << JobStateName(j.state) << " " << j.lease_owner << " " << j.last_error;
  }
  auto at_steal = store_->LoadUpload(job_, {"", "big"});
  ASSERT_TRUE(at_steal.ok() && at_steal->has_value());
  // The worker notices (its next renewal, due now, or checkpoint) and its writer ends, detached.
  worker_clock_.Advance(milliseconds(334));
  const auto t0 = std::chrono::steady_clock::now();
  testing::WaitFor([&] { return dst->open_writers() == 0; }, seconds(3));
  EXPECT_EQ(dst->open_writers(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(2)) << "stopped at once";
  const int parts = dst->counts().parts;
  EXPECT_LT(parts, 300);
  EXPECT_EQ(dst->counts().aborts, 0) << "the upload is the new holder's to resume";
  auto pending = dst->ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u);
  auto now = store_->LoadUpload(job_, {"", "big"});
  ASSERT_TRUE(now.ok() && now->has_value());
  EXPECT_EQ((*now)->upload_id, (*pending)[0].upload_id);
  EXPECT_EQ((*now)->parts.size(), (*at_steal)->parts.size()) << "checkpoint moved by a non-holder";
  EXPECT_FALSE(dst->Contents("big").has_value());
  stop.request_stop();
  serving.join();  // all of the worker's threads ended: what it would write, it wrote by now
  EXPECT_EQ(dst->counts().parts, parts) << "a part written after the job was stopped";
  const Job job = GetJob();  // the old worker did not finish it
  EXPECT_EQ(job.state, JobState::kLeased);
  EXPECT_EQ(job.lease_owner, "thief");
  EXPECT_EQ(job.attempts, 2);
}

// A job whose attempt runs past its lease (the worker could not renew: its clock stands still
// here, as in a stall) and that the same worker claims again runs once at a time: the earlier
// attempt is cancelled (its lease is gone) and the new one starts only after it ended. Before,
// the new attempt started beside the old one and took its place in the worker's books, so the
// end of the old attempt dropped the new one from its renewals.
class TwoAttemptsKind : public JobHandler {
 public:
  std::string_view name() const override { return "two-attempts"; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return false; }
  JobResult Run(JobContext& ctx) const override {
    const int now_running = ++running_;
    int seen = max_running_.load();
    while (now_running > seen && !max_running_.compare_exchange_weak(seen, now_running)) {
    }
    ++attempts_;
    if (ctx.claimed.job.attempts == 1) {
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock lock(mu);
      cv.wait_for(lock, ctx.cancel, seconds(20), [] { return false; });
      cancelled_ = ctx.cancel.stop_requested();
      // real time: the attempt ends its writes a while longer (nothing signals a start that
      // must not happen): a second attempt started beside this one would show now.
      std::this_thread::sleep_for(milliseconds(200));
    }
    --running_;
    return ctx.claimed.job.attempts == 1 ? EndedWith(Status::Cancelled("lease lost"), 1)
                                         : JobResult{};
  }
  mutable std::atomic<int> running_{0};
  mutable std::atomic<int> max_running_{0};
  mutable std::atomic<int> attempts_{0};
  mutable std::atomic<bool> cancelled_{false};
};

TEST_F(WorkerLeaseTest, AJobItsOwnWorkerClaimsAgainRunsOnceAtATime) {
  JobSpec spec;
  spec.kind = "two-attempts";
  const RunId run = NewRun(RunOptions{}, spec);
  auto kind = std::make_shared<TwoAttemptsKind>();
  KindRegistry kinds = KindRegistry::Builtin();
  ASSERT_TRUE(kinds.Register(kind).ok());
  BackendOpener opener = [](const std::string&, bool) -> Result<std::unique_ptr<storage::Backend>> {
    return std::unique_ptr<storage::Backend>(std::make_unique<storage::MemoryBackend>());
  };
  WorkerOptions w;
  w.executor = &ferry::testing::TestExecutor();
  w.owner = "test:5:-:00000005";
  w.only_run = run;
  w.lease_ttl = seconds(1);  // renewed every 333 ms of the worker's clock
  w.idle_poll = milliseconds(10);
  w.clock = &worker_clock_;
  w.registry = &kinds;
  transfer::Stats stats;
  Worker worker(*store_, opener, w, stats);
  std::stop_source stop;
  std::thread serving([&] { EXPECT_TRUE(worker.Run(stop.get_token()).ok()); });
  testing::WaitFor([&] { return kind->attempts_ == 1; });
  ASSERT_EQ(kind->attempts_, 1);
  // The renewals and the claim loop wait on the worker's clock: the lease runs out on the
  // store's, then the claim loop's next poll (10 ms, before any renewal) claims the job again.
  ASSERT_TRUE(worker_clock_.AwaitWaiters(2));
  clock_.Advance(seconds(2));
  worker_clock_.Advance(milliseconds(20));
  testing::WaitFor([&] { return GetJob().state == JobState::kDone; });
  stop.request_stop();
  serving.join();
  EXPECT_TRUE(kind->cancelled_) << "the first attempt was not stopped";
  EXPECT_EQ(kind->attempts_, 2);
  EXPECT_EQ(kind->max_running_, 1) << "both attempts ran at once";
  const Job job = GetJob();
  EXPECT_EQ(job.state, JobState::kDone);
  EXPECT_EQ(job.attempts, 2);
}

// A checkpoint refused because the lease is gone is kCancelled for the engine (which then keeps
// the upload instead of aborting it) and tells the worker.
TEST_F(WorkerLeaseTest, AJournalWithALostLeaseCancels) {
  JobSpec spec;
  spec.kind = kTransferKind;
  NewRun(RunOptions{}, spec);
  auto claimed = store_->Claim("w", seconds(1), 1);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
  Status lost;
  StoreJournal journal(*store_, (*claimed)[0].lease, {"", "k"}, [&](const Status& s) { lost = s; });
  ASSERT_TRUE(journal.Begin("upload-1", 1024, "etag=e;version=;size=1;mtime=0").ok());
  ASSERT_TRUE(journal.PartDone({1, 7, 1024, ""}).ok());
  clock_.Advance(seconds(2));
  ASSERT_TRUE(store_->Claim("v", seconds(60), 1).ok());
  EXPECT_EQ(journal.PartDone({2, 8, 1024, ""}).code(), ErrorCode::kCancelled);
  EXPECT_EQ(lost.code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(journal.Clear().code(), ErrorCode::kCancelled);
  auto u = store_->LoadUpload(job_, {"", "k"});
  ASSERT_TRUE(u.ok() && u->has_value());
  EXPECT_EQ((*u)->parts.size(), 1u);
}

TEST(DefaultOwnerTest, NamesHostPidBootAndANonce) {
  const std::string owner = DefaultOwner();
  EXPECT_TRUE(std::regex_match(owner, std::regex("[^:]+:[0-9]+:([0-9a-f]{8}|-):[0-9a-f]{8}")))
      << owner;
  EXPECT_NE(owner.find(":" + std::to_string(getpid()) + ":"), std::string::npos);
  EXPECT_EQ(DefaultOwner(), owner) << "one owner per process";
}

// Only a lease of this host *and boot* whose process is gone is released early: a host name is
// shared by containers and clones, and an owner of an older ferry says no boot.
TEST_F(WorkerLeaseTest, OnlyLeasesOfDeadProcessesOfThisBootAreReleased) {
  const std::string me = DefaultOwner();
  const size_t c3 = me.rfind(':');
  const size_t c2 = me.rfind(':', c3 - 1);
  const size_t c1 = me.rfind(':', c2 - 1);
  const std::string host = me.substr(0, c1);
  const std::string boot = me.substr(c2 + 1, c3 - c2 - 1);
  if (boot == "-") GTEST_SKIP() << "no boot id on this machine";
  const pid_t child = fork();
  if (child == 0) _exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(waitpid(child, nullptr, 0), child);
  const std::string dead = std::to_string(child);
  const std::string other_boot = std::string(boot[0] == '0' ? "1" : "0") + boot.substr(1);
  const std::vector<std::string> owners = {
      host + ":" + dead + ":" + boot + ":0000abcd",        // dead, this boot: released
      host + ":" + dead + ":" + other_boot + ":0000abcd",  // another machine of that name
      host + ":" + dead,                                    // an older ferry: no boot id
      host + ":" + std::to_string(getppid()) + ":" + boot + ":0000abcd",  // alive
      "elsewhere:" + dead + ":" + boot + ":0000abcd",                      // another host
      me,
  };
  JobSpec spec;
  spec.kind = kTransferKind;
  const RunId run = NewRun(RunOptions{}, spec);
  std::vector<JobSpec> more(owners.size() - 1, spec);
  for (auto& m : more) m.run = run;
  ASSERT_TRUE(store_->Enqueue(more).ok());
  std::vector<JobId> ids;
  for (const std::string& owner : owners) {
    auto claimed = store_->Claim(owner, seconds(600), 1, run);
    ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
    ids.push_back((*claimed)[0].job.id);
  }
  auto released = Worker::ReleaseLeasesOfDeadLocalOwners(*store_, run);
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(*released, 1u);
  for (size_t i = 0; i < ids.size(); ++i) {
    auto job = store_->GetJob(ids[i]);
    ASSERT_TRUE(job.ok());
    EXPECT_EQ(job->lease_expires <= clock_.Now(), i == 0) << owners[i];
  }
}

}  // namespace
}  // namespace ferry::jobs
