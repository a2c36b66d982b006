// A durable `ferry move` (jobs/move_sources.h, docs/design/guards.md): the source objects its
// copies and its scans proved at the destination are deleted in its delete phase, after every
// copy is done, only while the source still holds the bytes proved, and not at all past its
// --max-delete or when a copy failed for good. Local folders on both sides, a SQLite store in
// a temporary folder, real worker threads.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "base/clock.h"
#include "checksum/checksum.h"
#include "jobs/delete_guard.h"
#include "jobs/payload.h"
#include "jobs/scan.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "plan/delete_limit.h"
#include "storage/local/local_backend.h"
#include "testing/test_executor.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

class MoveSourcesTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-move-sources-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "src");
    fs::create_directories(dir_ / "dst");
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    // 8 source objects: k100..k105 to copy, k106 and k107 already at the destination (the same
    // bytes), and k105 there with other bytes (copied over)
    for (int i = 0; i < 8; ++i) Write("src", Key(i), "body of " + Key(i));
    Write("dst", Key(6), "body of " + Key(6));
    Write("dst", Key(7), "body of " + Key(7));
    Write("dst", Key(5), "older bytes");
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  static std::string Key(int i) { return "k" + std::to_string(100 + i); }
  std::string Side(const char* name) const { return (dir_ / name).string(); }

  void Write(const char* side, const std::string& key, const std::string& body) {
    storage::LocalBackend backend(Side(side));
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(backend.Put(key, checksum::AsBytes(body), spec, {}).ok()) << key;
  }
  std::string Read(const char* side, const std::string& key) const {
    std::ifstream in(dir_ / side / key, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void CreateRun(const std::string& max_delete = "") {
    RunOptions options;
    options.command = "move";
    options.decide.checksum = true;  // as the command sets it: identical only by the bytes
    options.max_attempts = 2;
    if (!max_delete.empty()) options.max_delete = plan::ParseDeleteLimit(max_delete).value();
    auto run = store_->CreateRun(RunSpec{Side("src"), Side("dst"), EncodeRunOptions(options)},
                                 {FirstScanJob(0, 2)});
    ASSERT_TRUE(run.ok());
    run_ = *run;
  }

  // One worker on the run until it ends; `kinds` (optional): only those, returning once they
  // are drained.
  RunProgress Work(std::vector<std::string> kinds = {}, bool keep_folders = false) {
    WorkerOptions w;
    w.executor = &ferry::testing::TestExecutor();
    w.owner = "move-test";
    w.concurrency = 4;
    w.batch_objects = 3;
    w.only_run = run_;
    w.exit_when_done = true;
    w.exit_when_kinds_drained = !kinds.empty();
    w.kinds = std::move(kinds);
    w.idle_poll = std::chrono::milliseconds(10);
    const BackendOpener opener = [keep_folders](const std::string& path, bool destination) {
      storage::LocalOptions o;
      o.remove_emptied_folders = !(keep_folders && !destination);
      auto local = storage::LocalBackend::Open(path, /*create=*/false, o);
      if (!local.ok()) return Result<std::unique_ptr<storage::Backend>>(local.status());
      return Result<std::unique_ptr<storage::Backend>>(
          std::unique_ptr<storage::Backend>(std::move(local).value()));
    };
    Worker worker(*store_, opener, w, stats_);
    RunProgress progress = RunProgress::kWorking;
    EXPECT_TRUE(worker.Run({}, &progress).ok());
    return progress;
  }

  RunCounts Counts() {
    auto counts = store_->CountJobs(run_);
    EXPECT_TRUE(counts.ok());
    return counts.ok() ? *counts : RunCounts{};
  }

  SystemClock clock_;
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  RunId run_ = 0;
  transfer::Stats stats_;
};

TEST_F(MoveSourcesTest, EveryProvedSourceIsDeletedAfterItsCopy) {
  CreateRun();
  EXPECT_EQ(Work(), RunProgress::kDone);
  for (int i = 0; i < 8; ++i) {
    EXPECT_FALSE(fs::exists(dir_ / "src" / Key(i))) << Key(i) << " was not moved";
    EXPECT_EQ(Read("dst", Key(i)), "body of " + Key(i));
  }
  // the copied (6) and the two found identical by their bytes, in the delete phase
  const RunCounts c = Counts();
  EXPECT_EQ(c.of(kMoveSourcesKind).objects_total, 8u);
  EXPECT_EQ(stats_.sources_deleted.load(), 8u);
  EXPECT_EQ(stats_.sources_kept.load(), 0u);
}

TEST_F(MoveSourcesTest, NoSourceIsDeletedBeforeEveryCopyIsDone) {
  CreateRun();
  // the copies and scans alone: every source object is still there, its delete parked
  EXPECT_EQ(Work({kScanKind, kTransferKind}), RunProgress::kWorking);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(fs::exists(dir_ / "src" / Key(i))) << Key(i);
  auto queued = store_->ListJobs(run_, JobState::kQueued, 100);
  ASSERT_TRUE(queued.ok());
  size_t waiting = 0;  // unparked by now (every copy is done), not run by this worker
  for (const Job& j : *queued) waiting += j.spec.kind == kMoveSourcesKind ? 1 : 0;
  EXPECT_GT(waiting, 0u);
  EXPECT_EQ(Counts().of(kMoveSourcesKind).of(JobState::kDone), 0u);
  // k101 written anew on the source meanwhile: it stays there, named, and the run fails
  Write("src", Key(1), "written again after the copy");
  EXPECT_EQ(Work(), RunProgress::kBlocked);
  EXPECT_EQ(Counts().state, RunState::kFailed);
  EXPECT_EQ(Read("src", Key(1)), "written again after the copy");
  EXPECT_EQ(stats_.sources_kept.load(), 1u);
  for (int i = 0; i < 8; ++i) {
    if (i == 1) continue;
    EXPECT_FALSE(fs::exists(dir_ / "src" / Key(i))) << Key(i) << " was not moved";
  }
  auto dead = store_->ListJobs(run_, JobState::kDead, 10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  EXPECT_NE(dead->front().last_error.find("k101: kept on the source: it changed"),
            std::string::npos)
      << dead->front().last_error;
}

TEST_F(MoveSourcesTest, AFailedCopyKeepsEverySourceObject) {
  // k103's destination is a folder holding a file: its copy fails for good
  fs::create_directories(dir_ / "dst" / Key(3));
  Write("dst", Key(3) + "/inner", "in the way");
  CreateRun();
  EXPECT_EQ(Work(), RunProgress::kBlocked);
  EXPECT_EQ(Counts().state, RunState::kFailed);
  for (int i = 0; i < 8; ++i) EXPECT_TRUE(fs::exists(dir_ / "src" / Key(i))) << Key(i);
  EXPECT_EQ(stats_.sources_deleted.load(), 0u);
}

TEST_F(MoveSourcesTest, FoldersStayUnlessDeleteEmptySrcDirs) {
  for (const bool remove : {false, true}) {
    SCOPED_TRACE(remove ? "--delete-empty-src-dirs" : "without the flag");
    TearDown();
    SetUp();
    Write("src", "a/b/deep", "deep");
    Write("src", "a/x", "x");
    RunOptions options;
    options.command = "move";
    options.decide.checksum = true;
    options.delete_empty_src_dirs = remove;
    auto run = store_->CreateRun(RunSpec{Side("src"), Side("dst"), EncodeRunOptions(options)},
                                 {FirstScanJob(0, 2)});
    ASSERT_TRUE(run.ok());
    run_ = *run;
    // the source opened as app::OpenerFor opens a run's source: keeping its emptied folders
    EXPECT_EQ(Work({}, /*keep_folders=*/true), RunProgress::kDone);
    EXPECT_EQ(Read("dst", "a/b/deep"), "deep");
    EXPECT_EQ(fs::exists(dir_ / "src" / "a"), !remove);
    EXPECT_EQ(fs::exists(dir_ / "src" / "a" / "b"), !remove);
    EXPECT_TRUE(fs::exists(dir_ / "src")) << "never the source folder itself";
  }
}

TEST_F(MoveSourcesTest, PastMaxDeleteNothingIsDeleted) {
  for (const char* limit : {"7", "50%"}) {
    SCOPED_TRACE(limit);
    TearDown();
    SetUp();
    CreateRun(limit);
    EXPECT_EQ(Work(), RunProgress::kBlocked);
    const RunCounts c = Counts();
    EXPECT_EQ(c.state, RunState::kFailed);
    for (int i = 0; i < 8; ++i) EXPECT_TRUE(fs::exists(dir_ / "src" / Key(i))) << Key(i);
    RunOptions options;
    options.command = "move";
    options.max_delete = plan::ParseDeleteLimit(limit).value();
    const auto why = StoppedByDeleteGuard(options, c);
    ASSERT_TRUE(why.has_value());
    EXPECT_NE(why->find("8 deletes planned"), std::string::npos) << *why;
    EXPECT_NE(why->find("source"), std::string::npos) << *why;
  }
  // within the limit they are made
  TearDown();
  SetUp();
  CreateRun("100%");
  EXPECT_EQ(Work(), RunProgress::kDone);
  for (int i = 0; i < 8; ++i) EXPECT_FALSE(fs::exists(dir_ / "src" / Key(i))) << Key(i);
}

}  // namespace
}  // namespace ferry::jobs
