// Worker runs end to end in one process: local folders on both sides, a SQLite JobStore in a
// temporary folder, and real worker threads. The S3/PostgreSQL versions of these runs are the
// CLI tests (tests/cli/durable_*_test.sh).
#include "jobs/worker.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "base/clock.h"
#include "checksum/checksum.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "testing/fake_clock.h"
#include "storage/key.h"
#include "storage/local/local_backend.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;
using Files = std::map<std::string, std::string>;  // key -> content

class WorkerRunTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-worker-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "src");
    fs::create_directories(dir_ / "dst");
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  std::string Side(const char* name) const { return (dir_ / name).string(); }

  void Write(const char* side, const Files& files) {
    storage::LocalBackend backend(Side(side));
    for (const auto& [key, body] : files) {
      storage::WriteSpec spec;
      spec.size = body.size();
      spec.mtime = kMtime;  // the same on both sides: unchanged unless the size differs
      ASSERT_TRUE(backend.Put(key, checksum::AsBytes(body), spec, {}).ok())
          << storage::PrintableKey(key);
    }
  }

  Files Read(const char* side) {
    storage::LocalBackend backend(Side(side));
    Files out;
    auto cursor = backend.List("");
    EXPECT_TRUE(cursor.ok());
    if (!cursor.ok()) return out;
    for (;;) {
      auto next = (*cursor)->Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || *next == nullptr) return out;
      std::string body((*next)->size, '\0');
      EXPECT_TRUE(backend.ReadAt((*next)->key, 0, std::as_writable_bytes(std::span(body)), "", {})
                      .ok());
      out[(*next)->key] = body;
    }
  }

  // Creates a run src -> dst with its first scan job and runs `workers` workers on it to the end.
  // A run src -> dst with its first scan job.
  RunId NewRun(RunOptions options) {
    auto run = store_->CreateRun(RunSpec{Side("src"), Side("dst"), EncodeRunOptions(options)});
    EXPECT_TRUE(run.ok());
    JobSpec scan;
    scan.run = *run;
    scan.kind = kScanKind;
    scan.payload = EncodeScan(KeyRange{});
    scan.max_attempts = options.max_attempts;
    EXPECT_TRUE(store_->Enqueue({scan}).ok());
    return *run;
  }

  static Result<std::unique_ptr<storage::Backend>> OpenLocal(const std::string& path,
                                                             bool destination) {
    (void)destination;
    return std::unique_ptr<storage::Backend>(std::make_unique<storage::LocalBackend>(path));
  }

  // Creates a run src -> dst and runs `workers` workers on it to the end.
  RunId RunWith(int workers, size_t scan_chunk, bool delete_extra, size_t split_check = 1000) {
    RunOptions options;
    options.delete_extra = delete_extra;
    options.decide.delete_extra = delete_extra;
    const RunId run = NewRun(options);
    const BackendOpener opener = &OpenLocal;
    std::vector<std::thread> threads;
    std::vector<transfer::Stats> stats(workers);
    for (int i = 0; i < workers; ++i) {
      threads.emplace_back([&, i] {
        WorkerOptions w;
        w.executor = &ferry::testing::TestExecutor();
        w.owner = "test:" + std::to_string(i);
        w.concurrency = 8;
        w.scan_chunk = scan_chunk;
        w.split_check_keys = split_check;
        w.split_recheck = std::chrono::milliseconds(0);  // every look asks the store
        w.batch_objects = 20;
        w.only_run = run;
        w.exit_when_done = true;
        w.idle_poll = std::chrono::milliseconds(20);
        Worker worker(*store_, opener, w, stats[i]);
        RunProgress progress = RunProgress::kWorking;
        EXPECT_TRUE(worker.Run({}, &progress).ok());
        EXPECT_EQ(progress, RunProgress::kDone);
      });
    }
    for (auto& t : threads) t.join();
    return run;
  }

  // The destination holds exactly `want`, and no job of `run` is dead.
  void ExpectDestinationIs(const Files& want, RunId run) {
    const Files got = Read("dst");
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(got == want) << "destination differs from the source";
    auto counts = store_->CountJobs(run);
    ASSERT_TRUE(counts.ok());
    EXPECT_EQ(counts->jobs[static_cast<size_t>(JobState::kDead)], 0u);
  }

  // The key ranges of the run's scan jobs (all done by now).
  std::vector<KeyRange> ScanRanges(RunId run) {
    std::vector<KeyRange> out;
    auto jobs = store_->ListJobs(run, JobState::kDone, 1000000);
    EXPECT_TRUE(jobs.ok());
    for (const Job& j : *jobs) {
      if (j.spec.kind != kScanKind) continue;
      auto range = DecodeScan(j.spec.payload);
      EXPECT_TRUE(range.ok());
      out.push_back(*range);
    }
    return out;
  }

  static constexpr auto kMtime =
      std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
  SystemClock clock_;
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
};

// A chunk reads one destination key ahead of the source; a key past the chunk's end that the
// source has in its next chunk must not be planned as an extra (and deleted).
TEST_F(WorkerRunTest, DestinationKeyPastTheChunkIsLeftToTheNextChunk) {
  Write("src", {{"a", "1"}, {"b", "2"}, {"z", "3"}});
  Write("dst", {{"a", "1"}, {"z", "3"}, {"zz", "extra"}});
  RunWith(1, 2, /*delete_extra=*/true);
  EXPECT_EQ(Read("dst"), (Files{{"a", "1"}, {"b", "2"}, {"z", "3"}}));
}

// Source and destination for the parallel runs: thousands of keys (folders, flat numbered
// names, hostile and non-UTF-8 names). With `changes` the destination holds a third of them
// unchanged and a third changed, else all of them unchanged; extras between them either way.
// Returns the source.
Files WriteTree(WorkerRunTest& t, bool changes) {
  Files src;
  Files dst;
  std::mt19937 rng(11);
  for (int d = 0; d < 12; ++d) {
    for (int f = 0; f < 60; ++f) {
      src["dir" + std::to_string(d) + "/sub/f" + std::to_string(f)] = "";
    }
  }
  for (int i = 0; i < 900; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "obj-%05d", i);
    src[name] = "";
  }
  for (const char* k : {"a b", "100%", "a+b", "ü/日本語", "\xF0\x9F\x98\x80", "caf\xE9", "..x",
                        "dir3 ", "dir3-", "dir3/sub/f5.bak"}) {
    src[k] = "";
  }
  for (auto& [key, content] : src) content = key + ":" + std::to_string(rng() % 1000);
  int i = 0;
  for (const auto& [key, content] : src) {
    if (!changes || i % 3 == 0) dst[key] = content;
    if (changes && i % 3 == 1) dst[key] = content + "-old";
    if (i % 7 == 0) dst[key + "~extra"] = "x";
    ++i;
  }
  dst["dir99/extra"] = "x";
  dst["zzz"] = "x";
  t.Write("src", src);
  t.Write("dst", dst);
  return src;
}

// Listed in chunks of 37 keys by two workers: ranges split when a chunk is cut, and every key
// is planned exactly once.
TEST_F(WorkerRunTest, ParallelListingAtChunkEndsCopiesAndDeletesExactly) {
  const Files src = WriteTree(*this, /*changes=*/true);
  const RunId run = RunWith(2, 37, /*delete_extra=*/true);
  ExpectDestinationIs(src, run);
  const std::vector<KeyRange> ranges = ScanRanges(run);
  size_t bounded = 0;
  for (const KeyRange& r : ranges) bounded += r.last.has_value();
  EXPECT_GT(bounded, 4u);
  EXPECT_GE(ranges.size(), src.size() / 37);
}

// One chunk would cover every key, but scans look for idle listers every 25 keys and hand the
// high part of their range on at once: the listing spreads over ranges mid-chunk, exactly. No
// object changed (a listing-bound run: queued transfer work would hold splits back), extras
// are deleted.
TEST_F(WorkerRunTest, ParallelListingByHandOffDeletesExactly) {
  const Files src = WriteTree(*this, /*changes=*/false);
  const RunId run = RunWith(2, 1000000, /*delete_extra=*/true, /*split_check=*/25);
  ExpectDestinationIs(src, run);
  // Handed-on ranges are scan jobs of their own; the first scan kept only the low part.
  const std::vector<KeyRange> ranges = ScanRanges(run);
  EXPECT_GE(ranges.size(), 4u);
  ASSERT_FALSE(ranges.empty());
  EXPECT_TRUE(ranges.front().last.has_value());
}

// A long-lived worker (`ferry worker`) lets go of a run blocked on a dead job, and takes it up
// again when the job is redriven.
TEST_F(WorkerRunTest, ServingWorkerFinishesARunBlockedThenRedriven) {
  Write("src", {{"d/x", "1"}, {"y", "2"}});
  Write("dst", {{"d", "a file where the source has a folder"}});
  RunOptions options;
  options.max_attempts = 1;
  const RunId run = NewRun(options);
  testing::FakeClock worker_clock;  // its polls and run advances happen as the test moves it
  WorkerOptions w;
  w.executor = &ferry::testing::TestExecutor();
  w.owner = "test:serving";
  w.idle_poll = std::chrono::milliseconds(20);
  w.clock = &worker_clock;
  transfer::Stats stats;
  Worker worker(*store_, &OpenLocal, w, stats);
  std::stop_source stop;
  std::thread serving([&] { EXPECT_TRUE(worker.Run(stop.get_token()).ok()); });
  auto wait_for = [&](RunState want) {
    // Each move: a poll, and a look at the run.
    return testing::AdvanceUntil(worker_clock, std::chrono::milliseconds(301), [&] {
      auto r = store_->GetRun(run);
      return r.ok() && r->state == want;
    }, 5000);
  };
  EXPECT_TRUE(wait_for(RunState::kFailed)) << "the clash makes the transfer job dead";
  EXPECT_EQ(Read("dst"), (Files{{"d", "a file where the source has a folder"}, {"y", "2"}}));
  std::filesystem::remove(dir_ / "dst" / "d");
  ASSERT_TRUE(store_->Redrive(run).ok());
  EXPECT_TRUE(wait_for(RunState::kDone)) << "the redriven job is claimed and the run finishes";
  stop.request_stop();
  serving.join();
  EXPECT_EQ(Read("dst"), (Files{{"d/x", "1"}, {"y", "2"}}));
}

}  // namespace
}  // namespace ferry::jobs

namespace ferry::jobs {
namespace {

// A local folder that counts its Checks (a HEAD of the bucket on S3).
class CheckCountingBackend : public storage::LocalBackend {
 public:
  using storage::LocalBackend::LocalBackend;
  Status Check(std::stop_token stop) override {
    checks.fetch_add(1);
    return storage::LocalBackend::Check(stop);
  }
  static inline std::atomic<int> checks{0};
};

// The command that made a run checked its locations just before: the worker it runs in its own
// process does not check them again (only_run_checked); any other worker does.
TEST_F(WorkerRunTest, ARunCheckedByItsCommandIsNotCheckedAgain) {
  Write("src", {{"a", "1"}});
  const BackendOpener opener = [](const std::string& path, bool) {
    return Result<std::unique_ptr<storage::Backend>>(
        std::unique_ptr<storage::Backend>(std::make_unique<CheckCountingBackend>(path)));
  };
  int checks[2] = {0, 0};  // by only_run_checked (a local listing checks its folder too)
  for (bool checked : {false, true}) {
    CheckCountingBackend::checks = 0;
    const RunId run = NewRun(RunOptions{});
    WorkerOptions w;
    w.executor = &ferry::testing::TestExecutor();
    w.owner = checked ? "test:checked" : "test:unchecked";
    w.only_run = run;
    w.exit_when_done = true;
    w.only_run_checked = checked;
    transfer::Stats stats;
    Worker worker(*store_, opener, w, stats);
    ASSERT_TRUE(worker.Run({}).ok());
    EXPECT_EQ(store_->GetRun(run)->state, RunState::kDone);
    checks[checked] = CheckCountingBackend::checks.load();
  }
  EXPECT_EQ(checks[false] - checks[true], 2) << "the source and the destination, once each";
  EXPECT_EQ(Read("dst"), (Files{{"a", "1"}}));
}

}  // namespace
}  // namespace ferry::jobs

namespace ferry::jobs {
namespace {

// A local folder that refuses every write, each with a message naming its key.
class RefusingBackend : public storage::LocalBackend {
 public:
  using storage::LocalBackend::LocalBackend;
  Result<storage::WriteResult> Put(std::string_view key, std::span<const std::byte>,
                                   const storage::WriteSpec&, std::stop_token) override {
    return Status::PermissionDenied("refused " + std::string(key));
  }
};

// Several objects of one transfer job fail for their own reasons: the dead job keeps each
// object's error beside it (issue 43, item 12: the job's one last_error is the first one's).
TEST_F(WorkerRunTest, ADeadTransferJobKeepsEachFailedObjectsOwnError) {
  Write("src", {{"a", "1"}, {"b", "2"}, {"c", "3"}});
  const BackendOpener opener = [](const std::string& path, bool destination) {
    std::unique_ptr<storage::Backend> b;
    if (destination) {
      b = std::make_unique<RefusingBackend>(path);
    } else {
      b = std::make_unique<storage::LocalBackend>(path);
    }
    return Result<std::unique_ptr<storage::Backend>>(std::move(b));
  };
  RunOptions options;
  options.max_attempts = 1;
  const RunId run = NewRun(options);
  WorkerOptions w;
  w.executor = &ferry::testing::TestExecutor();
  w.owner = "test:refused";
  w.only_run = run;
  w.exit_when_done = true;
  w.batch_objects = 20;  // the three objects in one job
  transfer::Stats stats;
  Worker worker(*store_, opener, w, stats);
  RunProgress progress = RunProgress::kWorking;
  ASSERT_TRUE(worker.Run({}, &progress).ok());
  auto dead = store_->ListJobs(run, JobState::kDead, 100);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  const Job& job = dead->front();
  auto objects = DecodeTransfer(job.spec.payload);
  auto errors = DecodeTransferErrors(job.spec.payload);
  ASSERT_TRUE(objects.ok());
  ASSERT_TRUE(errors.ok());
  ASSERT_EQ(objects->size(), 3u);
  ASSERT_EQ(errors->size(), 3u);
  for (size_t i = 0; i < objects->size(); ++i) {
    const std::string& key = (*objects)[i].src.key;
    EXPECT_NE((*errors)[i].find("refused " + key), std::string::npos) << key << ": " << (*errors)[i];
  }
  EXPECT_NE(job.last_error.find("refused"), std::string::npos) << job.last_error;
}

}  // namespace
}  // namespace ferry::jobs
