// The --max-delete guard of durable runs (delete_guard.h, Worker::AdvanceRun): past the limit
// not one delete is made, whichever process moves the run on; the run says why and stays
// failed with its deletes parked; a new run with a higher limit deletes. Local folders on both
// sides and a SQLite store in a temporary folder, real worker threads.
#include "jobs/delete_guard.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <thread>

#include "base/clock.h"
#include "checksum/checksum.h"
#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/payload.h"
#include "jobs/scan.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/local/local_backend.h"
#include "testing/test_executor.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

class DeleteGuardTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-delete-guard-test-XXXXXX";
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

  void Write(const char* side, const std::string& key) {
    storage::LocalBackend backend(Side(side));
    const std::string body = "body of " + key;
    storage::WriteSpec spec;
    spec.size = body.size();
    spec.mtime = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
    ASSERT_TRUE(backend.Put(key, checksum::AsBytes(body), spec, {}).ok()) << key;
  }

  size_t Count(const char* side) const {
    size_t n = 0;
    for (const auto& e : fs::recursive_directory_iterator(dir_ / side)) n += e.is_regular_file();
    return n;
  }

  // 20 destination objects, the source keeps 8 of them and adds 2: 12 deletes planned of 20
  // destination objects in scope (60%).
  void TwelveOfTwenty() {
    for (int i = 0; i < 20; ++i) Write("dst", "k" + std::to_string(100 + i));
    for (int i = 0; i < 8; ++i) Write("src", "k" + std::to_string(100 + i));
    Write("src", "new1");
    Write("src", "new2");
  }

  // A run src -> dst with --delete and `limit` worked to its end by two workers listing in
  // chunks of 3 keys (several scans, hand-offs and delete-scope counts); its final progress.
  // `report`: --report into the folder "report", with the run's summary job.
  RunProgress Sync(const char* limit, RunId* id = nullptr, bool report = false) {
    RunOptions options;
    options.command = "sync";
    options.delete_extra = true;
    options.decide.delete_extra = true;
    if (limit != nullptr) options.max_delete = *plan::ParseDeleteLimit(limit);
    std::vector<JobSpec> first{FirstScanJob(0, 5)};
    if (report) {
      fs::create_directories(dir_ / "report");
      options.report = {.location = Side("report"), .format = "csv", .level = "changes"};
      first.push_back(ReportSummaryJob());
    }
    auto run = store_->CreateRun(RunSpec{Side("src"), Side("dst"), EncodeRunOptions(options)},
                                 first);
    EXPECT_TRUE(run.ok());
    if (id != nullptr) *id = *run;
    const BackendOpener opener = [](const std::string& path, bool) {
      return Result<std::unique_ptr<storage::Backend>>(
          std::unique_ptr<storage::Backend>(std::make_unique<storage::LocalBackend>(path)));
    };
    std::vector<std::thread> threads;
    std::vector<RunProgress> progress(2, RunProgress::kWorking);
    std::vector<transfer::Stats> stats(2);
    for (int i = 0; i < 2; ++i) {
      threads.emplace_back([&, i] {
        WorkerOptions w;
        w.executor = &ferry::testing::TestExecutor();
        w.owner = "guard-test:" + std::to_string(i);
        w.concurrency = 4;
        w.scan_chunk = 3;
        w.scan_hand_off_jobs = 2;
        w.batch_objects = 2;
        w.only_run = *run;
        w.exit_when_done = true;
        w.idle_poll = std::chrono::milliseconds(10);
        Worker worker(*store_, opener, w, stats[i]);
        EXPECT_TRUE(worker.Run({}, &progress[i]).ok());
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(progress[0], progress[1]);
    return progress[0];
  }

  RunCounts Counts(RunId run) {
    auto c = store_->CountJobs(run);
    EXPECT_TRUE(c.ok());
    return c.ok() ? *c : RunCounts{};
  }

  SystemClock clock_;
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(DeleteGuardTest, PastTheCountNothingIsDeletedAndTheRunSaysWhy) {
  TwelveOfTwenty();
  RunId run = 0;
  EXPECT_EQ(Sync("11", &run), RunProgress::kBlocked);
  EXPECT_EQ(Count("dst"), 22u);  // all 20 kept, the 2 copies made: not a single delete
  const RunCounts c = Counts(run);
  EXPECT_EQ(c.state, RunState::kFailed);
  EXPECT_EQ(c.of(kDeleteKind).objects_total, 12u);
  EXPECT_EQ(c.of(kDeleteKind).of(JobState::kQueued), c.of(kDeleteKind).jobs[0]);  // parked
  EXPECT_EQ(c.of(kDeleteKind).of(JobState::kDone), 0u);
  EXPECT_EQ(c.of(kDeleteScopeKind).objects_total, 0u) << "a count needs no scope";
  auto why = StoppedByDeleteGuard(*DecodeRunOptions(store_->GetRun(run)->spec.options), c);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("12 deletes planned"), std::string::npos) << *why;
  EXPECT_NE(why->find("--max-delete 11"), std::string::npos) << *why;
  // Whoever advances it again (another worker, a redrive's) leaves it where it is.
  EXPECT_EQ(*Worker::AdvanceRun(*store_, run, nullptr, clock_), RunProgress::kBlocked);
  EXPECT_EQ(Count("dst"), 22u);
  // A new run with the limit raised deletes them.
  EXPECT_EQ(Sync("12"), RunProgress::kDone);
  EXPECT_EQ(Count("dst"), 10u);
}

// A run with a report stopped by the limit still gets its summary, written by its summary job
// before the run fails: it says why no delete was made; the deletes stay parked.
TEST_F(DeleteGuardTest, ARunStoppedByTheLimitWritesItsReportSummaryFirst) {
  TwelveOfTwenty();
  RunId run = 0;
  EXPECT_EQ(Sync("11", &run, /*report=*/true), RunProgress::kBlocked);
  EXPECT_EQ(Count("dst"), 22u);  // not a single delete
  const RunCounts c = Counts(run);
  EXPECT_EQ(c.state, RunState::kFailed);
  EXPECT_EQ(c.of(kDeleteKind).of(JobState::kDone), 0u);
  EXPECT_EQ(c.of(kReportSummaryKind).of(JobState::kDone), 1u);
  std::ifstream in(dir_ / "report" / "summary.json");
  ASSERT_TRUE(in.good()) << "no summary";
  const nlohmann::json summary = nlohmann::json::parse(in);
  const std::string notes = summary.value("not_checked", nlohmann::json::array()).dump();
  EXPECT_NE(notes.find("the run stopped before its deletes: 12 deletes planned, over "
                       "--max-delete 11: nothing was deleted"),
            std::string::npos)
      << summary.dump();
  EXPECT_EQ(summary["counts"]["copied"]["ok"], 2) << summary.dump();
  EXPECT_TRUE(StoppedByDeleteGuard(*DecodeRunOptions(store_->GetRun(run)->spec.options), c));
}

TEST_F(DeleteGuardTest, PercentageIsOfTheDestinationObjectsTheScansCompared) {
  TwelveOfTwenty();
  RunId run = 0;
  EXPECT_EQ(Sync("59%", &run), RunProgress::kBlocked);
  EXPECT_EQ(Count("dst"), 22u);
  const RunCounts c = Counts(run);
  EXPECT_EQ(c.of(kDeleteScopeKind).objects_total, 20u);  // summed over every chunk's count
  auto why = StoppedByDeleteGuard(*DecodeRunOptions(store_->GetRun(run)->spec.options), c);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("60% of the 20 destination objects in scope"), std::string::npos) << *why;
  // At the limit the deletes run, and the scope counts are done with them.
  EXPECT_EQ(Sync("60%", &run), RunProgress::kDone);
  EXPECT_EQ(Count("dst"), 10u);
  const KindCounts scope = Counts(run).of(kDeleteScopeKind);
  EXPECT_GT(scope.of(JobState::kDone), 1u);  // one per chunk that saw destination objects
  EXPECT_EQ(scope.active() + scope.of(JobState::kDead), 0u);
}

TEST_F(DeleteGuardTest, WithoutALimitEverythingPlannedIsDeleted) {
  TwelveOfTwenty();
  EXPECT_EQ(Sync(nullptr), RunProgress::kDone);
  EXPECT_EQ(Count("dst"), 10u);
}

// The gate is AdvanceRun's: a run whose scans were done elsewhere (here: jobs enqueued by hand,
// as another process's scans would have) is stopped by the first process that advances it, and
// its deletes stay parked.
TEST_F(DeleteGuardTest, AnyProcessThatAdvancesTheRunAppliesTheStoredLimit) {
  RunOptions options;
  options.command = "sync";
  options.delete_extra = true;
  options.max_delete = *plan::ParseDeleteLimit("1000");
  auto run = store_->CreateRun(RunSpec{"a", "b", EncodeRunOptions(options)});
  ASSERT_TRUE(run.ok());
  std::vector<JobSpec> deletes;
  for (int i = 0; i < 2; ++i) {
    JobSpec d;
    d.run = *run;
    d.kind = kDeleteKind;
    d.payload = EncodeDelete({"x" + std::to_string(i)});
    d.objects = 600;
    d.not_before = kParked;
    deletes.push_back(d);
  }
  ASSERT_TRUE(store_->Enqueue(deletes).ok());
  EXPECT_EQ(*Worker::AdvanceRun(*store_, *run, nullptr, clock_), RunProgress::kBlocked);
  EXPECT_EQ(store_->GetRun(*run)->state, RunState::kFailed);
  EXPECT_EQ(store_->GetRun(*run)->phase, 0);
  auto queued = store_->ListJobs(*run, JobState::kQueued, 10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 2u);
  for (const Job& j : *queued) EXPECT_EQ(j.not_before, kParked) << "a delete was unparked";
  // No claim can take them.
  auto claimed = store_->Claim("someone", std::chrono::seconds(30), 10, *run);
  ASSERT_TRUE(claimed.ok());
  EXPECT_TRUE(claimed->empty());
}

TEST_F(DeleteGuardTest, RefusalOnlyPastTheLimit) {
  RunOptions o;
  RunCounts c;
  c.by_kind[kDeleteKind].objects_total = 5;
  c.by_kind[kDeleteScopeKind].objects_total = 50;
  EXPECT_FALSE(DeleteGuardRefusal(o, c).has_value());  // no limit
  o.max_delete = *plan::ParseDeleteLimit("5");
  EXPECT_FALSE(DeleteGuardRefusal(o, c).has_value());
  o.max_delete = *plan::ParseDeleteLimit("4");
  EXPECT_TRUE(DeleteGuardRefusal(o, c).has_value());
  o.max_delete = *plan::ParseDeleteLimit("10%");
  EXPECT_FALSE(DeleteGuardRefusal(o, c).has_value());
  o.max_delete = *plan::ParseDeleteLimit("9.9%");
  EXPECT_TRUE(DeleteGuardRefusal(o, c).has_value());
}

RunOptions o_flag() {
  RunOptions o;
  o.max_delete = *plan::ParseDeleteLimit("3");
  return o;
}

// The limit travels with the run: stored in its options, read back by any worker.
TEST(DeleteGuardOptionsTest, TheLimitRoundTripsInTheRunOptions) {
  for (const char* text : {"0", "1000", "10%", "2.5%", "0.0001%", "100%"}) {
    RunOptions o;
    o.max_delete = *plan::ParseDeleteLimit(text);
    auto back = DecodeRunOptions(EncodeRunOptions(o));
    ASSERT_TRUE(back.ok()) << text << ": " << back.status().message();
    EXPECT_EQ(back->max_delete.Text(), text);
  }
  RunOptions none;
  EXPECT_EQ(EncodeRunOptions(none).find("max_delete"), std::string::npos);
  EXPECT_FALSE(DecodeRunOptions(EncodeRunOptions(none))->max_delete.enabled());
  // Where the limit was set travels too (its refusal names it, on whichever worker).
  RunOptions keyed;
  keyed.max_delete = *plan::ParseDeleteLimit("10%");
  keyed.max_delete.from = "[sync] max_delete";
  EXPECT_EQ(DecodeRunOptions(EncodeRunOptions(keyed))->max_delete.Name(), "[sync] max_delete");
  EXPECT_EQ(DecodeRunOptions(EncodeRunOptions(o_flag()))->max_delete.Name(), "--max-delete");
  std::string bad = EncodeRunOptions(none);
  bad.insert(1, "\"max_delete\":\"150%\",");
  EXPECT_FALSE(DecodeRunOptions(bad).ok());
}

}  // namespace
}  // namespace ferry::jobs
