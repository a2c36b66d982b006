// `ferry replicate`'s run without a store server: the settings it refuses, the engine it
// opens, when an unfinished run resumes, and the durable run opened, resumed, refused and
// discarded (--restart) on SQLite with --detach (no worker runs), timed on a fake clock.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <stop_token>

#include "app/replication_run.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "replicate/kinds/kinds.h"
#include "testing/fake_clock.h"

namespace ferry::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Sleeps = std::vector<std::chrono::milliseconds>;

TEST(ValidateReplicationSettingsTest, TakesTheDefaultsAndEachFlagAlone) {
  ReplicationRunSettings s;
  EXPECT_TRUE(ValidateReplicationSettings(s).ok());
  s.dry_run = true;
  s.concurrency = 1024;
  s.memory = "64MiB";
  EXPECT_TRUE(ValidateReplicationSettings(s).ok());
  s = {};
  s.detach = true;
  s.retry_failed = true;
  EXPECT_TRUE(ValidateReplicationSettings(s).ok());
}

// The settings with `change` made to them.
ReplicationRunSettings With(const std::function<void(ReplicationRunSettings&)>& change) {
  ReplicationRunSettings s;
  change(s);
  return s;
}

TEST(ValidateReplicationSettingsTest, RefusesWithOneLineNamingTheFlag) {
  const auto message = [](const std::function<void(ReplicationRunSettings&)>& change) {
    Status st = ValidateReplicationSettings(With(change));
    EXPECT_EQ(st.code(), ErrorCode::kInvalidArgument);
    return st.message();
  };
  EXPECT_EQ(message([](auto& s) { s.dry_run = s.detach = true; }),
            "--dry-run cannot be combined with --detach");
  EXPECT_EQ(message([](auto& s) { s.dry_run = s.retry_failed = true; }),
            "--dry-run cannot be combined with --retry-failed");
  EXPECT_EQ(message([](auto& s) { s.concurrency = -1; }),
            "--concurrency: must be between 1 and 1024");
  EXPECT_EQ(message([](auto& s) { s.concurrency = 1025; }),
            "--concurrency: must be between 1 and 1024");
  EXPECT_EQ(message([](auto& s) { s.memory = "0"; }), "--memory: must be above 0");
  EXPECT_NE(message([](auto& s) { s.memory = "lots"; }).find("--memory"), std::string::npos);
}

// N counts keys: the requests are derived from it (engine.h, kKeys), as they were before the
// engine (max(16, 4 x N)); the flag, else [transfer], else 16; at most 256 keys.
TEST(ReplicationEngineSettingsTest, NIsKeysTheFlagElseTheConfigElseSixteen) {
  TransferDefaults config;
  const auto shape = [&](const std::function<void(ReplicationRunSettings&)>& change) {
    auto resolved = ResolveEngine(ReplicationEngineSettings(With(change)), config);
    EXPECT_TRUE(resolved.ok()) << resolved.status().ToString();
    return resolved.ok() ? *resolved : EngineShape{};
  };
  const auto none = [](ReplicationRunSettings&) {};
  EXPECT_EQ(shape(none).keys, 16);
  EXPECT_EQ(shape(none).requests, 64);
  EXPECT_EQ(shape(none).memory, 128ull << 20);
  config.concurrency = 40;
  EXPECT_EQ(shape(none).keys, 40);
  EXPECT_EQ(shape(none).requests, 160);
  EXPECT_EQ(shape([](auto& s) { s.concurrency = 2; }).keys, 2);
  EXPECT_EQ(shape([](auto& s) { s.concurrency = 2; }).requests, 16);
  EXPECT_EQ(shape([](auto& s) { s.concurrency = 1000; }).keys, 256);
  EXPECT_EQ(shape([](auto& s) { s.concurrency = 1000; }).requests, 1024);
  EXPECT_EQ(shape([](auto& s) { s.memory = "64MiB"; }).memory, 64ull << 20);
  EXPECT_FALSE(shape(none).adaptive);
}

replicate::DurablePass PassTo(const std::string& destination) {
  replicate::DurablePass pass;
  pass.source = "/data/src";
  replicate::Rule rule;
  rule.id = "r1";
  rule.destinations.emplace_back();
  rule.destinations.back().location = destination;
  pass.rules.rules.push_back(rule);
  return pass;
}

jobs::Run RunOf(const replicate::DurablePass& pass) {
  jobs::Run run;
  run.id = 3;
  auto options = replicate::EncodeDurablePass(pass, "{}");
  EXPECT_TRUE(options.ok());
  run.spec = {pass.source, "/data/dst", *options};
  return run;
}

TEST(ReplicationResumeMismatchTest, ConcurrencyAndBatchSizeMayDifferNothingElse) {
  const replicate::DurablePass pass = PassTo("/data/dst");
  EXPECT_EQ(ReplicationResumeMismatch(RunOf(pass), pass), "");
  replicate::DurablePass faster = pass;
  faster.concurrency = 64;
  faster.batch_versions = 10;
  EXPECT_EQ(ReplicationResumeMismatch(RunOf(pass), faster), "");
  replicate::DurablePass failed_only = pass;
  failed_only.retry_failed_only = true;
  EXPECT_EQ(ReplicationResumeMismatch(RunOf(pass), failed_only), "has other rules or options");
  EXPECT_EQ(ReplicationResumeMismatch(RunOf(pass), PassTo("/data/other")),
            "has other rules or options");
  jobs::Run copy = RunOf(pass);
  copy.spec.options = jobs::EncodeRunOptions(jobs::RunOptions{});
  EXPECT_EQ(ReplicationResumeMismatch(copy, pass), "is not a replication pass");
}

// A SQLite state store in a directory of its own, on a fake clock.
class RunDurableReplicationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-replication-run-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto opened = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    settings_.detach = true;  // the run opened, no worker
    settings_.worker.clock = &clock_;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  Result<ReplicationDurableSummary> Run(const replicate::DurablePass& pass) {
    const std::string destination = "/data/dst";
    return RunDurableReplication(
        *store_, wiring_, {.pass = pass, .destination = destination, .settings = settings_},
        stats_, {});
  }

  fs::path dir_;
  ferry::testing::FakeClock clock_;
  std::unique_ptr<jobs::JobStore> store_;
  Wiring wiring_{Config{}};
  ReplicationRunSettings settings_;
  replicate::PassStats stats_;
};

TEST_F(RunDurableReplicationTest, ANewRunGetsItsScanAndARerunResumesIt) {
  auto first = Run(PassTo("/data/dst"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->resumed);
  EXPECT_TRUE(first->detached);
  auto jobs = store_->ListJobs(first->run, std::nullopt, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_EQ((*jobs)[0].spec.kind, replicate::kReplicateScanKind);
  auto created = store_->GetRun(first->run);
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(first->created, created->created);

  replicate::DurablePass faster = PassTo("/data/dst");
  faster.concurrency = 64;
  auto again = Run(faster);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->resumed);
  EXPECT_EQ(again->run, first->run);
  EXPECT_EQ(again->created, first->created);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(RunDurableReplicationTest, AnotherPassIsRefusedUntilRestartDiscardsTheRun) {
  auto first = Run(PassTo("/data/dst"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  // A worker elsewhere holds the run's scan for ten more minutes.
  auto claimed = store_->Claim("worker-elsewhere", 600s, 1, first->run);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);

  replicate::DurablePass other = PassTo("/data/dst");
  other.retry_failed_only = true;
  auto refused = Run(other);
  ASSERT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(refused.status().message(),
            "unfinished run " + std::to_string(first->run) +
                " from /data/src to /data/dst has other rules or options; rerun its command to "
                "finish it, or add --restart to discard it and start a new pass");

  settings_.restart = true;
  auto restarted = Run(other);
  ASSERT_TRUE(restarted.ok()) << restarted.status().ToString();
  EXPECT_NE(restarted->run, first->run);
  EXPECT_FALSE(restarted->resumed);
  // The new run started once the discarded run's lease ran out (and 100 ms more), on the fake
  // clock alone; the settling of abandoned runs that follows finds it ended.
  EXPECT_EQ(clock_.sleeps(), (Sleeps{600'100ms}));
  auto discarded = store_->GetRun(first->run);
  ASSERT_TRUE(discarded.ok());
  EXPECT_EQ(discarded->state, jobs::RunState::kFailed);
}

TEST_F(RunDurableReplicationTest, ASourceReplicatedContinuouslyIsRefused) {
  const replicate::DurablePass pass = PassTo("/data/dst");
  auto options = replicate::EncodeDurablePass(pass, "{}");
  ASSERT_TRUE(options.ok());
  jobs::RunSpec spec{pass.source, "/data/dst", *options};
  spec.continuous = true;
  auto run = store_->CreateRun(spec);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  settings_.restart = true;  // not even --restart
  auto refused = Run(pass);
  ASSERT_EQ(refused.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("is replicated continuously by run " +
                                            std::to_string(*run)),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::app
