// The JobStore conformance suite, part 2: leases (renew, expiry, fencing), outcomes (done,
// retry with backoff, fail, dead letters), Redrive, Purge, checkpoints, and the rule that every
// method is one transaction. Part 1 and the fixture: job_store_conformance_test.cc.
#include <functional>
#include <map>

#include "conformance/job_store_factory.h"

namespace ferry::conformance {
namespace {

using jobs::ClaimedJob;
using jobs::JobId;
using jobs::JobSpec;
using jobs::JobState;
using jobs::Lease;
using jobs::Outcome;
using jobs::RunId;
using jobs::RunState;
using std::chrono::milliseconds;
using std::chrono::seconds;

Outcome Retry(std::string error, milliseconds after) {
  Outcome o;
  o.kind = Outcome::Kind::kRetry;
  o.error = std::move(error);
  o.retry_after = after;
  return o;
}
Outcome Fail(std::string error) {
  Outcome o;
  o.kind = Outcome::Kind::kFail;
  o.error = std::move(error);
  return o;
}

TEST_P(JobStoreConformanceTest, RenewExtendsTheLease) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1);
  auto claimed = ClaimOk("w1", 1, seconds(30));
  ASSERT_EQ(claimed.size(), 1u);
  clock_.Advance(seconds(29));
  EXPECT_TRUE(ClaimOk("w2", 1).empty());  // not expired yet
  ASSERT_OK(store().Renew(claimed[0].lease, seconds(30)));
  EXPECT_EQ(Get(ids[0]).lease_expires, clock_.Now() + seconds(30));
  clock_.Advance(seconds(29));
  EXPECT_TRUE(ClaimOk("w2", 1).empty());
  clock_.Advance(seconds(1));
  EXPECT_EQ(ClaimOk("w2", 1).size(), 1u);  // expired at exactly lease_expires
}

TEST_P(JobStoreConformanceTest, ExpireLeasesFreesOnlyThatOwnersJobsAtOnce) {
  const RunId run = NewRun();
  EnqueueN(run, 3);
  auto dead = ClaimOk("dead-worker", 2, seconds(300));
  ASSERT_EQ(dead.size(), 2u);
  auto alive = ClaimOk("live-worker", 1, seconds(300));
  ASSERT_EQ(alive.size(), 1u);
  EXPECT_TRUE(ClaimOk("w3", 3).empty());
  auto n = store().ExpireLeases("dead-worker");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(*n, 2u);
  auto taken = ClaimOk("w3", 3);  // no clock movement needed
  ASSERT_EQ(taken.size(), 2u);
  EXPECT_EQ(taken[0].job.attempts, 2);
  EXPECT_EQ(store().Renew(dead[0].lease, seconds(30)).code(), ErrorCode::kFailedPrecondition);
  ASSERT_OK(store().Renew(alive[0].lease, seconds(30)));
}

TEST_P(JobStoreConformanceTest, ExpiredLeaseIsReclaimedAndTheStaleHolderIsFenced) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1);
  auto first = ClaimOk("w1", 1, seconds(30));
  ASSERT_EQ(first.size(), 1u);
  clock_.Advance(seconds(31));
  auto second = ClaimOk("w2", 1, seconds(30));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].job.id, ids[0]);
  EXPECT_EQ(second[0].lease.attempt, 2);
  EXPECT_EQ(second[0].job.lease_owner, "w2");
  EXPECT_CODE(kFailedPrecondition, store().Renew(first[0].lease, seconds(30)));
  EXPECT_CODE(kFailedPrecondition, store().Finish(first[0].lease, {}));
  EXPECT_CODE(kFailedPrecondition, store().Finish(first[0].lease, Fail("stale")));
  // The same owner name with the old attempt number is fenced too.
  const Lease stale_attempt{ids[0], "w2", 1};
  EXPECT_CODE(kFailedPrecondition, store().Finish(stale_attempt, {}));
  EXPECT_EQ(Get(ids[0]).state, JobState::kLeased);
  EXPECT_EQ(Get(ids[0]).lease_owner, "w2");
  ASSERT_OK(store().Finish(second[0].lease, {}));
  EXPECT_EQ(Get(ids[0]).state, JobState::kDone);
  EXPECT_CODE(kFailedPrecondition, store().Finish(second[0].lease, {}));  // finished already
  EXPECT_CODE(kFailedPrecondition, store().Renew(second[0].lease, seconds(30)));
}

TEST_P(JobStoreConformanceTest, AnExpiredLeaseNobodyTookIsStillHeld) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1);
  auto claimed = ClaimOk("w1", 1, seconds(30));
  ASSERT_EQ(claimed.size(), 1u);
  clock_.Advance(seconds(60));
  ASSERT_OK(store().Renew(claimed[0].lease, seconds(30)));
  ASSERT_OK(store().Finish(claimed[0].lease, {}));
  EXPECT_EQ(Get(ids[0]).state, JobState::kDone);
}

TEST_P(JobStoreConformanceTest, LeasesOfUnknownJobsAreNotFound) {
  NewRun();
  EXPECT_CODE(kNotFound, store().Renew({999999, "w", 1}, seconds(30)));
  EXPECT_CODE(kNotFound, store().Finish({999999, "w", 1}, {}));
  EXPECT_CODE(kNotFound, store().GetJob(999999));
}

TEST_P(JobStoreConformanceTest, RetryWaitsForTheBackoffThenSucceeds) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_OK(store().Finish(claimed[0].lease, Retry("503 SlowDown", seconds(5))));
  auto job = Get(ids[0]);
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.last_error, "503 SlowDown");
  EXPECT_EQ(job.lease_owner, "");
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.not_before, clock_.Now() + seconds(5));
  clock_.Advance(milliseconds(4999));
  EXPECT_TRUE(ClaimOk("w", 1).empty());
  clock_.Advance(milliseconds(1));
  claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].lease.attempt, 2);
  ASSERT_OK(store().Finish(claimed[0].lease, {}));
  job = Get(ids[0]);
  EXPECT_EQ(job.state, JobState::kDone);
  EXPECT_EQ(job.attempts, 2);
}

TEST_P(JobStoreConformanceTest, RetriesEndDeadAfterMaxAttemptsWithTheLastError) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1, jobs::kTransferKind, /*max_attempts=*/3);
  for (int attempt = 1; attempt <= 3; ++attempt) {
    auto claimed = ClaimOk("w", 1);
    ASSERT_EQ(claimed.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(claimed[0].lease.attempt, attempt);
    ASSERT_OK(store().Finish(claimed[0].lease,
                             Retry("error " + std::to_string(attempt), milliseconds(0))));
  }
  const auto job = Get(ids[0]);
  EXPECT_EQ(job.state, JobState::kDead);
  EXPECT_EQ(job.attempts, 3);
  EXPECT_EQ(job.last_error, "error 3");
  clock_.Advance(std::chrono::hours(1));
  EXPECT_TRUE(ClaimOk("w", 1).empty());
}

TEST_P(JobStoreConformanceTest, AJobWhoseWorkersKeepDyingEndsDead) {
  const RunId run = NewRun();
  const auto doomed = EnqueueN(run, 1, jobs::kTransferKind, /*max_attempts=*/2);
  for (int attempt = 1; attempt <= 2; ++attempt) {
    auto claimed = ClaimOk("w" + std::to_string(attempt), 1, seconds(30));
    ASSERT_EQ(claimed.size(), 1u);
    clock_.Advance(seconds(30));  // the worker died
  }
  const auto healthy = EnqueueN(run, 2);
  // The third claim finds the doomed job first: it goes dead and the batch fills with others.
  auto claimed = ClaimOk("w3", 2, seconds(30));
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].job.id, healthy[0]);
  EXPECT_EQ(claimed[1].job.id, healthy[1]);
  const auto job = Get(doomed[0]);
  EXPECT_EQ(job.state, JobState::kDead);
  EXPECT_EQ(job.attempts, 2);
  EXPECT_EQ(job.lease_owner, "");
  EXPECT_EQ(job.last_error, "lease expired too often (worker died?)");
}

TEST_P(JobStoreConformanceTest, FailIsDeadAtOnce) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_OK(store().Finish(claimed[0].lease, Fail("AccessDenied")));
  const auto job = Get(ids[0]);
  EXPECT_EQ(job.state, JobState::kDead);
  EXPECT_EQ(job.attempts, 1);
  EXPECT_EQ(job.last_error, "AccessDenied");
}

TEST_P(JobStoreConformanceTest, ListErrorsIsNewestFirstWithoutDoneJobs) {
  const RunId run = NewRun();
  const RunId other = NewRun("x", "y");
  const auto ids = EnqueueN(run, 4, jobs::kTransferKind, /*max_attempts=*/5);
  const auto other_ids = EnqueueN(other, 1);
  auto claimed = ClaimOk("w", 4, seconds(30), run);
  ASSERT_EQ(claimed.size(), 4u);
  // job 0 retried then done (its error stays in the row: not listed), job 1 dead, job 2 waits
  // for a retry, job 3 done without error
  ASSERT_OK(store().Finish(claimed[0].lease, Retry("slow down", milliseconds(0))));
  clock_.Advance(seconds(1));
  ASSERT_OK(store().Finish(claimed[1].lease, Fail("AccessDenied")));
  clock_.Advance(seconds(1));
  ASSERT_OK(store().Finish(claimed[2].lease, Retry("timeout", seconds(60))));
  ASSERT_OK(store().Finish(claimed[3].lease, {}));
  auto again = ClaimOk("w", 1, seconds(30), run);
  ASSERT_EQ(again.size(), 1u);
  ASSERT_EQ(again[0].job.id, ids[0]);
  ASSERT_OK(store().Finish(again[0].lease, {}));
  auto failed_other = ClaimOk("w", 1, seconds(30), other);
  ASSERT_EQ(failed_other.size(), 1u);
  clock_.Advance(seconds(1));
  ASSERT_OK(store().Finish(failed_other[0].lease, Fail("NoSuchBucket")));

  auto errors = store().ListErrors(run, 10);
  ASSERT_OK(errors.status());
  ASSERT_EQ(errors->size(), 2u);
  EXPECT_EQ((*errors)[0].id, ids[2]);
  EXPECT_EQ((*errors)[0].last_error, "timeout");
  EXPECT_EQ((*errors)[0].state, JobState::kQueued);
  EXPECT_EQ((*errors)[1].id, ids[1]);
  EXPECT_EQ((*errors)[1].last_error, "AccessDenied");
  EXPECT_EQ((*errors)[1].state, JobState::kDead);
  EXPECT_GT((*errors)[0].updated, (*errors)[1].updated);
  auto all = store().ListErrors(0, 10);
  ASSERT_OK(all.status());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].id, other_ids[0]);
  auto one = store().ListErrors(0, 1);
  ASSERT_OK(one.status());
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].id, other_ids[0]);
  auto none = store().ListErrors(run + other + 100, 10);
  ASSERT_OK(none.status());
  EXPECT_TRUE(none->empty());
  EXPECT_CODE(kInvalidArgument, store().ListErrors(run, 0));
}

TEST_P(JobStoreConformanceTest, RetryAndFailMayReplaceThePayload) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 3);
  auto claimed = ClaimOk("w", 3);
  ASSERT_EQ(claimed.size(), 3u);
  Outcome retry = Retry("2 of 5 failed", milliseconds(0));
  retry.payload = R"(["b","d"])";
  Outcome fail = Fail("denied");
  fail.payload = "";
  Outcome done;
  done.payload = "ignored";
  ASSERT_OK(store().Finish(claimed[0].lease, retry));
  ASSERT_OK(store().Finish(claimed[1].lease, fail));
  ASSERT_OK(store().Finish(claimed[2].lease, done));
  EXPECT_EQ(Get(ids[0]).spec.payload, R"(["b","d"])");
  EXPECT_EQ(Get(ids[1]).spec.payload, "");
  EXPECT_EQ(Get(ids[2]).spec.payload, "p2");
}

// An outcome's tally adds to its job's, whatever the outcome; a Finish that lost its lease
// adds nothing (the attempt's work is not committed).
TEST_P(JobStoreConformanceTest, FinishAddsTheAttemptsTallyToItsJob) {
  const RunId run = NewRun();
  EnqueueN(run, 2, "cache-warm");
  auto first = ClaimOk("w", 2);
  ASSERT_EQ(first.size(), 2u);
  Outcome retry = Retry("1 of 3 failed", milliseconds(0));
  retry.tally = {.objects = 2, .bytes = 5'000'000'000};
  ASSERT_OK(store().Finish(first[0].lease, retry));
  Outcome dead = Fail("denied");
  dead.tally = {.objects = 1, .bytes = 7};
  ASSERT_OK(store().Finish(first[1].lease, dead));
  auto again = ClaimOk("w", 1);
  ASSERT_EQ(again.size(), 1u);
  Outcome done;
  done.tally = {.objects = 1, .bytes = 3};
  ASSERT_OK(store().Finish(again[0].lease, done));
  Outcome late;
  late.tally = {.objects = 100, .bytes = 100};
  EXPECT_FALSE(store().Finish(first[0].lease, late).ok());  // the first attempt's lease
  auto counts = store().CountJobs(run);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->of("cache-warm").tally.objects, 4u);
  EXPECT_EQ(counts->of("cache-warm").tally.bytes, 5'000'000'010u);
  EXPECT_EQ(counts->of("cache-warm").objects_total, 2u);  // what they were enqueued with
  Outcome huge;
  huge.tally.bytes = uint64_t{1} << 63;
  EXPECT_EQ(store().Finish(again[0].lease, huge).code(), ErrorCode::kInvalidArgument);
}

// Wake makes a job that waits (kWait, a retry's backoff) runnable now; a parked, leased or done
// job, or an unknown one, does not change.
TEST_P(JobStoreConformanceTest, WakeMakesAWaitingJobRunnableNow) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 2);
  auto claimed = ClaimOk("w", 2);
  ASSERT_EQ(claimed.size(), 2u);
  Outcome wait;
  wait.kind = Outcome::Kind::kWait;
  wait.retry_after = seconds(60);
  ASSERT_OK(store().Finish(claimed[0].lease, wait));
  EXPECT_TRUE(ClaimOk("w", 1).empty()) << "waits out its minute";
  auto woken = store().Wake(ids[0]);
  ASSERT_OK(woken);
  EXPECT_TRUE(*woken);
  auto again = ClaimOk("w", 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].job.id, ids[0]);
  auto leased = store().Wake(ids[1]);  // still leased
  ASSERT_OK(leased);
  EXPECT_FALSE(*leased);
  ASSERT_OK(store().Finish(claimed[1].lease, Outcome{}));
  auto done = store().Wake(ids[1]);
  ASSERT_OK(done);
  EXPECT_FALSE(*done);
  JobSpec parked;
  parked.run = run;
  parked.not_before = jobs::kParked;
  auto parked_ids = store().Enqueue({parked});
  ASSERT_OK(parked_ids);
  auto stays = store().Wake((*parked_ids)[0]);
  ASSERT_OK(stays);
  EXPECT_FALSE(*stays);
  EXPECT_EQ(Get((*parked_ids)[0]).not_before, jobs::kParked);
  auto unknown = store().Wake(987654);
  ASSERT_OK(unknown);
  EXPECT_FALSE(*unknown);
}

TEST_P(JobStoreConformanceTest, FinishEnqueuesMoreInTheSameTransaction) {
  const RunId run = NewRun();
  const auto scan = EnqueueN(run, 1, jobs::kScanKind);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  std::vector<JobSpec> more(2);
  for (JobSpec& s : more) s.run = run;
  more[1].payload = "second";
  // A spec of an unknown run fails the whole Finish: the scan stays leased, nothing is added.
  std::vector<JobSpec> bad = more;
  bad[1].run = run + 100;
  EXPECT_CODE(kNotFound, store().Finish(claimed[0].lease, {}, bad));
  EXPECT_EQ(Get(scan[0]).state, JobState::kLeased);
  ASSERT_OK(store().Finish(claimed[0].lease, {}, more));
  EXPECT_EQ(Get(scan[0]).state, JobState::kDone);
  auto queued = store().ListJobs(run, JobState::kQueued, 10);
  ASSERT_OK(queued);
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[1].spec.payload, "second");
  // A lost lease enqueues nothing either.
  EXPECT_CODE(kFailedPrecondition, store().Finish(claimed[0].lease, {}, more));
  queued = store().ListJobs(run, std::nullopt, 10);
  ASSERT_OK(queued);
  EXPECT_EQ(queued->size(), 3u);
}

TEST_P(JobStoreConformanceTest, RedriveQueuesDeadJobsAgain) {
  const RunId r1 = NewRun("a", "b");
  const RunId r2 = NewRun("c", "d");
  const auto ids1 = EnqueueN(r1, 3);
  const auto ids2 = EnqueueN(r2, 1);
  auto claimed = ClaimOk("w", 4);
  ASSERT_EQ(claimed.size(), 4u);
  ASSERT_OK(store().Finish(claimed[0].lease, Fail("x")));
  ASSERT_OK(store().Finish(claimed[1].lease, Fail("y")));
  ASSERT_OK(store().Finish(claimed[2].lease, {}));
  ASSERT_OK(store().Finish(claimed[3].lease, Fail("z")));
  ASSERT_OK(store().SetRunState(r1, RunState::kFailed));  // as AdvanceRun leaves them
  ASSERT_OK(store().SetRunState(r2, RunState::kFailed));
  clock_.Advance(seconds(10));
  auto redriven = store().Redrive(r1);
  ASSERT_OK(redriven);
  EXPECT_EQ(*redriven, 2u);
  // A failed run that gets work back is in progress again; the other one is still failed.
  EXPECT_EQ(store().GetRun(r1).value().state, RunState::kRunning);
  EXPECT_EQ(store().GetRun(r2).value().state, RunState::kFailed);
  const auto job = Get(ids1[0]);
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.not_before, clock_.Now());
  EXPECT_EQ(Get(ids1[2]).state, JobState::kDone);
  EXPECT_EQ(Get(ids2[0]).state, JobState::kDead);
  claimed = ClaimOk("w", 10);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].lease.attempt, 1);
  // Jobs given with the redrive join its transaction, into the run it set going again (a
  // failed run takes no new job otherwise).
  JobSpec armed;
  armed.run = r2;
  armed.kind = "report-summary";
  armed.payload = "{}";
  armed.not_before = jobs::kParked;
  EXPECT_FALSE(store().Enqueue({armed}).ok()) << "a failed run took a job";
  redriven = store().Redrive(0, {armed});
  ASSERT_OK(redriven);
  EXPECT_EQ(*redriven, 1u);
  auto counts = store().CountJobs(r2);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->of("report-summary").of(JobState::kQueued), 1u);
  EXPECT_EQ(store().GetRun(r2).value().state, RunState::kRunning);
  redriven = store().Redrive(0);
  ASSERT_OK(redriven);
  EXPECT_EQ(*redriven, 0u);
}

TEST_P(JobStoreConformanceTest, PurgeRemovesFinishedRunsAndOptionallyDeadJobs) {
  const RunId finished = NewRun("a", "b");
  const RunId failing = NewRun("c", "d");
  const auto done_ids = EnqueueN(finished, 2);
  const auto other_ids = EnqueueN(failing, 2);
  auto claimed = ClaimOk("w", 4);
  ASSERT_EQ(claimed.size(), 4u);
  ASSERT_OK(store().SaveUpload(claimed[0].lease, {"k", "u1", 5 << 20, "", {{1, "e1", 7, 5 << 20}}}));
  ASSERT_OK(store().Finish(claimed[0].lease, {}));
  ASSERT_OK(store().Finish(claimed[1].lease, {}));
  ASSERT_OK(store().Finish(claimed[2].lease, Fail("gone")));
  ASSERT_OK(store().SetRunState(finished, RunState::kDone));
  ASSERT_OK(store().SetRunState(failing, RunState::kFailed));  // a dead job: redrive may help
  auto purged = store().Purge(false);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 2u);
  EXPECT_CODE(kNotFound, store().GetRun(finished));
  EXPECT_CODE(kNotFound, store().GetJob(done_ids[0]));
  EXPECT_EQ(Get(other_ids[0]).state, JobState::kDead);
  ASSERT_OK(store().GetRun(failing));
  const RunId bystander = NewRun("e", "f");
  const auto bystander_ids = EnqueueN(bystander, 1);
  // A dead job purged never succeeds: its run is abandoned, so that its other work (parked
  // deletes above all) never runs, and with nothing left it goes too. Other runs stay.
  purged = store().Purge(true);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 2u);
  EXPECT_CODE(kNotFound, store().GetJob(other_ids[0]));
  EXPECT_CODE(kNotFound, store().GetJob(other_ids[1]));
  EXPECT_CODE(kNotFound, store().GetRun(failing));
  EXPECT_EQ(Get(bystander_ids[0]).state, JobState::kQueued);
  // Ids are never reused after a purge (a stale lease must not match a new job).
  const auto fresh = EnqueueN(bystander, 1);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_GT(fresh[0], bystander_ids[0]);
  EXPECT_GT(fresh[0], other_ids[1]);
}

TEST_P(JobStoreConformanceTest, CheckpointsRoundTrip) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 2);
  auto claimed = ClaimOk("w", 2);
  ASSERT_EQ(claimed.size(), 2u);
  const Lease& lease = claimed[0].lease;
  auto none = store().LoadUpload(ids[0], {"", "big/key"});
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_CODE(kFailedPrecondition, store().SavePart(lease, {"", "big/key"}, {1, "e", 1, 1}));
  ASSERT_OK(store().SaveUpload(lease, {"big/key", "upload-1", 8 << 20, "etag=e1;size=9", {}}));
  ASSERT_OK(store().SavePart(lease, {"", "big/key"}, {3, "\"etag3\"", 0xfffffffe, 1234}));
  ASSERT_OK(store().SavePart(lease, {"", "big/key"}, {1, "\"etag1\"", 11, 8 << 20}));
  ASSERT_OK(store().SavePart(lease, {"", "big/key"}, {2, "\"old\"", 22, 8 << 20}));
  ASSERT_OK(store().SavePart(lease, {"", "big/key"}, {2, "\"etag2\"", 23, 8 << 20}));  // replaces part 2
  auto loaded = store().LoadUpload(ids[0], {"", "big/key"});
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  const jobs::UploadCheckpoint& u = **loaded;
  EXPECT_EQ(u.key, "big/key");
  EXPECT_EQ(u.upload_id, "upload-1");
  EXPECT_EQ(u.part_size, 8u << 20);
  EXPECT_EQ(u.source, "etag=e1;size=9");  // the source version the parts came from
  ASSERT_EQ(u.parts.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(u.parts[i].part_number, i + 1);
  EXPECT_EQ(u.parts[1].etag, "\"etag2\"");
  EXPECT_EQ(u.parts[1].crc32c, 23u);
  EXPECT_EQ(u.parts[2].crc32c, 0xfffffffeu);
  EXPECT_EQ(u.parts[2].size, 1234u);
  auto other = store().LoadUpload(ids[1], {"", "big/key"});  // checkpoints are per job
  ASSERT_OK(other);
  EXPECT_FALSE(other->has_value());

  // A new upload replaces the old one and its parts.
  ASSERT_OK(store().SaveUpload(lease, {"big/key", "upload-2", 16 << 20, "", {}}));
  loaded = store().LoadUpload(ids[0], {"", "big/key"});
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->upload_id, "upload-2");
  EXPECT_EQ((*loaded)->source, "");
  EXPECT_TRUE((*loaded)->parts.empty());
  ASSERT_OK(store().ClearUpload(lease, {"", "big/key"}));
  loaded = store().LoadUpload(ids[0], {"", "big/key"});
  ASSERT_OK(loaded);
  EXPECT_FALSE(loaded->has_value());
  ASSERT_OK(store().ClearUpload(lease, {"", "big/key"}));  // nothing to clear is fine

  // About to create an upload: recorded with its time, not among the uploads started.
  const jobs::TimePoint before = clock_.Now();
  ASSERT_OK(store().SaveUpload(lease, {"big/key", "", 0, "etag=e2;size=9", {}, {}}));
  loaded = store().LoadUpload(ids[0], {"", "big/key"});
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->upload_id, "");
  EXPECT_EQ((*loaded)->source, "etag=e2;size=9");
  EXPECT_GE((*loaded)->creating_since, before - std::chrono::milliseconds(1));  // ms in the store
  EXPECT_NE((*loaded)->creating_since, jobs::TimePoint{});
  ASSERT_OK(store().SaveUpload(lease, {"big/key", "upload-3", 8 << 20, "etag=e2;size=9", {}, {}}));
  loaded = store().LoadUpload(ids[0], {"", "big/key"});
  ASSERT_OK(loaded);
  EXPECT_EQ((*loaded)->creating_since, jobs::TimePoint{}) << "recorded: no longer creating";
  ASSERT_OK(store().ClearUpload(lease, {"", "big/key"}));

  EXPECT_CODE(kNotFound, store().SaveUpload(Lease{999999, "w", 1}, {"k", "u", 1, "", {}}));
  EXPECT_CODE(kNotFound, store().SavePart(Lease{999999, "w", 1}, {"", "big/key"}, {1, "e", 1, 1}));
  EXPECT_CODE(kNotFound, store().LoadUpload(999999, {"", "big/key"}));
  EXPECT_CODE(kNotFound, store().ClearUpload(Lease{999999, "w", 1}, {"", "big/key"}));
  EXPECT_CODE(kInvalidArgument, store().SavePart(lease, {"", "big/key"}, {0, "e", 1, 1}));
  EXPECT_CODE(kInvalidArgument, store().SaveUpload(Lease{ids[0], "", 1}, {"k", "u", 1, "", {}}));
}

// Checkpoint writes are fenced by the lease like Finish: a worker whose lease was lost (another
// claimed the job after it expired) cannot move the new holder's checkpoint.
TEST_P(JobStoreConformanceTest, CheckpointWritesNeedTheLease) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1);
  auto first = ClaimOk("w1", 1, seconds(30));
  ASSERT_EQ(first.size(), 1u);
  ASSERT_OK(store().SaveUpload(first[0].lease, {"big", "upload-1", 5 << 20, "", {}}));
  ASSERT_OK(store().SavePart(first[0].lease, {"", "big"}, {1, "e1", 1, 5 << 20}));
  clock_.Advance(seconds(31));
  auto second = ClaimOk("w2", 1, seconds(30));
  ASSERT_EQ(second.size(), 1u);
  const uint64_t before = store().transactions();
  EXPECT_CODE(kFailedPrecondition, store().SavePart(first[0].lease, {"", "big"}, {2, "e2", 2, 5 << 20}));
  EXPECT_CODE(kFailedPrecondition,
              store().SaveUpload(first[0].lease, {"big", "upload-stale", 5 << 20, "", {}}));
  EXPECT_CODE(kFailedPrecondition, store().ClearUpload(first[0].lease, {"", "big"}));
  // The same owner name with an old attempt is fenced too.
  EXPECT_CODE(kFailedPrecondition, store().SavePart(Lease{ids[0], "w2", 1}, {"", "big"}, {2, "e2", 2, 1}));
  EXPECT_EQ(store().transactions(), before) << "refused writes commit nothing";
  auto loaded = store().LoadUpload(ids[0], {"", "big"});
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->upload_id, "upload-1");
  ASSERT_EQ((*loaded)->parts.size(), 1u);
  // The new holder resumes the upload and goes on.
  ASSERT_OK(store().SavePart(second[0].lease, {"", "big"}, {2, "e2", 2, 5 << 20}));
  ASSERT_OK(store().Finish(second[0].lease, {}));
  EXPECT_CODE(kFailedPrecondition, store().SavePart(second[0].lease, {"", "big"}, {3, "e3", 3, 1}));
}

// A part job (jobs/part_jobs.h) adds its parts to its owner's checkpoint under its own lease,
// and only while the owner's checkpoint names the upload the parts went into: a part of an
// upload the owner replaced or cleared is refused.
TEST_P(JobStoreConformanceTest, SharedPartsGoIntoTheOwnersCheckpointUnderThePartJobsLease) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 2);
  auto owner = ClaimOk("w1", 1, seconds(30));
  auto part = ClaimOk("w2", 1, seconds(30));
  ASSERT_EQ(owner.size(), 1u);
  ASSERT_EQ(part.size(), 1u);
  const jobs::UploadRef ref{"", "big"};
  ASSERT_OK(store().SaveUpload(owner[0].lease, {"big", "upload-1", 5 << 20, "", {}}));
  ASSERT_OK(store().SaveSharedPart(part[0].lease, ids[0], ref, "upload-1", {2, "e2", 2, 5 << 20}));
  ASSERT_OK(store().SaveSharedPart(part[0].lease, ids[0], ref, "upload-1", {1, "e1", 1, 5 << 20}));
  auto loaded = store().LoadUpload(ids[0], ref);
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  ASSERT_EQ((*loaded)->parts.size(), 2u);
  EXPECT_EQ((*loaded)->parts[0].etag, "e1");
  auto own = store().LoadUpload(ids[1], ref);
  ASSERT_OK(own);
  EXPECT_FALSE(own->has_value()) << "the part job keeps no checkpoint of its own";
  EXPECT_CODE(kNotFound,
              store().SaveSharedPart(part[0].lease, ids[0], ref, "upload-0", {3, "e3", 3, 1}));
  ASSERT_OK(store().SaveUpload(owner[0].lease, {"big", "upload-2", 5 << 20, "", {}}));
  EXPECT_CODE(kNotFound,
              store().SaveSharedPart(part[0].lease, ids[0], ref, "upload-1", {3, "e3", 3, 1}));
  ASSERT_OK(store().ClearUpload(owner[0].lease, ref));
  EXPECT_CODE(kNotFound,
              store().SaveSharedPart(part[0].lease, ids[0], ref, "upload-2", {1, "e1", 1, 1}));
  ASSERT_OK(store().SaveUpload(owner[0].lease, {"big", "upload-3", 5 << 20, "", {}}));
  clock_.Advance(seconds(31));  // the part job's worker is gone; another claims it
  auto again = ClaimOk("w3", 2, seconds(30));
  ASSERT_EQ(again.size(), 2u);
  const Lease& new_part = again[0].lease.job == ids[1] ? again[0].lease : again[1].lease;
  EXPECT_CODE(kFailedPrecondition,
              store().SaveSharedPart(part[0].lease, ids[0], ref, "upload-3", {1, "e1", 1, 1}));
  ASSERT_OK(store().SaveSharedPart(new_part, ids[0], ref, "upload-3", {1, "e1", 1, 5 << 20}));
  EXPECT_CODE(kInvalidArgument,
              store().SaveSharedPart(new_part, ids[0], ref, "upload-3", {0, "e0", 1, 1}));
}

// A job keeps one checkpoint per (destination, key): a replicate-keys job writes several large
// versions at once, to the destinations of its rules. Each has its own parts, is replaced,
// loaded and cleared alone, and is listed among the uploads started on its own destination.
TEST_P(JobStoreConformanceTest, AJobKeepsOneCheckpointPerDestinationAndKey) {
  const RunId run = NewRun();
  EnqueueN(run, 1);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  const Lease& lease = claimed[0].lease;
  const JobId job = claimed[0].job.id;
  const jobs::UploadRef a{"", "k1"}, b{"", "k2"}, c{"rb:other/", "k1"};
  ASSERT_OK(store().SaveUpload(lease, {"k1", "up-a", 5 << 20, "pin-a", {}, {}, ""}));
  ASSERT_OK(store().SaveUpload(lease, {"k2", "up-b", 5 << 20, "pin-b", {}, {}, ""}));
  ASSERT_OK(store().SaveUpload(lease, {"k1", "up-c", 8 << 20, "pin-c", {}, {}, "rb:other/"}));
  ASSERT_OK(store().SavePart(lease, a, {1, "ea1", 1, 5 << 20}));
  ASSERT_OK(store().SavePart(lease, b, {1, "eb1", 2, 5 << 20}));
  ASSERT_OK(store().SavePart(lease, b, {2, "eb2", 3, 5 << 20}));
  ASSERT_OK(store().SavePart(lease, c, {1, "ec1", 4, 8 << 20}));
  EXPECT_CODE(kFailedPrecondition, store().SavePart(lease, {"", "k3"}, {1, "e", 1, 1}));
  auto la = store().LoadUpload(job, a);
  auto lb = store().LoadUpload(job, b);
  auto lc = store().LoadUpload(job, c);
  ASSERT_OK(la);
  ASSERT_OK(lb);
  ASSERT_OK(lc);
  ASSERT_TRUE(la->has_value() && lb->has_value() && lc->has_value());
  EXPECT_EQ((*la)->upload_id, "up-a");
  EXPECT_EQ((*la)->parts.size(), 1u);
  EXPECT_EQ((*lb)->upload_id, "up-b");
  ASSERT_EQ((*lb)->parts.size(), 2u);
  EXPECT_EQ((*lb)->parts[1].etag, "eb2");
  EXPECT_EQ((*lc)->upload_id, "up-c");
  EXPECT_EQ((*lc)->destination, "rb:other/");
  EXPECT_EQ((*lc)->part_size, 8u << 20);
  ASSERT_EQ((*lc)->parts.size(), 1u);
  EXPECT_EQ((*lc)->parts[0].crc32c, 4u);
  // A new upload of one ref replaces that ref's only.
  ASSERT_OK(store().SaveUpload(lease, {"k2", "up-b2", 5 << 20, "pin-b", {}, {}, ""}));
  lb = store().LoadUpload(job, b);
  ASSERT_OK(lb);
  EXPECT_EQ((*lb)->upload_id, "up-b2");
  EXPECT_TRUE((*lb)->parts.empty());
  la = store().LoadUpload(job, a);
  ASSERT_OK(la);
  EXPECT_EQ((*la)->parts.size(), 1u);
  // Each is listed on its own destination, live while its checkpoint names it.
  auto other = store().ListStartedUploads("rb:other/");
  ASSERT_OK(other);
  ASSERT_EQ(other->size(), 1u);
  EXPECT_EQ((*other)[0].upload_id, "up-c");
  EXPECT_EQ((*other)[0].key, "k1");
  EXPECT_TRUE((*other)[0].live);
  // Clearing one leaves the others.
  ASSERT_OK(store().ClearUpload(lease, c));
  lc = store().LoadUpload(job, c);
  ASSERT_OK(lc);
  EXPECT_FALSE(lc->has_value());
  other = store().ListStartedUploads("rb:other/");
  ASSERT_OK(other);
  EXPECT_TRUE(other->empty()) << "a cleared upload is finished";
  la = store().LoadUpload(job, a);
  ASSERT_OK(la);
  EXPECT_TRUE(la->has_value());
}

// Release gives a job back unworked: runnable at once, and the attempt is not counted.
TEST_P(JobStoreConformanceTest, ReleaseGivesTheJobBackWithoutCountingTheAttempt) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1, jobs::kTransferKind, /*max_attempts=*/1);
  for (int i = 0; i < 3; ++i) {  // given back more often than max_attempts: never dead
    auto claimed = ClaimOk("w", 1);
    ASSERT_EQ(claimed.size(), 1u);
    EXPECT_EQ(claimed[0].lease.attempt, 1);
    ASSERT_OK(store().Release(claimed[0].lease));
    const jobs::Job job = Get(ids[0]);
    EXPECT_EQ(job.state, JobState::kQueued);
    EXPECT_EQ(job.attempts, 0);
    EXPECT_EQ(job.lease_owner, "");
    EXPECT_CODE(kFailedPrecondition, store().Release(claimed[0].lease));  // not held any more
    EXPECT_CODE(kFailedPrecondition, store().Finish(claimed[0].lease, {}));
  }
  auto claimed = ClaimOk("v", 1);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_OK(store().Finish(claimed[0].lease, {}));
  EXPECT_EQ(Get(ids[0]).state, JobState::kDone);
  EXPECT_CODE(kFailedPrecondition, store().Release(claimed[0].lease));
  EXPECT_CODE(kNotFound, store().Release(Lease{999999, "w", 1}));
  EXPECT_CODE(kInvalidArgument, store().Release(Lease{ids[0], "", 1}));
}

// kWait (a key another job holds): queued again after retry_after, the attempt not counted, so a
// job that waits far more often than max_attempts never dies of it; a real failure still counts.
TEST_P(JobStoreConformanceTest, AWaitIsNoAttemptAndKeepsItsTime) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1, jobs::kTransferKind, /*max_attempts=*/2);
  Outcome wait;
  wait.kind = Outcome::Kind::kWait;
  wait.error = "its key is being written by another job";
  for (int i = 0; i < 5; ++i) {
    wait.retry_after = seconds(2 + i);
    auto claimed = ClaimOk("w", 1);
    ASSERT_EQ(claimed.size(), 1u) << "wait " << i;
    EXPECT_EQ(claimed[0].lease.attempt, 1);
    ASSERT_OK(store().Finish(claimed[0].lease, wait));
    const jobs::Job job = Get(ids[0]);
    EXPECT_EQ(job.state, JobState::kQueued);
    EXPECT_EQ(job.attempts, 0);
    EXPECT_EQ(job.last_error, wait.error);
    EXPECT_EQ(job.lease_owner, "");
    EXPECT_EQ(job.not_before, clock_.Now() + wait.retry_after);
    EXPECT_CODE(kFailedPrecondition, store().Finish(claimed[0].lease, wait));  // not held
    clock_.Advance(wait.retry_after - milliseconds(1));
    EXPECT_TRUE(ClaimOk("w", 1).empty());
    clock_.Advance(milliseconds(1));
  }
  // Two real failures still make it dead: max_attempts is theirs.
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  ASSERT_OK(store().Finish(claimed[0].lease, Retry("503", milliseconds(0))));
  claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_EQ(claimed[0].lease.attempt, 2);
  ASSERT_OK(store().Finish(claimed[0].lease, Retry("503 again", milliseconds(0))));
  EXPECT_EQ(Get(ids[0]).state, JobState::kDead);
}

// Every upload SaveUpload records is listed for its run's destination until ClearUpload (or
// ForgetUpload) finishes it; `live` says whether a run may still resume it.
TEST_P(JobStoreConformanceTest, StartedUploadsAreRecordedUntilFinished) {
  const RunId run = NewRun("src", "s3://bucket/dst");
  const RunId other = NewRun("src", "s3://bucket/other");
  const auto ids = EnqueueN(run, 4);
  const auto other_ids = EnqueueN(other, 1);
  auto claimed = ClaimOk("w", 5);
  ASSERT_EQ(claimed.size(), 5u);
  const auto t0 = clock_.Now();
  ASSERT_OK(store().SaveUpload(claimed[0].lease, {"a", "up-a1", 5 << 20, "", {}}));
  clock_.Advance(seconds(1));
  ASSERT_OK(store().SaveUpload(claimed[0].lease, {"a", "up-a2", 5 << 20, "", {}}));  // replaces a1
  ASSERT_OK(store().SaveUpload(claimed[1].lease, {"b", "up-b", 5 << 20, "", {}}));
  ASSERT_OK(store().SaveUpload(claimed[2].lease, {"c", "up-c", 5 << 20, "", {}}));
  ASSERT_OK(store().SaveUpload(claimed[3].lease, {"d", "up-d", 5 << 20, "", {}}));
  ASSERT_OK(store().SaveUpload(claimed[4].lease, {"e", "up-e", 5 << 20, "", {}}));
  ASSERT_OK(store().ClearUpload(claimed[1].lease, {"", "b"}));  // b completed
  ASSERT_OK(store().Finish(claimed[2].lease, Fail("gone")));  // c's job is dead
  // d's job is retried later: still live (a retry resumes it).
  ASSERT_OK(store().Finish(claimed[3].lease, Retry("503", milliseconds(10))));
  auto listed = store().ListStartedUploads("s3://bucket/dst");
  ASSERT_OK(listed);
  std::map<std::string, jobs::StartedUpload> by_id;
  for (const auto& u : *listed) by_id[u.upload_id] = u;
  ASSERT_EQ(by_id.size(), 4u) << "b is finished; e is another destination's";
  EXPECT_EQ((*listed)[0].upload_id, "up-a1");  // oldest first
  EXPECT_EQ(by_id["up-a1"].key, "a");
  EXPECT_EQ(by_id["up-a1"].job, ids[0]);
  EXPECT_EQ(by_id["up-a1"].run, run);
  EXPECT_EQ(by_id["up-a1"].destination, "s3://bucket/dst");
  EXPECT_EQ(by_id["up-a1"].started, t0);
  EXPECT_FALSE(by_id["up-a1"].live) << "replaced by a newer upload of its job";
  EXPECT_TRUE(by_id["up-a2"].live);
  EXPECT_FALSE(by_id["up-c"].live) << "its job is dead";
  EXPECT_TRUE(by_id["up-d"].live);
  // A run that is done leaves nothing live.
  ASSERT_OK(store().SetRunState(run, RunState::kDone));
  listed = store().ListStartedUploads("s3://bucket/dst");
  ASSERT_OK(listed);
  for (const auto& u : *listed) EXPECT_FALSE(u.live) << u.upload_id;
  ASSERT_OK(store().SetRunState(run, RunState::kRunning));
  // ForgetUpload finishes the record, and drops a dead job's checkpoint that names it (a
  // redrive starts anew), but never a leased job's.
  ASSERT_OK(store().ForgetUpload("s3://bucket/dst", "up-c"));
  ASSERT_OK(store().ForgetUpload("s3://bucket/dst", "up-a1"));
  auto c = store().LoadUpload(ids[2], {"", "c"});
  ASSERT_OK(c);
  EXPECT_FALSE(c->has_value());
  auto a = store().LoadUpload(ids[0], {"", "a"});
  ASSERT_OK(a);
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ((*a)->upload_id, "up-a2");
  ASSERT_OK(store().ForgetUpload("s3://bucket/dst", "up-a2"));  // leased: checkpoint kept
  a = store().LoadUpload(ids[0], {"", "a"});
  ASSERT_OK(a);
  EXPECT_TRUE(a->has_value());
  listed = store().ListStartedUploads("s3://bucket/dst");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].upload_id, "up-d");
  EXPECT_CODE(kNotFound, store().ForgetUpload("s3://bucket/dst", "up-e"));
  EXPECT_CODE(kNotFound, store().ForgetUpload("s3://bucket/dst", "no-such"));
  // Records outlive their jobs: a purged run's unfinished upload is still listed.
  ASSERT_OK(store().SetRunState(other, RunState::kDone));
  ASSERT_OK(store().Finish(claimed[4].lease, {}));
  ASSERT_OK(store().Purge(false));
  EXPECT_CODE(kNotFound, store().GetJob(other_ids[0]));
  listed = store().ListStartedUploads("s3://bucket/other");
  ASSERT_OK(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_FALSE((*listed)[0].live);
  ASSERT_OK(store().ForgetUpload("s3://bucket/other", "up-e"));
}

// Every method is exactly one transaction (the bench divides by this); failures count none.
TEST_P(JobStoreConformanceTest, HandOffKeepsTheJobAndEnqueuesTheRestAtomically) {
  const RunId run = NewRun();
  const auto scan = EnqueueN(run, 1, jobs::kScanKind);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  std::vector<JobSpec> rest(1);
  rest[0].run = run;
  rest[0].kind = jobs::kScanKind;
  rest[0].payload = "high half";
  // A spec of an unknown run fails the whole call: payload unchanged, nothing added.
  std::vector<JobSpec> bad = rest;
  bad[0].run = run + 100;
  EXPECT_CODE(kNotFound, store().HandOff(claimed[0].lease, "low half", bad));
  EXPECT_EQ(Get(scan[0]).spec.payload, "p0");
  ASSERT_OK(store().HandOff(claimed[0].lease, "low half", rest));
  const jobs::Job kept = Get(scan[0]);
  EXPECT_EQ(kept.spec.payload, "low half");
  EXPECT_EQ(kept.state, JobState::kLeased);
  EXPECT_EQ(kept.attempts, claimed[0].job.attempts);
  EXPECT_EQ(kept.lease_owner, "w");
  // The handed-on work is claimable at once, by anyone; the lease still finishes the job.
  auto other = ClaimOk("v", 5);
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].job.spec.payload, "high half");
  ASSERT_OK(store().Renew(claimed[0].lease, seconds(30)));
  ASSERT_OK(store().Finish(claimed[0].lease, {}));
  EXPECT_EQ(Get(scan[0]).state, JobState::kDone);
  // A lost lease hands nothing on.
  EXPECT_CODE(kFailedPrecondition, store().HandOff(claimed[0].lease, "again", rest));
  auto all = store().ListJobs(run, std::nullopt, 10);
  ASSERT_OK(all);
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(Get(scan[0]).spec.payload, "low half");
}

TEST_P(JobStoreConformanceTest, EveryMethodIsOneTransaction) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 3);
  auto claimed = ClaimOk("w", 2);
  ASSERT_EQ(claimed.size(), 2u);
  JobSpec spec;
  spec.run = run;
  const RunId abandoned = NewRun("x", "y");
  EnqueueN(abandoned, 2);
  const std::vector<std::pair<std::string, std::function<Status()>>> calls = {
      {"CreateRun",
       [&] {
         return store().CreateRun({"a", "b", ""}).status();
       }},
      {"FindUnfinishedRun", [&] { return store().FindUnfinishedRun("src", "dst").status(); }},
      {"GetRun", [&] { return store().GetRun(run).status(); }},
      {"ListRuns", [&] { return store().ListRuns(10).status(); }},
      {"SetRunState", [&] { return store().SetRunState(run, RunState::kRunning); }},
      {"SetRunPhase", [&] { return store().SetRunPhase(run, 0); }},
      {"Restart (not idle)", [&] { return store().Restart(run, spec, {}).status(); }},
      {"AbandonRun", [&] { return store().AbandonRun(abandoned).status(); }},
      {"CountJobs", [&] { return store().CountJobs(run).status(); }},
      {"Enqueue",
       [&] {
         return store().Enqueue({spec, spec, spec}).status();
       }},
      {"Claim", [&] { return store().Claim("w", seconds(30), 1).status(); }},
      {"Claim (none)", [&] { return store().Claim("w", seconds(30), 1, run + 9).status(); }},
      {"Claim (roles)",
       [&] {
         return store().Claim("w", seconds(30), 1, 0, {{"scan", "delete"}, "west"}).status();
       }},
      {"Renew", [&] { return store().Renew(claimed[0].lease, seconds(30)); }},
      {"Finish",
       [&] {
         return store().Finish(claimed[0].lease, {}, {spec, spec});
       }},
      {"HandOff", [&] { return store().HandOff(claimed[1].lease, "kept", {spec}); }},
      {"GetJob", [&] { return store().GetJob(ids[0]).status(); }},
      {"ListJobs", [&] { return store().ListJobs(run, std::nullopt, 10).status(); }},
      {"ListErrors", [&] { return store().ListErrors(run, 10).status(); }},
      {"Unpark", [&] { return store().Unpark(run, jobs::kDeleteKind).status(); }},
      {"Hasten", [&] { return store().Hasten(run).status(); }},
      {"Redrive", [&] { return store().Redrive(run).status(); }},
      {"Purge", [&] { return store().Purge(true).status(); }},
      {"SaveUpload",
       [&] {
         return store().SaveUpload(claimed[1].lease, {"k", "u", 5, "", {}});
       }},
      {"SavePart",
       [&] {
         return store().SavePart(claimed[1].lease, {"", "k"}, {1, "e", 2, 5});
       }},
      {"SaveSharedPart",
       [&] {
         return store().SaveSharedPart(claimed[1].lease, ids[1], {"", "k"}, "u", {2, "e", 2, 5});
       }},
      {"LoadUpload", [&] { return store().LoadUpload(ids[1], {"", "k"}).status(); }},
      {"ListStartedUploads", [&] { return store().ListStartedUploads("dst").status(); }},
      {"ClearUpload", [&] { return store().ClearUpload(claimed[1].lease, {"", "k"}); }},
      {"ForgetUpload", [&] { return store().ForgetUpload("dst", "u"); }},
      {"Release", [&] { return store().Release(claimed[1].lease); }},
  };
  for (const auto& [name, call] : calls) {
    const uint64_t before = store().transactions();
    ASSERT_OK(call());
    EXPECT_EQ(store().transactions() - before, 1u) << name;
  }
  const uint64_t before = store().transactions();
  EXPECT_CODE(kFailedPrecondition, store().Finish(claimed[0].lease, {}));
  EXPECT_CODE(kNotFound, store().GetJob(999999));
  EXPECT_CODE(kInvalidArgument, store().Claim("w", seconds(30), 0));
  EXPECT_EQ(store().transactions(), before) << "failed calls commit nothing";
}

TEST_P(JobStoreConformanceTest, InvalidArgumentsAreRejected) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  EXPECT_CODE(kInvalidArgument, store().Claim("", seconds(30), 1));
  EXPECT_CODE(kInvalidArgument, store().Claim("w", seconds(0), 1));
  EXPECT_CODE(kInvalidArgument, store().Claim("w", seconds(30), 0));
  EXPECT_CODE(kInvalidArgument, store().Renew(claimed[0].lease, seconds(0)));
  EXPECT_CODE(kInvalidArgument, store().Finish(claimed[0].lease, Retry("x", milliseconds(-1))));
  JobSpec bad;
  bad.run = run;
  bad.max_attempts = 0;
  EXPECT_CODE(kInvalidArgument, store().Finish(claimed[0].lease, {}, {bad}));
  EXPECT_EQ(Get(ids[0]).state, JobState::kLeased);
}

// Coalesced jobs: an event for a key whose job is still queued adds nothing; once that job is
// claimed (it may have read the key already), the next event makes a new job.
TEST_P(JobStoreConformanceTest, AQueuedJobWithTheSameCoalesceKeyCoversANewOne) {
  const RunId run = NewRun();
  const RunId other = NewRun("src2", "dst2");
  auto spec = [&](RunId r, std::string key) {
    JobSpec s;
    s.run = r;
    s.kind = "replicate-event";
    s.payload = "{}";
    s.coalesce_key = std::move(key);
    return s;
  };
  auto first = store().Enqueue({spec(run, "k1"), spec(run, "k2")});
  ASSERT_OK(first);
  ASSERT_EQ(first->size(), 2u);
  EXPECT_NE((*first)[0], (*first)[1]);
  // the same keys again (and a plain job between them): covered by the queued ones
  JobSpec plain;
  plain.run = run;
  plain.payload = "plain";
  auto again = store().Enqueue({spec(run, "k1"), plain, spec(run, "k2"), spec(other, "k1")});
  ASSERT_OK(again);
  ASSERT_EQ(again->size(), 4u);
  EXPECT_EQ((*again)[0], (*first)[0]);
  EXPECT_EQ((*again)[2], (*first)[1]);
  EXPECT_NE((*again)[1], (*first)[0]);
  EXPECT_NE((*again)[3], (*first)[0]) << "another run's key is another job";
  auto claimed = ClaimOk("w1", 10, seconds(30), run);
  EXPECT_EQ(claimed.size(), 3u);
  auto after = store().Enqueue({spec(run, "k1")});
  ASSERT_OK(after);
  EXPECT_NE((*after)[0], (*first)[0]) << "a claimed job no longer covers new events";
}

// Key locks: one job at a time per (scope, key); free again when released, when the holder
// finished, or when its lease was taken over; a lost lease cannot lock.
TEST_P(JobStoreConformanceTest, AKeyIsLockedByOneLiveLeaseAtATime) {
  const RunId run = NewRun();
  EnqueueN(run, 3);
  auto claimed = ClaimOk("w1", 3, seconds(30));
  ASSERT_EQ(claimed.size(), 3u);
  const Lease a = claimed[0].lease, b = claimed[1].lease, c = claimed[2].lease;
  auto locked = [&](const Lease& l, const std::string& scope, const std::string& key) {
    auto r = store().LockKey(l, scope, key);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && *r;
  };
  EXPECT_TRUE(locked(a, "s", "k"));
  EXPECT_TRUE(locked(a, "s", "k")) << "held already";
  EXPECT_FALSE(locked(b, "s", "k"));
  EXPECT_TRUE(locked(b, "s2", "k")) << "another scope";
  EXPECT_TRUE(locked(b, "s", "k2")) << "another key";
  ASSERT_OK(store().UnlockKey(b, "s", "k"));  // not b's: nothing happens
  EXPECT_FALSE(locked(c, "s", "k"));
  ASSERT_OK(store().UnlockKey(a, "s", "k"));
  EXPECT_TRUE(locked(c, "s", "k"));
  // the holder finishes: free
  ASSERT_OK(store().Finish(c, {}));
  EXPECT_TRUE(locked(a, "s", "k"));
  // the holder's lease expires: still held until another worker takes the job over
  clock_.Advance(seconds(31));
  ASSERT_OK(store().Renew(b, seconds(30)));
  EXPECT_FALSE(locked(b, "s", "k"));
  auto taken = ClaimOk("w2", 1, seconds(30));
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].job.id, a.job);
  EXPECT_TRUE(locked(b, "s", "k")) << "its holder lost its lease";
  EXPECT_CODE(kFailedPrecondition, store().LockKey(a, "s", "k3"));
  EXPECT_FALSE(locked(taken[0].lease, "s", "k")) << "b holds it now";
}

}  // namespace
}  // namespace ferry::conformance
