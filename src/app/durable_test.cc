// The waits of durable runs on an injected clock: WaitForLeases, and a --restart that waits for
// the leases of the run it discards before it starts the new one.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <stop_token>

#include "app/durable.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "testing/fake_clock.h"

namespace ferry::app {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Sleeps = std::vector<std::chrono::milliseconds>;

TEST(WaitForLeasesTest, SleepsOnTheClockUntilTheLeasesEndedAndABitMore) {
  ferry::testing::FakeClock clock;
  ASSERT_TRUE(WaitForLeases(clock.Now() + 5s, 7, {}, clock).ok());
  EXPECT_EQ(clock.sleeps(), (Sleeps{5100ms}));
  // A part of a millisecond ahead counts as a whole one.
  ASSERT_TRUE(WaitForLeases(clock.Now() + 1500us, 7, {}, clock).ok());
  EXPECT_EQ(clock.sleeps(), (Sleeps{5100ms, 102ms}));
}

TEST(WaitForLeasesTest, DoesNotWaitForLeasesThatEndedOrForNone) {
  ferry::testing::FakeClock clock;
  ASSERT_TRUE(WaitForLeases(clock.Now(), 7, {}, clock).ok());
  ASSERT_TRUE(WaitForLeases(clock.Now() - 1h, 7, {}, clock).ok());
  ASSERT_TRUE(WaitForLeases(jobs::TimePoint{}, 0, {}, clock).ok());
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(WaitForLeasesTest, AStopEndsTheWaitAsCancelled) {
  ferry::testing::FakeClock clock;
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(WaitForLeases(clock.Now() + 5s, 7, stop.get_token(), clock).code(),
            ErrorCode::kCancelled);
  EXPECT_EQ(WaitForLeases(clock.Now() - 5s, 7, stop.get_token(), clock).code(),
            ErrorCode::kCancelled);
}

TEST(RunDurableTest, ARestartWaitsOnTheWorkersClockForTheLeasesOfTheRunItDiscards) {
  char tmpl[] = "/tmp/ferry-durable-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  ferry::testing::FakeClock clock;
  {
    auto opened = jobs::OpenSqliteJobStore((dir / "state.db").string(), clock);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    jobs::JobStore& store = **opened;
    // A run whose job a worker elsewhere holds for ten more minutes.
    auto run = store.CreateRun({"src", "dst", jobs::EncodeRunOptions(jobs::RunOptions{})});
    ASSERT_TRUE(run.ok());
    jobs::JobSpec spec;
    spec.run = *run;
    ASSERT_TRUE(store.Enqueue({spec}).ok());
    auto claimed = store.Claim("worker-elsewhere", 600s, 1, *run);
    ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);

    Wiring wiring(Config{});
    transfer::Stats stats;
    DurableRunRequest request{.source = "src",
                              .destination = "dst",
                              .options = jobs::RunOptions{},
                              .worker = jobs::WorkerOptions{},
                              .detach = true,
                              .restart = true,
                              .state_for_messages = ""};
    request.worker.clock = &clock;
    auto result = RunDurable(store, wiring, request, stats, {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_NE(result->run, *run);
    EXPECT_FALSE(result->resumed);
    // The new run started once the lease ran out (and 100 ms more), on the fake clock alone.
    EXPECT_EQ(clock.sleeps(), (Sleeps{600'100ms}));
    EXPECT_DOUBLE_EQ(result->seconds, 600.1);
  }
  fs::remove_all(dir);
}

// A run that has no job at all never got its scan (an older ferry created the run and enqueued
// its scan apart, and was killed between the two): resumed, it gets its scan. Before, the rerun
// found it done at once: a backup or sync that listed nothing and exited 0 (convergence_backup
// test, round 45 of seed 3303: "0 new version(s) recorded", its rerun 0.26 s).
TEST(RunDurableTest, AResumedRunWithoutAJobGetsItsScan) {
  char tmpl[] = "/tmp/ferry-durable-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const fs::path dir = tmpl;
  ferry::testing::FakeClock clock;
  {
    auto opened = jobs::OpenSqliteJobStore((dir / "state.db").string(), clock);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    jobs::JobStore& store = **opened;
    auto run = store.CreateRun({"src", "dst", jobs::EncodeRunOptions(jobs::RunOptions{})});
    ASSERT_TRUE(run.ok());  // and killed before its scan
    Wiring wiring(Config{});
    transfer::Stats stats;
    DurableRunRequest request{.source = "src",
                              .destination = "dst",
                              .options = jobs::RunOptions{},
                              .worker = jobs::WorkerOptions{},
                              .detach = true,
                              .restart = false,
                              .state_for_messages = ""};
    request.worker.clock = &clock;
    auto result = RunDurable(store, wiring, request, stats, {});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->resumed);
    EXPECT_EQ(result->run, *run);
    auto jobs = store.ListJobs(*run, std::nullopt, 10);
    ASSERT_TRUE(jobs.ok());
    ASSERT_EQ(jobs->size(), 1u);
    EXPECT_EQ((*jobs)[0].spec.kind, jobs::kScanKind);
    EXPECT_EQ((*jobs)[0].state, jobs::JobState::kQueued);
    // Resumed again, it has its scan: nothing more is added.
    auto again = RunDurable(store, wiring, request, stats, {});
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    auto still = store.ListJobs(*run, std::nullopt, 10);
    ASSERT_TRUE(still.ok());
    EXPECT_EQ(still->size(), 1u);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ferry::app
