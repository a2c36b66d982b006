// RunMetrics: the runs' gauges follow the job store when a scrape renders them, at most once per
// max_age, and runs leave them once they are done or ended before the window.
#include "jobs/run_metrics.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "jobs/sqlite/sqlite_job_store.h"
#include "testing/fake_clock.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

class RunMetricsTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-run-metrics-test-XXXXXX";
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

  RunId NewRun(const std::string& options) {
    auto run = store_->CreateRun({"a", "b", options});
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : 0;
  }
  // Enqueues a job of `run` and kills it (one attempt, failed).
  void DeadJob(RunId run, const std::string& kind) {
    JobSpec s;
    s.run = run;
    s.kind = kind;
    s.max_attempts = 1;
    ASSERT_TRUE(store_->Enqueue({s}).ok());
    auto claimed = store_->Claim("w", seconds(30), 1, run);
    ASSERT_TRUE(claimed.ok() && claimed->size() == 1);
    Outcome fail;
    fail.kind = Outcome::Kind::kFail;
    fail.error = "denied";
    ASSERT_TRUE(store_->Finish((*claimed)[0].lease, fail).ok());
  }
  // The value of `family`'s series with these label values (a scrape: the render hook runs),
  // or -1 when absent.
  double Value(const std::string& family, const std::vector<std::string>& labels) const {
    for (const obs::Registry::FamilySnapshot& f : registry_.Snapshot()) {
      if (f.name != family) continue;
      for (const obs::Registry::Sample& s : f.samples) {
        if (s.label_values == labels) return s.value;
      }
    }
    return -1;
  }

  fs::path dir_;
  testing::FakeClock clock_;
  obs::Registry registry_;
  std::unique_ptr<JobStore> store_;
};

TEST_F(RunMetricsTest, ScrapeReadsDeadJobsAgeProgressAndFailedRuns) {
  const auto t0 = clock_.Now();
  const RunId sync = NewRun(R"({"command":"sync"})");
  const RunId backup = NewRun(R"({"command":"backup"})");
  const RunId old = NewRun("not json");
  DeadJob(sync, kTransferKind);
  DeadJob(sync, kTransferKind);
  JobSpec scan;
  scan.run = backup;
  scan.kind = kScanKind;
  scan.objects = 7;
  ASSERT_TRUE(store_->Enqueue({scan}).ok());
  ASSERT_TRUE(store_->SetRunState(old, RunState::kFailed).ok());
  RunMetrics metrics(registry_, *store_, clock_);
  clock_.Advance(seconds(90));
  const std::string s = std::to_string(sync), b = std::to_string(backup), o = std::to_string(old);
  EXPECT_EQ(Value("ferry_jobs_dead", {s, "sync", kTransferKind}), 2);
  EXPECT_EQ(Value("ferry_run_age_seconds", {s, "sync"}), 90);
  EXPECT_EQ(Value("ferry_run_age_seconds", {b, "backup"}), 90);
  EXPECT_EQ(Value("ferry_run_objects_total", {b, "backup"}), 7);
  EXPECT_EQ(Value("ferry_run_objects_done", {b, "backup"}), 0);
  const double t0_s = std::chrono::duration<double>(t0.time_since_epoch()).count();
  EXPECT_EQ(Value("ferry_run_last_progress_timestamp_seconds", {b, "backup"}), t0_s);
  // the sync has only dead jobs: no work, so no stall to watch (the dead jobs alarm)
  EXPECT_EQ(Value("ferry_run_last_progress_timestamp_seconds", {s, "sync"}), -1);
  EXPECT_EQ(Value("ferry_run_failed_timestamp_seconds", {o, "unknown"}), t0_s);
  EXPECT_EQ(Value("ferry_runs_failed", {"unknown"}), 1);
  EXPECT_EQ(Value("ferry_run_age_seconds", {o, "unknown"}), -1);  // ended: no age
}

TEST_F(RunMetricsTest, ScrapesWithinMaxAgeReadTheStoreOnce) {
  const RunId run = NewRun(R"({"command":"cp"})");
  RunMetrics metrics(registry_, *store_, clock_, {.max_age = seconds(5)});
  const std::string r = std::to_string(run);
  EXPECT_EQ(Value("ferry_jobs_dead", {r, "cp", kTransferKind}), -1);
  const uint64_t reads = store_->transactions();
  DeadJob(run, kTransferKind);
  const uint64_t after_dead = store_->transactions();
  clock_.Advance(seconds(4));
  EXPECT_EQ(Value("ferry_jobs_dead", {r, "cp", kTransferKind}), -1);  // cached
  EXPECT_EQ(Value("ferry_run_age_seconds", {r, "cp"}), 0);            // as of the first scrape
  EXPECT_EQ(store_->transactions(), after_dead);
  clock_.Advance(seconds(1));
  EXPECT_EQ(Value("ferry_jobs_dead", {r, "cp", kTransferKind}), 1);
  EXPECT_EQ(store_->transactions(), after_dead + 1);
  EXPECT_GT(after_dead, reads);
}

TEST_F(RunMetricsTest, RunsLeaveWhenDoneOrPastTheWindow) {
  const RunId done = NewRun(R"({"command":"sync"})");
  const RunId failed = NewRun(R"({"command":"sync"})");
  DeadJob(failed, kTransferKind);
  ASSERT_TRUE(store_->SetRunState(failed, RunState::kFailed).ok());
  RunMetrics metrics(registry_, *store_, clock_, {.max_age = seconds(0), .window = seconds(600)});
  const std::string d = std::to_string(done), f = std::to_string(failed);
  EXPECT_EQ(Value("ferry_run_age_seconds", {d, "sync"}), 0);
  EXPECT_EQ(Value("ferry_jobs_dead", {f, "sync", kTransferKind}), 1);
  EXPECT_EQ(Value("ferry_runs_failed", {"sync"}), 1);
  ASSERT_TRUE(store_->SetRunState(done, RunState::kDone).ok());
  clock_.Advance(seconds(601));
  EXPECT_EQ(Value("ferry_run_age_seconds", {d, "sync"}), -1);
  EXPECT_EQ(Value("ferry_jobs_dead", {f, "sync", kTransferKind}), -1);
  EXPECT_EQ(Value("ferry_run_failed_timestamp_seconds", {f, "sync"}), -1);
  EXPECT_EQ(Value("ferry_runs_failed", {"sync"}), -1);
}

TEST(RunCommandTest, TheOptionsCommandOrUnknown) {
  jobs::Run run;
  run.spec.options = R"({"command":"cache-warm","x":1})";
  EXPECT_EQ(RunCommand(run), "cache-warm");
  run.spec.options = R"({"command":""})";
  EXPECT_EQ(RunCommand(run), "unknown");
  run.spec.options = "{";
  EXPECT_EQ(RunCommand(run), "unknown");
}

}  // namespace
}  // namespace ferry::jobs
