// Run and job views: what `ferry jobs` prints, from counts alone (no store), and the dead
// objects of a run from a SQLite store.
#include "app/views.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "app/kinds.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "testing/fake_clock.h"

namespace ferry::app {
namespace {

using jobs::JobState;

jobs::RunCounts Counts(jobs::RunState state, int phase) {
  jobs::RunCounts c;
  c.state = state;
  c.phase = phase;
  return c;
}

// A run the --max-delete guard stopped says so, with the counts; another failed run does not.
TEST(RunViewTest, SaysARunWasStoppedByMaxDelete) {
  jobs::RunOptions options;
  options.command = "sync";
  options.delete_extra = true;
  options.max_delete = *plan::ParseDeleteLimit("5");
  jobs::Run run;
  run.id = 8;
  run.spec = {"src", "dst", jobs::EncodeRunOptions(options)};
  jobs::RunCounts c = Counts(jobs::RunState::kFailed, 0);
  c.by_kind[jobs::kDeleteKind].jobs[static_cast<size_t>(JobState::kQueued)] = 1;
  c.by_kind[jobs::kDeleteKind].objects_total = 6;
  c.jobs[static_cast<size_t>(JobState::kQueued)] = 1;
  const auto now = std::chrono::system_clock::now();
  RunView v = MakeRunView(run, c, Kinds(), now);
  EXPECT_EQ(v.state.rfind("failed (stopped by --max-delete: 6 deletes planned, over --max-delete 5",
                          0),
            0u)
      << v.state;
  EXPECT_EQ(RunJson(v)["deletes_refused"].get<std::string>(), v.deletes_refused);
  // Within its limit (a dead transfer failed it), or with a dead job: an ordinary failure.
  options.max_delete = *plan::ParseDeleteLimit("6");
  run.spec.options = jobs::EncodeRunOptions(options);
  EXPECT_EQ(MakeRunView(run, c, Kinds(), now).state, "failed");
  options.max_delete = *plan::ParseDeleteLimit("5");
  run.spec.options = jobs::EncodeRunOptions(options);
  c.jobs[static_cast<size_t>(JobState::kDead)] = 1;
  EXPECT_EQ(MakeRunView(run, c, Kinds(), now).state, "failed");
  EXPECT_FALSE(RunJson(MakeRunView(run, c, Kinds(), now)).contains("deletes_refused"));
  // A limit the config set is named by its key.
  options.max_delete.from = "[sync] max_delete";
  run.spec.options = jobs::EncodeRunOptions(options);
  c.jobs[static_cast<size_t>(JobState::kDead)] = 0;
  EXPECT_EQ(MakeRunView(run, c, Kinds(), now)
                .state.rfind("failed (stopped by [sync] max_delete: 6 deletes planned, over "
                             "[sync] max_delete 5: nothing was deleted",
                             0),
            0u);
}

TEST(RunViewTest, SaysThePhaseAndItsKinds) {
  jobs::Run run;
  run.id = 7;
  run.spec = {"src", "dst", "{}"};
  jobs::RunCounts c = Counts(jobs::RunState::kRunning, 1);
  c.by_kind[jobs::kDeleteKind].jobs[static_cast<size_t>(JobState::kQueued)] = 2;
  c.by_kind[jobs::kDeleteKind].objects_total = 5;
  c.by_kind[jobs::kScanKind].jobs[static_cast<size_t>(JobState::kDone)] = 1;
  c.by_kind[jobs::kTransferKind].jobs[static_cast<size_t>(JobState::kDone)] = 3;
  c.by_kind[jobs::kTransferKind].objects_total = 10;
  c.by_kind[jobs::kTransferKind].objects_done = 10;
  c.jobs[static_cast<size_t>(JobState::kQueued)] = 2;
  c.jobs[static_cast<size_t>(JobState::kDone)] = 4;
  const auto now = std::chrono::system_clock::now();
  const RunView v = MakeRunView(run, c, Kinds(), now);
  EXPECT_EQ(v.state, "running (phase 1: delete)");
  EXPECT_EQ(RunLine(v),
            "run 7 src -> dst: running (phase 1: delete); jobs 2 queued, 0 leased, 4 done, 0 "
            "dead; objects 10/15");
  const nlohmann::json j = RunJson(v);
  EXPECT_EQ(j["state"], "running");
  EXPECT_EQ(j["phase"], 1);
  EXPECT_EQ(j["jobs_by_kind"]["delete"]["queued"], 2);
  EXPECT_EQ(j["objects_total"], 15);
  EXPECT_EQ(MakeRunView(run, Counts(jobs::RunState::kRunning, 0), Kinds(),
                        now)
                .state,
            "running (phase 0: cache-warm, list-scan, pack, part, replicate-event, replicate-keys, "
            "replicate-pack, replicate-scan, restore, scan, transfer, unpack, verify-list, "
            "verify-range)");
  EXPECT_EQ(MakeRunView(run, Counts(jobs::RunState::kFailed, 0), Kinds(),
                        now)
                .state,
            "failed");
}

TEST(RunViewTest, AContinuousRunWaitingForItsNextScanIsIdle) {
  jobs::Run run;
  run.spec.continuous = true;
  run.spec.rescan_interval = std::chrono::minutes(5);
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1767225600));
  jobs::RunCounts c = Counts(jobs::RunState::kRunning, 0);
  c.by_kind[jobs::kScanKind].jobs[static_cast<size_t>(JobState::kQueued)] = 1;
  c.next_due = now + std::chrono::minutes(5);
  RunView v = MakeRunView(run, c, Kinds(), now);
  EXPECT_TRUE(v.idle);
  EXPECT_EQ(v.state, "continuous, idle until 2026-01-01T00:05:00Z");
  EXPECT_EQ(RunJson(v)["next_due"], "2026-01-01T00:05:00Z");
  v = MakeRunView(run, c, Kinds(), now + std::chrono::minutes(6));
  EXPECT_FALSE(v.idle) << "due: its scan waits for a worker";
  EXPECT_EQ(v.state, "continuous, running (phase 0: scan)");
}

TEST(JobViewTest, AJobLineAndItsJson) {
  jobs::Job j;
  j.id = 12;
  j.spec.run = 3;
  j.spec.kind = jobs::kScanKind;
  j.spec.payload = jobs::EncodeScan(jobs::KeyRange{"a", std::string("m")});
  j.spec.max_attempts = 5;
  j.spec.region = "west";
  j.attempts = 2;
  j.last_error = "slow down";
  EXPECT_EQ(JobLine(j), "      12 run 3    scan     queued attempts 2/5      0 objects slow down");
  const nlohmann::json json = JobJson(j);
  EXPECT_EQ(json["start_after"], "a");
  EXPECT_EQ(json["last"], "m");
  EXPECT_EQ(json["region"], "west");
}

TEST(DeadObjectsTest, ATransferJobsFailedObjectsAndOtherJobsByName) {
  char tmpl[] = "/tmp/ferry-views-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  testing::FakeClock clock;
  auto store = jobs::OpenSqliteJobStore((dir / "state.db").string(), clock);
  ASSERT_TRUE(store.ok());
  const jobs::RunId run = (*store)->CreateRun({"s", "d", "{}"}).value();
  std::vector<transfer::CopyRequest> objects(2);
  objects[0].src.key = "k1";
  objects[1].src.key = "k2";
  jobs::JobSpec transfer;
  transfer.run = run;
  transfer.payload = jobs::EncodeTransfer(objects);
  transfer.objects = 2;
  transfer.max_attempts = 1;
  jobs::JobSpec del = transfer;
  del.kind = jobs::kDeleteKind;
  del.payload = jobs::EncodeDelete({"x", "y", "z"});
  del.objects = 3;
  ASSERT_TRUE((*store)->Enqueue({transfer, del}).ok());
  auto claimed = (*store)->Claim("w", std::chrono::seconds(30), 2);
  ASSERT_TRUE(claimed.ok());
  for (const auto& c : *claimed) {
    jobs::Outcome fail;
    fail.kind = jobs::Outcome::Kind::kFail;
    fail.error = "denied";
    ASSERT_TRUE((*store)->Finish(c.lease, fail).ok());
  }
  uint64_t count = 0;
  const auto failures = DeadObjects(**store, run, &count);
  EXPECT_EQ(count, 5u);
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[0].key, "k1");
  EXPECT_EQ(failures[0].action, "copy");
  EXPECT_EQ(failures[2].key, "delete job 2");
  EXPECT_EQ(failures[2].action, "delete");
  EXPECT_EQ(failures[2].status.message(), "denied");
  store->reset();
  std::filesystem::remove_all(dir);
}

// Two objects of one dead transfer job failed for their own reasons: each is reported with its
// own error, not the job's (the first one's); an object the payload kept no error for falls
// back to the job's; `jobs show/dlq` list them too (issue 43, item 12).
TEST(DeadObjectsTest, EachObjectOfADeadTransferJobHasItsOwnError) {
  char tmpl[] = "/tmp/ferry-views-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  testing::FakeClock clock;
  auto store = jobs::OpenSqliteJobStore((dir / "state.db").string(), clock);
  ASSERT_TRUE(store.ok());
  const jobs::RunId run = (*store)->CreateRun({"s", "d", "{}"}).value();
  std::vector<transfer::CopyRequest> objects(3);
  objects[0].src.key = "big";
  objects[1].src.key = "s1";
  objects[2].src.key = "s2";
  jobs::JobSpec transfer;
  transfer.run = run;
  transfer.payload = jobs::EncodeTransfer(objects);
  transfer.objects = 3;
  transfer.max_attempts = 1;
  ASSERT_TRUE((*store)->Enqueue({transfer}).ok());
  auto claimed = (*store)->Claim("w", std::chrono::seconds(30), 1);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  jobs::Outcome fail;
  fail.kind = jobs::Outcome::Kind::kFail;
  fail.error = "big: read big: no key";
  fail.payload = jobs::EncodeTransfer(objects, {"read big: no key", "read s1: wrong key", ""});
  ASSERT_TRUE((*store)->Finish(claimed->front().lease, fail).ok());
  uint64_t count = 0;
  const auto failures = DeadObjects(**store, run, &count);
  EXPECT_EQ(count, 3u);
  ASSERT_EQ(failures.size(), 3u);
  EXPECT_EQ(failures[0].status.message(), "read big: no key");
  EXPECT_EQ(failures[1].key, "s1");
  EXPECT_EQ(failures[1].status.message(), "read s1: wrong key");
  EXPECT_EQ(failures[2].status.message(), "big: read big: no key") << "none kept: the job's";
  auto dead = (*store)->ListJobs(run, jobs::JobState::kDead, 10);
  ASSERT_TRUE(dead.ok());
  ASSERT_EQ(dead->size(), 1u);
  const nlohmann::json json = JobJson(dead->front());
  ASSERT_EQ(json["failures"].size(), 2u) << json.dump();
  EXPECT_EQ(json["failures"][1]["key"], "s1");
  EXPECT_EQ(json["failures"][1]["error"], "read s1: wrong key");
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::app
