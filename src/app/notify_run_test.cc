// Run-end notifications of durable runs (notify_run.h): the outbox rows written in the
// transaction that ends a run, on a real SQLite job store, with the document built from the
// run's jobs.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "app/notify_run.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "notify/outbox.h"
#include "testing/fake_clock.h"

namespace ferry::app {
namespace {

namespace fs = std::filesystem;

class NotifyRunTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-notify-run-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto opened = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    InstallRunEndNotifications();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  // A run of two transfer jobs (3 objects, 27 bytes; 1 object, 9 bytes), the first finished
  // done and the second as `second`.
  jobs::RunId RunWithTwoJobs(jobs::Outcome::Kind second) {
    jobs::RunOptions options;
    options.command = "sync";
    options.report.location = "./report";
    jobs::JobSpec a, b;
    a.objects = 3;
    a.bytes = 27;
    b.objects = 1;
    b.bytes = 9;
    b.max_attempts = 1;
    auto run = store_->CreateRun({"src", "dst", jobs::EncodeRunOptions(options)}, {a, b});
    EXPECT_TRUE(run.ok());
    auto claimed = store_->Claim("w", std::chrono::seconds(60), 2, *run);
    EXPECT_EQ(claimed->size(), 2u);
    EXPECT_TRUE(store_->Finish((*claimed)[0].lease, {}).ok());
    jobs::Outcome out;
    out.kind = second;
    out.error = "copy k: AccessDenied";
    EXPECT_TRUE(store_->Finish((*claimed)[1].lease, out).ok());
    return *run;
  }
  notify::Target Hook() {
    notify::Target t;
    t.url = "http://127.0.0.1:9/hook";
    return t;
  }
  std::vector<notify::OutboxRow> Rows() {
    auto outbox = notify::Outbox::Open(*store_->session());
    auto rows = (*outbox)->Claim("reader", 100, INT64_MAX / 2, INT64_MAX / 2);
    return rows.ok() ? *rows : std::vector<notify::OutboxRow>{};
  }

  fs::path dir_;
  ferry::testing::FakeClock clock_;
  std::unique_ptr<jobs::JobStore> store_;
};

TEST_F(NotifyRunTest, TheRunsEndWritesOneRowWithTheDocumentOnce) {
  const jobs::RunId run = RunWithTwoJobs(jobs::Outcome::Kind::kDone);
  ASSERT_TRUE(SetDurableRunTargets(*store_, run, {Hook()}).ok());
  ASSERT_TRUE(store_->SetRunState(run, jobs::RunState::kDone).ok());
  ASSERT_TRUE(store_->SetRunState(run, jobs::RunState::kDone).ok());  // a second worker: no row
  const auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  const nlohmann::json doc = nlohmann::json::parse(rows[0].document);
  EXPECT_EQ(doc["run_id"], std::to_string(run));
  EXPECT_EQ(doc["command"], "sync");
  EXPECT_EQ(doc["state"], "done");
  EXPECT_EQ(doc["durable"], true);
  EXPECT_EQ(doc["objects"]["copied"], 4);
  EXPECT_TRUE(doc["objects"]["skipped"].is_null());
  EXPECT_EQ(doc["bytes"], 36);
  EXPECT_EQ(doc["report"], "./report");
}

TEST_F(NotifyRunTest, ARunThatEndsWithDeadJobsIsDeadWithTheirErrors) {
  const jobs::RunId run = RunWithTwoJobs(jobs::Outcome::Kind::kFail);
  ASSERT_TRUE(SetDurableRunTargets(*store_, run, {Hook()}).ok());
  ASSERT_TRUE(store_->SetRunState(run, jobs::RunState::kFailed).ok());
  const auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  const nlohmann::json doc = nlohmann::json::parse(rows[0].document);
  EXPECT_EQ(doc["state"], "dead");
  EXPECT_EQ(doc["objects"]["copied"], 3);
  EXPECT_EQ(doc["objects"]["failed"], 1);
  EXPECT_EQ(doc["errors"][0], "copy k: AccessDenied");
}

TEST_F(NotifyRunTest, ARunWithoutTargetsEndsWithoutRows) {
  const jobs::RunId run = RunWithTwoJobs(jobs::Outcome::Kind::kDone);
  ASSERT_TRUE(SetDurableRunTargets(*store_, run + 1, {Hook()}).ok());  // another run's
  ASSERT_TRUE(store_->SetRunState(run, jobs::RunState::kDone).ok());
  EXPECT_TRUE(Rows().empty());
}

// A cache warm's job is queued with objects 0 (it lists, then copies what is missing): what its
// attempts did, the tallies of their outcomes, is what the document counts, a retried attempt's
// copies included.
TEST_F(NotifyRunTest, ACacheWarmCountsWhatItsAttemptsCopied) {
  jobs::RunOptions options;
  options.command = "cache-warm";
  jobs::JobSpec warm;
  warm.kind = "cache-warm";
  auto run = store_->CreateRun({"src", "cache", jobs::EncodeRunOptions(options)}, {warm});
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(SetDurableRunTargets(*store_, *run, {Hook()}).ok());
  auto first = store_->Claim("w", std::chrono::seconds(60), 1, *run);
  ASSERT_EQ(first->size(), 1u);
  jobs::Outcome retry;
  retry.kind = jobs::Outcome::Kind::kRetry;
  retry.error = "1 objects could not be cached";
  retry.tally = {.objects = 2, .bytes = 18};
  ASSERT_TRUE(store_->Finish((*first)[0].lease, retry).ok());
  auto second = store_->Claim("w", std::chrono::seconds(60), 1, *run);
  ASSERT_EQ(second->size(), 1u);
  jobs::Outcome done;
  done.tally = {.objects = 1, .bytes = 9};
  ASSERT_TRUE(store_->Finish((*second)[0].lease, done).ok());
  auto counts = store_->CountJobs(*run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->of("cache-warm").tally.objects, 3u);
  EXPECT_EQ(counts->of("cache-warm").tally.bytes, 27u);
  ASSERT_TRUE(store_->SetRunState(*run, jobs::RunState::kDone).ok());
  const auto rows = Rows();
  ASSERT_EQ(rows.size(), 1u);
  const nlohmann::json doc = nlohmann::json::parse(rows[0].document);
  EXPECT_EQ(doc["command"], "cache-warm");
  EXPECT_EQ(doc["objects"]["copied"], 3);
  EXPECT_EQ(doc["bytes"], 27);
}

// The targets go in with the run's creation (RunTargetsStep): a worker that ends the run the
// moment it exists still writes its notification; a step that fails leaves no run at all.
TEST_F(NotifyRunTest, TargetsStoredWithTheRunsCreationReachARunEndedAtOnce) {
  auto step = RunTargetsStep(*store_, {Hook()});
  ASSERT_TRUE(step.ok());
  ASSERT_TRUE(*step);
  auto run = store_->CreateRun({"src", "dst", jobs::EncodeRunOptions({})}, {}, *step);
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(store_->SetRunState(*run, jobs::RunState::kDone).ok());
  EXPECT_EQ(Rows().size(), 1u);

  auto none = RunTargetsStep(*store_, {});
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);
  auto before = store_->ListRuns(100);
  ASSERT_TRUE(before.ok());
  jobs::NewRunStep failing = [](state::SqlTx&, jobs::RunId) {
    return Status::Unavailable("the outbox's table is gone");
  };
  auto refused = store_->CreateRun({"src2", "dst2", "{}"}, {jobs::JobSpec{}}, failing);
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnavailable);
  auto after = store_->ListRuns(100);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->size(), before->size());
}

// A replication pass's and a restore's done jobs count as copied objects; a cache warm's
// count by their tallies (objects unknown when queued); a scan's copy nothing.
TEST(DurableRunEndTest, ReplicationRestoreAndCacheWarmJobsCountAsCopied) {
  jobs::RunEndFacts facts;
  facts.state = jobs::RunState::kDone;
  facts.kinds["replicate-keys"].done_objects = 5;
  facts.kinds["replicate-keys"].done_bytes = 50;
  facts.kinds["restore"].done_objects = 2;
  facts.kinds["restore"].done_bytes = 20;
  facts.kinds["replicate-scan"].done_objects = 7;
  facts.kinds["replicate-scan"].tally = {.objects = 4, .bytes = 40};
  facts.kinds["cache-warm"].tally = {.objects = 3, .bytes = 27};
  const notify::RunEnd end = DurableRunEnd(facts);
  EXPECT_EQ(end.objects.copied, 10u);
  EXPECT_EQ(end.bytes, 97u);
  EXPECT_EQ(end.state, notify::EndState::kDone);
}

// restore and cache warm keep no transfer::Stats: their counts and errors are given as such.
TEST(InMemoryRunEndTest, ARunWithoutStatsTellsTheCountsItWasGiven) {
  InMemoryRunFacts facts;
  facts.command = "restore";
  facts.source = "rb:backup/p";
  facts.destination = "./out";
  facts.counts = {.copied = 3, .skipped = 2, .failed = 1, .deleted = 0, .bytes = 30};
  facts.errors = {"restore k: the target exists and differs"};
  notify::RunEnd end = InMemoryRunEnd(facts);
  EXPECT_EQ(end.command, "restore");
  EXPECT_EQ(end.objects.copied, 3u);
  EXPECT_EQ(end.objects.skipped, std::optional<uint64_t>(2));
  EXPECT_EQ(end.objects.failed, 1u);
  EXPECT_EQ(end.bytes, 30u);
  EXPECT_EQ(end.state, notify::EndState::kFailed);  // a failed object
  ASSERT_EQ(end.errors.size(), 1u);
  EXPECT_EQ(end.errors[0], "restore k: the target exists and differs");
  facts.counts.failed = 0;
  facts.errors.clear();
  EXPECT_EQ(InMemoryRunEnd(facts).state, notify::EndState::kDone);
  facts.status = Status::Unavailable("archive gone");
  end = InMemoryRunEnd(facts);
  EXPECT_EQ(end.state, notify::EndState::kFailed);
  ASSERT_FALSE(end.errors.empty());
  EXPECT_EQ(end.errors[0], "archive gone");
}

}  // namespace
}  // namespace ferry::app
