// The JobStore conformance suite, part 2: leases (renew, expiry, fencing), outcomes (done,
// retry with backoff, fail, dead letters), Redrive, Purge, checkpoints, and the rule that every
// method is one transaction. Part 1 and the fixture: job_store_conformance_test.cc.
#include <functional>

#include "conformance/job_store_factory.h"

namespace ferry::conformance {
namespace {

using jobs::ClaimedJob;
using jobs::JobId;
using jobs::JobKind;
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
  const auto ids = EnqueueN(run, 1, JobKind::kTransfer, /*max_attempts=*/3);
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
  const auto doomed = EnqueueN(run, 1, JobKind::kTransfer, /*max_attempts=*/2);
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

TEST_P(JobStoreConformanceTest, FinishEnqueuesMoreInTheSameTransaction) {
  const RunId run = NewRun();
  const auto scan = EnqueueN(run, 1, JobKind::kScan);
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
  clock_.Advance(seconds(10));
  auto redriven = store().Redrive(r1);
  ASSERT_OK(redriven);
  EXPECT_EQ(*redriven, 2u);
  const auto job = Get(ids1[0]);
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.not_before, clock_.Now());
  EXPECT_EQ(Get(ids1[2]).state, JobState::kDone);
  EXPECT_EQ(Get(ids2[0]).state, JobState::kDead);
  claimed = ClaimOk("w", 10);
  ASSERT_EQ(claimed.size(), 2u);
  EXPECT_EQ(claimed[0].lease.attempt, 1);
  redriven = store().Redrive(0);
  ASSERT_OK(redriven);
  EXPECT_EQ(*redriven, 1u);
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
  ASSERT_OK(store().SaveUpload(done_ids[0], {"k", "u1", 5 << 20, {{1, "e1", 7, 5 << 20}}}));
  ASSERT_OK(store().Finish(claimed[0].lease, {}));
  ASSERT_OK(store().Finish(claimed[1].lease, {}));
  ASSERT_OK(store().Finish(claimed[2].lease, Fail("gone")));
  ASSERT_OK(store().SetRunState(finished, RunState::kDone));
  auto purged = store().Purge(false);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 2u);
  EXPECT_CODE(kNotFound, store().GetRun(finished));
  EXPECT_CODE(kNotFound, store().GetJob(done_ids[0]));
  EXPECT_EQ(Get(other_ids[0]).state, JobState::kDead);
  purged = store().Purge(true);
  ASSERT_OK(purged);
  EXPECT_EQ(*purged, 1u);
  EXPECT_CODE(kNotFound, store().GetJob(other_ids[0]));
  EXPECT_EQ(Get(other_ids[1]).state, JobState::kLeased);
  ASSERT_OK(store().GetRun(failing));
  // Ids are never reused after a purge (a stale lease must not match a new job).
  const auto fresh = EnqueueN(failing, 1);
  ASSERT_EQ(fresh.size(), 1u);
  EXPECT_GT(fresh[0], other_ids[1]);
}

TEST_P(JobStoreConformanceTest, CheckpointsRoundTrip) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 2);
  auto none = store().LoadUpload(ids[0]);
  ASSERT_OK(none);
  EXPECT_FALSE(none->has_value());
  EXPECT_CODE(kFailedPrecondition, store().SavePart(ids[0], {1, "e", 1, 1}));
  ASSERT_OK(store().SaveUpload(ids[0], {"big/key", "upload-1", 8 << 20, {}}));
  ASSERT_OK(store().SavePart(ids[0], {3, "\"etag3\"", 0xfffffffe, 1234}));
  ASSERT_OK(store().SavePart(ids[0], {1, "\"etag1\"", 11, 8 << 20}));
  ASSERT_OK(store().SavePart(ids[0], {2, "\"old\"", 22, 8 << 20}));
  ASSERT_OK(store().SavePart(ids[0], {2, "\"etag2\"", 23, 8 << 20}));  // replaces part 2
  auto loaded = store().LoadUpload(ids[0]);
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  const jobs::UploadCheckpoint& u = **loaded;
  EXPECT_EQ(u.key, "big/key");
  EXPECT_EQ(u.upload_id, "upload-1");
  EXPECT_EQ(u.part_size, 8u << 20);
  ASSERT_EQ(u.parts.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(u.parts[i].part_number, i + 1);
  EXPECT_EQ(u.parts[1].etag, "\"etag2\"");
  EXPECT_EQ(u.parts[1].crc32c, 23u);
  EXPECT_EQ(u.parts[2].crc32c, 0xfffffffeu);
  EXPECT_EQ(u.parts[2].size, 1234u);
  auto other = store().LoadUpload(ids[1]);  // checkpoints are per job
  ASSERT_OK(other);
  EXPECT_FALSE(other->has_value());

  // A new upload replaces the old one and its parts.
  ASSERT_OK(store().SaveUpload(ids[0], {"big/key", "upload-2", 16 << 20, {}}));
  loaded = store().LoadUpload(ids[0]);
  ASSERT_OK(loaded);
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->upload_id, "upload-2");
  EXPECT_TRUE((*loaded)->parts.empty());
  ASSERT_OK(store().ClearUpload(ids[0]));
  loaded = store().LoadUpload(ids[0]);
  ASSERT_OK(loaded);
  EXPECT_FALSE(loaded->has_value());
  ASSERT_OK(store().ClearUpload(ids[0]));  // nothing to clear is fine

  EXPECT_CODE(kNotFound, store().SaveUpload(999999, {"k", "u", 1, {}}));
  EXPECT_CODE(kNotFound, store().SavePart(999999, {1, "e", 1, 1}));
  EXPECT_CODE(kNotFound, store().LoadUpload(999999));
  EXPECT_CODE(kNotFound, store().ClearUpload(999999));
  EXPECT_CODE(kInvalidArgument, store().SavePart(ids[0], {0, "e", 1, 1}));
}

// Every method is exactly one transaction (the bench divides by this); failures count none.
TEST_P(JobStoreConformanceTest, HandOffKeepsTheJobAndEnqueuesTheRestAtomically) {
  const RunId run = NewRun();
  const auto scan = EnqueueN(run, 1, JobKind::kScan);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  std::vector<JobSpec> rest(1);
  rest[0].run = run;
  rest[0].kind = JobKind::kScan;
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
  const std::vector<std::pair<std::string, std::function<Status()>>> calls = {
      {"CreateRun",
       [&] {
         return store().CreateRun({"a", "b", ""}).status();
       }},
      {"FindUnfinishedRun", [&] { return store().FindUnfinishedRun("src", "dst").status(); }},
      {"GetRun", [&] { return store().GetRun(run).status(); }},
      {"ListRuns", [&] { return store().ListRuns(10).status(); }},
      {"SetRunState", [&] { return store().SetRunState(run, RunState::kTransferring); }},
      {"CountJobs", [&] { return store().CountJobs(run).status(); }},
      {"Enqueue",
       [&] {
         return store().Enqueue({spec, spec, spec}).status();
       }},
      {"Claim", [&] { return store().Claim("w", seconds(30), 1).status(); }},
      {"Claim (none)", [&] { return store().Claim("w", seconds(30), 1, run + 9).status(); }},
      {"Renew", [&] { return store().Renew(claimed[0].lease, seconds(30)); }},
      {"Finish",
       [&] {
         return store().Finish(claimed[0].lease, {}, {spec, spec});
       }},
      {"HandOff", [&] { return store().HandOff(claimed[1].lease, "kept", {spec}); }},
      {"GetJob", [&] { return store().GetJob(ids[0]).status(); }},
      {"ListJobs", [&] { return store().ListJobs(run, std::nullopt, 10).status(); }},
      {"Unpark", [&] { return store().Unpark(run, JobKind::kDelete).status(); }},
      {"Redrive", [&] { return store().Redrive(run).status(); }},
      {"Purge", [&] { return store().Purge(true).status(); }},
      {"SaveUpload",
       [&] {
         return store().SaveUpload(ids[1], {"k", "u", 5, {}});
       }},
      {"SavePart",
       [&] {
         return store().SavePart(ids[1], {1, "e", 2, 5});
       }},
      {"LoadUpload", [&] { return store().LoadUpload(ids[1]).status(); }},
      {"ClearUpload", [&] { return store().ClearUpload(ids[1]); }},
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

}  // namespace
}  // namespace ferry::conformance
