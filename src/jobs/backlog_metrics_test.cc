// BacklogMetrics: the fleet's gauges follow the job store, and series of runs that ended go.
#include "jobs/backlog_metrics.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <thread>

#include "jobs/sqlite/sqlite_job_store.h"
#include "testing/fake_clock.h"
#include "testing/wait_for.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

class BacklogMetricsTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-backlog-test-XXXXXX";
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

  RunId Run() {
    auto run = store_->CreateRun({"a", "b", "{}"});
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : 0;
  }
  void Enqueue(RunId run, const std::string& kind, int n, uint64_t bytes) {
    std::vector<JobSpec> specs;
    for (int i = 0; i < n; ++i) {
      JobSpec s;
      s.run = run;
      s.kind = kind;
      s.objects = 1;
      s.bytes = bytes;
      specs.push_back(s);
    }
    ASSERT_TRUE(store_->Enqueue(specs).ok());
  }
  // The value of `family`'s series with these labels in the exposition, or -1 when absent.
  double Value(const std::string& family, const std::string& run, const std::string& role,
               const std::string& kind) const {
    for (const obs::Registry::FamilySnapshot& f : registry_.Snapshot()) {
      if (f.name != family) continue;
      for (const obs::Registry::Sample& s : f.samples) {
        if (s.label_values == std::vector<std::string>{run, role, kind}) return s.value;
      }
    }
    return -1;
  }

  fs::path dir_;
  testing::FakeClock clock_;
  obs::Registry registry_;
  std::unique_ptr<JobStore> store_;
};

std::string Roles(std::string_view kind) { return kind == "unpack" ? "unpack" : "any"; }

TEST_F(BacklogMetricsTest, GaugesFollowTheStoreAndEndedRunsLeave) {
  const RunId run = Run();
  const RunId other = Run();
  Enqueue(run, kTransferKind, 3, 1000);
  Enqueue(other, "unpack", 2, 50);
  BacklogMetrics metrics(registry_, &Roles);
  clock_.Advance(std::chrono::seconds(90));
  ASSERT_TRUE(metrics.Refresh(*store_, clock_).ok());
  const std::string r = std::to_string(run), o = std::to_string(other);
  EXPECT_EQ(Value("ferry_jobs_waiting", r, "any", kTransferKind), 3);
  EXPECT_EQ(Value("ferry_jobs_waiting_bytes", r, "any", kTransferKind), 3000);
  EXPECT_EQ(Value("ferry_jobs_oldest_waiting_seconds", r, "any", kTransferKind), 90);
  EXPECT_EQ(Value("ferry_jobs_running", r, "any", kTransferKind), 0);
  EXPECT_EQ(Value("ferry_jobs_waiting", o, "unpack", "unpack"), 2);
  EXPECT_EQ(Value("ferry_jobs_waiting_bytes", o, "unpack", "unpack"), 100);

  // A worker takes two of the run's jobs; the other run ends.
  auto claimed = store_->Claim("w", std::chrono::seconds(30), 2, run);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  ASSERT_TRUE(store_->SetRunState(other, RunState::kDone).ok());
  ASSERT_TRUE(metrics.Refresh(*store_, clock_).ok());
  EXPECT_EQ(Value("ferry_jobs_waiting", r, "any", kTransferKind), 1);
  EXPECT_EQ(Value("ferry_jobs_running", r, "any", kTransferKind), 2);
  EXPECT_EQ(Value("ferry_jobs_waiting", o, "unpack", "unpack"), -1);  // removed
  EXPECT_EQ(Value("ferry_jobs_delayed", o, "unpack", "unpack"), -1);

  // Everything done: no series left.
  for (const ClaimedJob& c : *claimed) ASSERT_TRUE(store_->Finish(c.lease, {}).ok());
  auto rest = store_->Claim("w", std::chrono::seconds(30), 5, run);
  ASSERT_TRUE(rest.ok());
  for (const ClaimedJob& c : *rest) ASSERT_TRUE(store_->Finish(c.lease, {}).ok());
  ASSERT_TRUE(metrics.Refresh(*store_, clock_).ok());
  EXPECT_EQ(Value("ferry_jobs_waiting", r, "any", kTransferKind), -1);
  EXPECT_EQ(registry_.RenderPrometheus().find("run=\""), std::string::npos);
}

// The refresher reads at once and again after each interval (the fake clock's SleepFor returns
// at once, so its thread refreshes over and over), and once more when it ends.
TEST_F(BacklogMetricsTest, RefresherReadsAtStartAgainAndAtTheEnd) {
  const RunId run = Run();
  const std::string r = std::to_string(run);
  BacklogMetrics metrics(registry_, &Roles);
  Enqueue(run, kScanKind, 1, 0);
  {
    BacklogRefresher refresher(metrics, *store_, clock_, std::chrono::seconds(10));
    EXPECT_EQ(Value("ferry_jobs_waiting", r, "any", kScanKind), 1);  // at start
    Enqueue(run, kScanKind, 1, 0);
    testing::WaitFor([&] { return Value("ferry_jobs_waiting", r, "any", kScanKind) == 2; });
    EXPECT_EQ(Value("ferry_jobs_waiting", r, "any", kScanKind), 2);  // on its thread
  }
  Enqueue(run, kScanKind, 1, 0);
  BacklogRefresher once(metrics, *store_, clock_, std::chrono::milliseconds(0));
  EXPECT_EQ(Value("ferry_jobs_waiting", r, "any", kScanKind), 3);
}

}  // namespace
}  // namespace ferry::jobs
