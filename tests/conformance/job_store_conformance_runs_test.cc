// The JobStore conformance suite, part 3: runs (lifecycle, FindUnfinishedRun, counts), listings,
// reopening, and text stored verbatim. Fixture: job_store_conformance_test.cc.
#include <atomic>
#include <thread>

#include "conformance/job_store_factory.h"

namespace ferry::conformance {
namespace {

using jobs::ClaimedJob;
using jobs::JobId;
using jobs::JobSpec;
using jobs::JobState;
using jobs::RunId;
using jobs::RunState;
using std::chrono::seconds;

// Values travel as parameters, never inside SQL text: quotes, backslashes, SQL and non-ASCII
// text come back byte for byte.
TEST_P(JobStoreConformanceTest, TextIsStoredVerbatim) {
  const std::string nasty = "it's \"quoted\" \\ $1 ?1 %s '); DROP TABLE jobs; -- é 日本 \t\n";
  auto run = store().CreateRun({nasty, nasty + "2", nasty + "3"});
  ASSERT_OK(run);
  JobSpec spec;
  spec.run = *run;
  spec.payload = nasty;
  auto ids = store().Enqueue({spec});
  ASSERT_OK(ids);
  EXPECT_EQ(Get((*ids)[0]).spec.payload, nasty);
  auto got = store().GetRun(*run);
  ASSERT_OK(got);
  EXPECT_EQ(got->spec.source, nasty);
  EXPECT_EQ(got->spec.options, nasty + "3");
  auto found = store().FindUnfinishedRun(nasty, nasty + "2");
  ASSERT_OK(found);
  EXPECT_TRUE(found->has_value());
  auto claimed = ClaimOk(nasty, 1);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].lease.owner, nasty);
  ASSERT_OK(store().SaveUpload(claimed[0].lease, {nasty, nasty, 1, "", {{1, nasty, 1, 1}}}));
  auto upload = store().LoadUpload((*ids)[0], {"", nasty});
  ASSERT_OK(upload);
  ASSERT_TRUE(upload->has_value());
  EXPECT_EQ((*upload)->key, nasty);
  ASSERT_EQ((*upload)->parts.size(), 1u);
  EXPECT_EQ((*upload)->parts[0].etag, nasty);
  auto started = store().ListStartedUploads(nasty + "2");
  ASSERT_OK(started);
  ASSERT_EQ(started->size(), 1u);
  EXPECT_EQ((*started)[0].upload_id, nasty);
  EXPECT_EQ((*started)[0].key, nasty);
  EXPECT_EQ((*started)[0].destination, nasty + "2");
  jobs::Outcome fail;
  fail.kind = jobs::Outcome::Kind::kFail;
  fail.error = nasty;
  ASSERT_OK(store().Finish(claimed[0].lease, fail));
  EXPECT_EQ(Get((*ids)[0]).last_error, nasty);
}

TEST_P(JobStoreConformanceTest, RunLifecycle) {
  const auto t0 = clock_.Now();
  auto r1 = store().CreateRun({"s3://a/x", "/tmp/y", R"({"delete":true})"});
  ASSERT_OK(r1);
  clock_.Advance(seconds(1));
  const RunId r2 = NewRun("s3://a/x", "/tmp/y");
  const RunId other = NewRun("s3://a/x", "/tmp/z");
  auto run = store().GetRun(*r1);
  ASSERT_OK(run);
  EXPECT_EQ(run->id, *r1);
  EXPECT_EQ(run->spec.source, "s3://a/x");
  EXPECT_EQ(run->spec.destination, "/tmp/y");
  EXPECT_EQ(run->spec.options, R"({"delete":true})");
  EXPECT_EQ(run->state, RunState::kRunning);
  EXPECT_EQ(run->created, t0);
  EXPECT_EQ(run->updated, t0);

  auto found = store().FindUnfinishedRun("s3://a/x", "/tmp/y");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, r2);  // the newest
  clock_.Advance(seconds(1));
  ASSERT_OK(store().SetRunState(r2, RunState::kDone));
  auto done = store().GetRun(r2);
  ASSERT_OK(done);
  EXPECT_EQ(done->state, RunState::kDone);
  EXPECT_EQ(done->updated, clock_.Now());
  found = store().FindUnfinishedRun("s3://a/x", "/tmp/y");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->id, *r1);
  ASSERT_OK(store().SetRunState(*r1, RunState::kFailed));  // failed has ended too
  found = store().FindUnfinishedRun("s3://a/x", "/tmp/y");
  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
  ASSERT_OK(store().SetRunState(*r1, RunState::kRunning));  // in progress again
  found = store().FindUnfinishedRun("s3://a/x", "/tmp/y");
  ASSERT_OK(found);
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->state, RunState::kRunning);
  ASSERT_OK(store().SetRunState(*r1, RunState::kDone));
  found = store().FindUnfinishedRun("s3://a/x", "/tmp/y");
  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
  found = store().FindUnfinishedRun("s3://a/x", "/tmp/");  // exact match only
  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());

  auto runs = store().ListRuns(2);
  ASSERT_OK(runs);
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, other);  // newest first
  EXPECT_EQ((*runs)[1].id, r2);
  EXPECT_CODE(kNotFound, store().SetRunState(other + 100, RunState::kDone));
  EXPECT_CODE(kNotFound, store().GetRun(other + 100));
  EXPECT_CODE(kInvalidArgument, store().ListRuns(0));
}

// AbandonRun (`--restart`): the run ends failed and none of its unfinished jobs is left to run,
// be redriven or finish; its done jobs stay until a purge removes the run.
TEST_P(JobStoreConformanceTest, AbandonRunEndsTheRunForGood) {
  const RunId run = NewRun();
  const RunId other = NewRun("o", "p");
  const auto ids = EnqueueN(run, 4, jobs::kTransferKind, /*max_attempts=*/1);
  JobSpec parked;
  parked.run = run;
  parked.kind = jobs::kDeleteKind;
  parked.not_before = jobs::kParked;
  ASSERT_OK(store().Enqueue({parked}));
  const auto others = EnqueueN(other, 1);
  auto claimed = ClaimOk("w", 3, seconds(30), run);
  ASSERT_EQ(claimed.size(), 3u);
  ASSERT_OK(store().Finish(claimed[0].lease, {}));  // done
  jobs::Outcome fail;
  fail.kind = jobs::Outcome::Kind::kFail;
  ASSERT_OK(store().Finish(claimed[1].lease, fail));  // dead; claimed[2] stays leased
  ASSERT_OK(store().SaveUpload(claimed[2].lease, {"k", "u1", 5 << 20, "", {{1, "e1", 7, 5 << 20}}}));
  jobs::TimePoint leases_until{};
  auto removed = store().AbandonRun(run, &leases_until);
  ASSERT_OK(removed);
  EXPECT_EQ(*removed, 4u);  // dead, leased (with its checkpoint), queued, parked
  // claimed[2]'s holder may go on until its lease runs out: the caller learns when.
  EXPECT_EQ(leases_until, claimed[2].job.lease_expires);
  EXPECT_GT(leases_until, clock_.Now());
  auto got = store().GetRun(run);
  ASSERT_OK(got);
  EXPECT_EQ(got->state, RunState::kFailed);
  EXPECT_EQ(Get(ids[0]).state, JobState::kDone);
  for (size_t i = 1; i < ids.size(); ++i) EXPECT_CODE(kNotFound, store().GetJob(ids[i]));
  EXPECT_CODE(kNotFound, store().Finish(claimed[2].lease, {}));  // its worker finds it gone
  auto redriven = store().Redrive(0);
  ASSERT_OK(redriven);
  EXPECT_EQ(*redriven, 0u);
  auto runnable = ClaimOk("w", 10);
  ASSERT_EQ(runnable.size(), 1u);  // only the other run's job
  EXPECT_EQ(runnable[0].job.id, others[0]);
  auto found = store().FindUnfinishedRun("src", "dst");
  ASSERT_OK(found);
  EXPECT_FALSE(found->has_value());
  EXPECT_CODE(kNotFound, store().AbandonRun(other + 100));
  // A run none of whose jobs is leased: the epoch.
  const RunId idle = NewRun("i", "j");
  EnqueueN(idle, 2);
  leases_until = clock_.Now();
  ASSERT_OK(store().AbandonRun(idle, &leases_until));
  EXPECT_EQ(leases_until, jobs::TimePoint{});
  // Over for good, so a purge removes it; the other run goes on.
  auto purged = store().Purge(false);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 1u);
  EXPECT_CODE(kNotFound, store().GetRun(run));
  ASSERT_OK(store().GetRun(other));
}

// A run that has ended takes no job (Enqueue, and the `more` of Finish and HandOff): an
// abandoned run's work is gone for good, and nothing can be claimed from it again (two `ferry
// serve` on one store: the other one's events must not land there).
// A run and its first jobs are made in one transaction (JobStore::CreateRun): the jobs carry
// the new run's id, and a first job the store refuses leaves no run behind. Made apart, a
// process killed between the two left a run with no job, which the next command resumed and
// found done at once (convergence_backup_test: a round's backup that listed nothing, exit 0).
TEST_P(JobStoreConformanceTest, ARunIsCreatedWithItsFirstJobsOrNotAtAll) {
  JobSpec scan;
  scan.kind = "scan";
  scan.payload = "whole";
  JobSpec other = scan;
  other.payload = "second";
  auto run = store().CreateRun({"with", "jobs", "o"}, {scan, other});
  ASSERT_OK(run);
  auto jobs = store().ListJobs(*run, std::nullopt, 10);
  ASSERT_OK(jobs);
  ASSERT_EQ(jobs->size(), 2u);
  for (const jobs::Job& j : *jobs) {
    EXPECT_EQ(j.spec.run, *run);
    EXPECT_EQ(j.state, JobState::kQueued);
  }
  auto before = store().ListRuns(100);
  ASSERT_OK(before);
  JobSpec bad = scan;
  bad.max_attempts = 0;  // refused
  auto refused = store().CreateRun({"refused", "jobs", "o"}, {scan, bad});
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidArgument) << refused.status().ToString();
  auto after = store().ListRuns(100);
  ASSERT_OK(after);
  EXPECT_EQ(after->size(), before->size());
  auto none = store().FindUnfinishedRun("refused", "jobs");
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
}

TEST_P(JobStoreConformanceTest, AnEndedRunTakesNoJobs) {
  const RunId run = NewRun();
  const RunId live = NewRun("o", "p");
  ASSERT_OK(store().AbandonRun(run));
  JobSpec event;
  event.run = run;
  event.kind = "replicate-event";
  event.payload = "{}";
  event.coalesce_key = "k";
  EXPECT_CODE(kFailedPrecondition, store().Enqueue({event}));
  JobSpec plain;
  plain.run = run;
  EXPECT_CODE(kFailedPrecondition, store().Enqueue({plain}));
  JobSpec other = plain;
  other.run = live;
  EXPECT_CODE(kFailedPrecondition, store().Enqueue({other, plain}));  // one transaction
  EXPECT_TRUE(ClaimOk("w", 10, seconds(30), run).empty());
  EXPECT_TRUE(ClaimOk("w", 10).empty());
  // a done run too; a leased job of it cannot hand more on
  const RunId done = NewRun("d", "e");
  EnqueueN(done, 1);
  auto claimed = ClaimOk("w", 1, seconds(30), done);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_OK(store().SetRunState(done, RunState::kDone));
  plain.run = done;
  EXPECT_CODE(kFailedPrecondition, store().Enqueue({plain}));
  EXPECT_CODE(kFailedPrecondition, store().Finish(claimed[0].lease, {}, {plain}));
  EXPECT_CODE(kFailedPrecondition, store().HandOff(claimed[0].lease, "{}", {plain}));
  EXPECT_EQ(Get(claimed[0].job.id).state, JobState::kLeased);  // nothing changed
  ASSERT_OK(store().Enqueue({other}));
}

// Enqueues racing AbandonRun from another process: whichever commits first, no job is left
// queued in the ended run (PostgreSQL, read committed: the run's row is the meeting point).
TEST_P(JobStoreConformanceTest, AnEnqueueRacingAbandonRunLeavesNoJobInTheEndedRun) {
  auto second = db_.reopen(clock_);
  ASSERT_OK(second);
  for (int round = 0; round < 20; ++round) {
    const RunId run = NewRun("race", std::to_string(round));
    std::atomic<bool> go{false};
    std::thread enqueuer([&] {
      while (!go.load()) std::this_thread::yield();
      JobSpec spec;
      spec.run = run;
      spec.payload = "{}";
      for (int i = 0; i < 200; ++i) {
        spec.coalesce_key = "k" + std::to_string(i);
        if (!(*second)->Enqueue({spec}).ok()) break;  // refused: the run has ended
      }
    });
    go = true;
    ASSERT_OK(store().AbandonRun(run));
    enqueuer.join();
    auto counts = store().CountJobs(run);
    ASSERT_OK(counts);
    EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kQueued)], 0u) << "round " << round;
  }
}

TEST_P(JobStoreConformanceTest, CountJobsSumsPerStateAndKind) {
  const RunId run = NewRun();
  const RunId other = NewRun("o", "p");
  std::vector<JobSpec> specs;
  for (int i = 0; i < 4; ++i) {
    JobSpec s;
    s.run = run;
    s.kind = i == 3 ? jobs::kScanKind : jobs::kTransferKind;
    s.objects = 10 * (i + 1);  // 10, 20, 30, 40
    s.bytes = 1000 * (i + 1);
    s.max_attempts = 1;
    specs.push_back(s);
  }
  ASSERT_OK(store().Enqueue(specs));
  EnqueueN(other, 3);
  auto claimed = ClaimOk("w", 3, seconds(30), run);  // the three transfers
  ASSERT_EQ(claimed.size(), 3u);
  ASSERT_OK(store().Finish(claimed[0].lease, {}));  // done: 10, 1000
  jobs::Outcome fail;
  fail.kind = jobs::Outcome::Kind::kFail;
  ASSERT_OK(store().Finish(claimed[1].lease, fail));  // dead
  auto counts = store().CountJobs(run);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kQueued)], 1u);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kLeased)], 1u);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kDone)], 1u);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kDead)], 1u);
  EXPECT_EQ(counts->of(jobs::kScanKind).of(JobState::kQueued), 1u);
  EXPECT_EQ(counts->of(jobs::kTransferKind).of(JobState::kQueued), 0u);
  EXPECT_EQ(counts->of(jobs::kTransferKind).of(JobState::kLeased), 1u);
  EXPECT_EQ(counts->of(jobs::kTransferKind).of(JobState::kDone), 1u);
  EXPECT_EQ(counts->of(jobs::kTransferKind).of(JobState::kDead), 1u);
  EXPECT_EQ(counts->of(jobs::kTransferKind).objects_done, 10u);
  EXPECT_EQ(counts->of(jobs::kScanKind).objects_total, 40u);
  EXPECT_EQ(counts->by_kind.size(), 2u);
  EXPECT_EQ(counts->objects_done, 10u);
  EXPECT_EQ(counts->bytes_done, 1000u);
  EXPECT_EQ(counts->objects_total, 100u);
  EXPECT_EQ(counts->bytes_total, 10000u);
  EXPECT_EQ(counts->state, RunState::kRunning);  // the run's state comes with the counts
  ASSERT_OK(store().SetRunState(run, RunState::kRunning));
  counts = store().CountJobs(run);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->state, RunState::kRunning);
  auto empty = store().CountJobs(NewRun("e", "f"));
  ASSERT_OK(empty);
  EXPECT_EQ(empty->objects_total, 0u);
  EXPECT_CODE(kNotFound, store().CountJobs(other + 100));
}

// The fleet's backlog: claimable jobs (due, or leased past their lease) with their bytes and
// the earliest time one became claimable; running and later jobs apart; parked jobs, ended runs
// and finished jobs left out.
TEST_P(JobStoreConformanceTest, BacklogCountsWhatAWorkerCouldClaimNow) {
  const auto t0 = clock_.Now();
  const RunId run = NewRun();
  const RunId ended = NewRun("x", "y");
  std::vector<JobSpec> specs;
  for (int i = 0; i < 4; ++i) {
    JobSpec s;
    s.run = run;
    s.kind = jobs::kTransferKind;
    s.objects = 1;
    s.bytes = 100 * (i + 1);  // 100, 200, 300, 400
    s.max_attempts = 5;
    specs.push_back(s);
  }
  specs[3].not_before = jobs::kParked;  // waits for its phase, not for a worker
  JobSpec later = specs[0];
  later.kind = jobs::kScanKind;
  later.not_before = t0 + seconds(60);
  specs.push_back(later);
  JobSpec gone = specs[0];
  gone.run = ended;
  specs.push_back(gone);
  ASSERT_OK(store().Enqueue(specs));
  ASSERT_OK(store().SetRunState(ended, RunState::kFailed));

  clock_.Advance(seconds(10));
  auto claimed = ClaimOk("w", 1, seconds(30), run);  // the 100-byte transfer, for 30 s
  ASSERT_EQ(claimed.size(), 1u);
  auto backlog = store().Backlog(clock_.Now());
  ASSERT_OK(backlog);
  ASSERT_EQ(backlog->size(), 2u);  // scan, transfer (ordered by kind); nothing of `ended`
  const jobs::BacklogRow& scan = (*backlog)[0];
  const jobs::BacklogRow& transfer = (*backlog)[1];
  EXPECT_EQ(scan.run, run);
  EXPECT_EQ(scan.kind, jobs::kScanKind);
  EXPECT_EQ(scan.waiting, 0u);
  EXPECT_EQ(scan.later, 1u);
  EXPECT_EQ(scan.oldest_due, jobs::TimePoint{});
  EXPECT_EQ(transfer.kind, jobs::kTransferKind);
  EXPECT_EQ(transfer.waiting, 2u);
  EXPECT_EQ(transfer.waiting_bytes, 500u);
  EXPECT_EQ(transfer.oldest_due, t0);  // runnable since it was enqueued
  EXPECT_EQ(transfer.running, 1u);
  EXPECT_EQ(transfer.later, 0u);

  // Its worker is gone: once the lease has expired the job waits again, since its expiry.
  clock_.Advance(seconds(31));
  backlog = store().Backlog(clock_.Now());
  ASSERT_OK(backlog);
  ASSERT_EQ(backlog->size(), 2u);
  EXPECT_EQ((*backlog)[1].waiting, 3u);
  EXPECT_EQ((*backlog)[1].waiting_bytes, 600u);
  EXPECT_EQ((*backlog)[1].running, 0u);
  EXPECT_EQ((*backlog)[0].waiting, 0u);  // the scan is due at t0 + 60 s
  clock_.Advance(seconds(20));
  backlog = store().Backlog(clock_.Now());
  ASSERT_OK(backlog);
  EXPECT_EQ((*backlog)[0].waiting, 1u);
  EXPECT_EQ((*backlog)[0].oldest_due, t0 + seconds(60));

  // Done jobs and finished runs leave it.
  auto all = ClaimOk("w2", 10, seconds(30), run);
  for (const ClaimedJob& c : all) ASSERT_OK(store().Finish(c.lease, {}));
  backlog = store().Backlog(clock_.Now());
  ASSERT_OK(backlog);
  EXPECT_TRUE(backlog->empty()) << backlog->size();  // only the parked job is left
}

// RunsHealth: runs in progress and runs ended since a time, newest first, with their dead jobs
// by kind, progress over every kind, work (idle next rounds left out) and the time they last moved.
TEST_P(JobStoreConformanceTest, RunsHealthWatchesOpenAndRecentlyEndedRuns) {
  const auto t0 = clock_.Now();
  const RunId old_done = NewRun("a", "b");
  ASSERT_OK(store().SetRunState(old_done, RunState::kDone));  // ended before the window
  const RunId idle = NewRun("c", "d");    // only a next round, queued for later
  const RunId busy = NewRun("e", "f");    // a dead transfer, a done one, a queued scan
  const RunId failed = NewRun("g", "h");  // ended in the window
  JobSpec next;
  next.run = idle;
  next.kind = jobs::kScanKind;
  next.not_before = t0 + seconds(3600);
  JobSpec transfer;
  transfer.run = busy;
  transfer.kind = jobs::kTransferKind;
  transfer.objects = 10;
  transfer.max_attempts = 1;
  JobSpec parked = transfer;
  parked.kind = jobs::kDeleteKind;
  parked.objects = 3;
  parked.not_before = jobs::kParked;
  ASSERT_OK(store().Enqueue({next, transfer, transfer, parked}));
  clock_.Advance(seconds(10));
  auto claimed = ClaimOk("w", 2, seconds(30), busy);
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_OK(store().Finish(claimed[0].lease, {}));  // done at t0 + 10 s
  jobs::Outcome fail;
  fail.kind = jobs::Outcome::Kind::kFail;
  fail.error = "access denied";
  ASSERT_OK(store().Finish(claimed[1].lease, fail));  // dead
  JobSpec scan = next;
  scan.run = busy;
  scan.not_before = {};
  clock_.Advance(seconds(5));
  ASSERT_OK(store().Enqueue({scan}));  // enqueued at t0 + 15 s: the run moved
  clock_.Advance(seconds(5));
  ASSERT_OK(store().SetRunState(failed, RunState::kFailed));  // at t0 + 20 s

  auto health = store().RunsHealth(clock_.Now(), t0 + seconds(1), 100);
  ASSERT_OK(health);
  ASSERT_EQ(health->size(), 3u);  // failed, busy, idle: newest first; old_done left out
  const jobs::RunHealth& f = (*health)[0];
  const jobs::RunHealth& b = (*health)[1];
  const jobs::RunHealth& i = (*health)[2];
  EXPECT_EQ(f.run.id, failed);
  EXPECT_EQ(f.run.state, RunState::kFailed);
  EXPECT_EQ(f.last_progress, f.run.created);  // no job: its creation
  EXPECT_TRUE(f.dead.empty());
  EXPECT_EQ(b.run.id, busy);
  EXPECT_EQ(b.objects_done, 10u);
  EXPECT_EQ(b.objects_total, 23u);  // done 10, dead 10, parked delete 3
  EXPECT_EQ(b.working, 1u);         // the scan; not the parked delete nor the dead job
  ASSERT_EQ(b.dead.size(), 1u);
  EXPECT_EQ(b.dead.at(jobs::kTransferKind), 1u);
  EXPECT_EQ(b.last_progress, t0 + seconds(15));
  EXPECT_EQ(i.run.id, idle);
  EXPECT_EQ(i.working, 0u);  // idle until its next round, not stalled
  EXPECT_EQ(i.last_progress, t0);

  // A retry waiting out its backoff is work; the limit keeps the newest runs.
  JobSpec retried = transfer;
  retried.run = idle;
  retried.max_attempts = 5;
  ASSERT_OK(store().Enqueue({retried}));
  auto again = ClaimOk("w", 1, seconds(30), idle);
  ASSERT_EQ(again.size(), 1u);
  jobs::Outcome retry;
  retry.kind = jobs::Outcome::Kind::kRetry;
  retry.retry_after = seconds(600);
  ASSERT_OK(store().Finish(again[0].lease, retry));
  health = store().RunsHealth(clock_.Now(), t0 + seconds(1), 1);
  ASSERT_OK(health);
  ASSERT_EQ(health->size(), 1u);
  EXPECT_EQ((*health)[0].run.id, failed);
  health = store().RunsHealth(clock_.Now(), clock_.Now() + seconds(1), 100);
  ASSERT_OK(health);
  ASSERT_EQ(health->size(), 2u);  // only the runs in progress
  EXPECT_EQ((*health)[1].run.id, idle);
  EXPECT_EQ((*health)[1].working, 1u);
  EXPECT_CODE(kInvalidArgument, store().RunsHealth(clock_.Now(), t0, 0));
}

TEST_P(JobStoreConformanceTest, RunPhaseAndContinuousModeAreStored) {
  jobs::RunSpec spec{"s", "d", "{}"};
  spec.continuous = true;
  spec.rescan_interval = std::chrono::milliseconds(90000);
  auto run = store().CreateRun(spec);
  ASSERT_OK(run);
  auto got = store().GetRun(*run);
  ASSERT_OK(got);
  EXPECT_TRUE(got->spec.continuous);
  EXPECT_EQ(got->spec.rescan_interval, std::chrono::milliseconds(90000));
  EXPECT_EQ(got->phase, 0);
  EXPECT_EQ(got->state, RunState::kRunning);
  ASSERT_OK(store().SetRunPhase(*run, 1));
  EXPECT_EQ(store().GetRun(*run).value().phase, 1);
  EXPECT_EQ(store().CountJobs(*run).value().phase, 1);
  EXPECT_TRUE(store().CountJobs(*run).value().continuous);
  EXPECT_FALSE(store().GetRun(NewRun()).value().spec.continuous);
  EXPECT_FALSE(store().CountJobs(NewRun()).value().continuous);
  EXPECT_CODE(kNotFound, store().SetRunPhase(*run + 100, 1));
}

// A continuous run starts over only once nothing of its round is left (no queued or leased job
// of a round's kind; dead ones hold nothing): its done jobs go, its phase goes back to 0, and
// the first job of the next round waits for its not_before. Calling it again changes nothing.
TEST_P(JobStoreConformanceTest, RestartStartsARunOverOnceItsWorkIsDone) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 2, jobs::kTransferKind, /*max_attempts=*/1);
  JobSpec first;
  first.run = run;
  first.kind = jobs::kScanKind;
  first.payload = "{}";
  first.not_before = clock_.Now() + std::chrono::minutes(5);
  const std::vector<std::string> none;
  auto restarted = store().Restart(run, first, none);
  ASSERT_OK(restarted);
  EXPECT_FALSE(*restarted) << "two jobs are queued";
  auto claimed = ClaimOk("w", 2);
  ASSERT_EQ(claimed.size(), 2u);
  ASSERT_OK(store().Finish(claimed[0].lease, {}));
  jobs::Outcome fail;
  fail.kind = jobs::Outcome::Kind::kFail;
  ASSERT_OK(store().Finish(claimed[1].lease, fail));
  // An event's job (a kind outside the rounds) holds nothing, and stays.
  JobSpec event;
  event.run = run;
  event.kind = "event-kind";
  event.payload = "{}";
  ASSERT_OK(store().Enqueue({event}));
  EXPECT_FALSE(store().Restart(run, first, none).value()) << "a queued job of a round's kind";
  ASSERT_OK(store().SetRunPhase(run, 1));
  const uint64_t before = store().transactions();
  EXPECT_TRUE(store().Restart(run, first, {"event-kind"}).value()) << "a dead job holds nothing";
  EXPECT_EQ(store().transactions(), before + 1);
  auto counts = store().CountJobs(run);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kDone)], 0u) << "the last round's jobs go";
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kDead)], 1u) << "dead jobs stay";
  EXPECT_EQ(counts->of("event-kind").of(JobState::kQueued), 1u) << "the event's job stays";
  EXPECT_EQ(counts->of(jobs::kScanKind).of(JobState::kQueued), 1u);
  EXPECT_EQ(counts->phase, 0);
  EXPECT_LE(counts->next_due, first.not_before) << "the event's job is due now";
  EXPECT_CODE(kNotFound, store().GetJob(ids[0]));
  EXPECT_FALSE(store().Restart(run, first, {"event-kind"}).value()) << "once";
  auto the_event = ClaimOk("w", 2);
  ASSERT_EQ(the_event.size(), 1u) << "the next round waits for its time, the event does not";
  EXPECT_EQ(the_event[0].job.spec.kind, "event-kind");
  clock_.Advance(std::chrono::minutes(5));
  EXPECT_EQ(ClaimOk("w", 1).size(), 1u);
  ASSERT_OK(store().SetRunState(run, RunState::kDone));
  EXPECT_FALSE(store().Restart(run, first, none).value()) << "an ended run stays ended";
  first.run = run + 100;
  EXPECT_CODE(kNotFound, store().Restart(run + 100, first, none));
}

TEST_P(JobStoreConformanceTest, ListJobsFiltersByRunAndState) {
  const RunId r1 = NewRun("a", "b");
  const RunId r2 = NewRun("c", "d");
  const auto ids1 = EnqueueN(r1, 3);
  const auto ids2 = EnqueueN(r2, 2);
  ClaimOk("w", 1);  // ids1[0] leased
  auto all = store().ListJobs(0, std::nullopt, 100);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 5u);
  auto queued1 = store().ListJobs(r1, JobState::kQueued, 100);
  ASSERT_OK(queued1);
  ASSERT_EQ(queued1->size(), 2u);
  EXPECT_EQ((*queued1)[0].id, ids1[1]);
  EXPECT_EQ((*queued1)[1].id, ids1[2]);
  auto limited = store().ListJobs(r2, std::nullopt, 1);
  ASSERT_OK(limited);
  ASSERT_EQ(limited->size(), 1u);
  EXPECT_EQ((*limited)[0].id, ids2[0]);
  EXPECT_CODE(kInvalidArgument, store().ListJobs(0, std::nullopt, 0));
}

TEST_P(JobStoreConformanceTest, ReopeningKeepsTheData) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 2);
  auto again = db_.reopen(clock_);
  ASSERT_OK(again);
  auto job = (*again)->GetJob(ids[1]);
  ASSERT_OK(job);
  EXPECT_EQ(job->spec.payload, "p1");
  auto claimed = (*again)->Claim("w", seconds(30), 10);
  ASSERT_OK(claimed);
  EXPECT_EQ(claimed->size(), 2u);
}

}  // namespace
}  // namespace ferry::conformance
