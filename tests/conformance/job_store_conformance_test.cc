// The JobStore conformance suite, part 1: fixture helpers, Enqueue and Claim (order, filters,
// not_before, parking, concurrency). Part 2 (job_store_conformance_leases_test.cc): leases,
// retries, dead letters, Redrive, Purge, checkpoints, transactions. Part 3
// (job_store_conformance_runs_test.cc): runs, counts, listings, reopening, verbatim text.
// See job_store_factory.h for how a store joins the suite.
#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "conformance/job_store_factory.h"

namespace ferry::conformance {

using jobs::ClaimedJob;
using jobs::Job;
using jobs::JobId;
using jobs::JobSpec;
using jobs::JobState;
using jobs::RunId;
using jobs::RunState;
using std::chrono::seconds;

void JobStoreConformanceTest::SetUp() {
  auto made = GetParam().make(clock_);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  db_ = std::move(made).value();
  ASSERT_NE(db_.store, nullptr);
}

void JobStoreConformanceTest::TearDown() {
  db_.store.reset();
  if (db_.cleanup) db_.cleanup();
}

RunId JobStoreConformanceTest::NewRun(const std::string& source, const std::string& destination) {
  auto run = store().CreateRun({source, destination, "{}"});
  EXPECT_TRUE(run.ok()) << run.status().ToString();
  return run.ok() ? *run : 0;
}

std::vector<JobId> JobStoreConformanceTest::EnqueueN(RunId run, int n, const std::string& kind,
                                                     int max_attempts) {
  std::vector<JobSpec> specs;
  for (int i = 0; i < n; ++i) {
    JobSpec spec;
    spec.run = run;
    spec.kind = kind;
    spec.payload = "p" + std::to_string(i);
    spec.objects = 1;
    spec.bytes = 100;
    spec.max_attempts = max_attempts;
    specs.push_back(spec);
  }
  auto ids = store().Enqueue(specs);
  EXPECT_TRUE(ids.ok()) << ids.status().ToString();
  return ids.ok() ? *ids : std::vector<JobId>{};
}

std::vector<ClaimedJob> JobStoreConformanceTest::ClaimOk(const std::string& owner, int max_jobs,
                                                         seconds ttl, RunId run,
                                                         std::optional<std::string> kind) {
  jobs::ClaimFilter filter;
  if (kind) filter.kinds = {*kind};
  auto claimed = store().Claim(owner, ttl, max_jobs, run, filter);
  EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
  return claimed.ok() ? *claimed : std::vector<ClaimedJob>{};
}

Job JobStoreConformanceTest::Get(JobId id) {
  auto job = store().GetJob(id);
  EXPECT_TRUE(job.ok()) << job.status().ToString();
  return job.ok() ? *job : Job{};
}

namespace {

std::vector<JobId> Ids(const std::vector<ClaimedJob>& claimed) {
  std::vector<JobId> ids;
  for (const ClaimedJob& c : claimed) ids.push_back(c.job.id);
  return ids;
}

// FakeClock times are whole seconds, so the stores' millisecond precision keeps them exact.
TEST_P(JobStoreConformanceTest, EnqueueStoresSpecsAndReturnsIdsInOrder) {
  const RunId run = NewRun();
  JobSpec a;
  a.run = run;
  a.kind = jobs::kScanKind;
  a.payload = R"({"from":"a","to":"m"})";
  a.objects = 7;
  a.bytes = 1ull << 40;
  a.max_attempts = 3;
  JobSpec b = a;
  b.kind = jobs::kDeleteKind;
  b.payload = "";
  auto ids = store().Enqueue({a, b, a});
  ASSERT_OK(ids);
  ASSERT_EQ(ids->size(), 3u);
  EXPECT_LT((*ids)[0], (*ids)[1]);
  EXPECT_LT((*ids)[1], (*ids)[2]);
  const Job job = Get((*ids)[0]);
  EXPECT_EQ(job.id, (*ids)[0]);
  EXPECT_EQ(job.spec.run, run);
  EXPECT_EQ(job.spec.kind, jobs::kScanKind);
  EXPECT_EQ(job.spec.payload, a.payload);
  EXPECT_EQ(job.spec.objects, 7u);
  EXPECT_EQ(job.spec.bytes, 1ull << 40);
  EXPECT_EQ(job.spec.max_attempts, 3);
  EXPECT_EQ(job.state, JobState::kQueued);
  EXPECT_EQ(job.attempts, 0);
  EXPECT_EQ(job.last_error, "");
  EXPECT_EQ(job.lease_owner, "");
  EXPECT_EQ(job.created, clock_.Now());
  EXPECT_EQ(job.updated, clock_.Now());
  EXPECT_EQ(job.not_before, clock_.Now());
  EXPECT_EQ(Get((*ids)[1]).spec.kind, jobs::kDeleteKind);
  EXPECT_EQ(Get((*ids)[1]).spec.payload, "");
}

TEST_P(JobStoreConformanceTest, EnqueueOfManyJobsKeepsOrder) {
  const RunId run = NewRun();
  const std::vector<JobId> ids = EnqueueN(run, 150);  // more than one INSERT batch
  ASSERT_EQ(ids.size(), 150u);
  EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
  EXPECT_EQ(std::set<JobId>(ids.begin(), ids.end()).size(), 150u);
  for (size_t i : {size_t{0}, size_t{63}, size_t{64}, size_t{149}}) {
    EXPECT_EQ(Get(ids[i]).spec.payload, "p" + std::to_string(i));
  }
  auto none = store().Enqueue({});
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());
}

TEST_P(JobStoreConformanceTest, EnqueueForAnUnknownRunIsNotFoundAndInsertsNothing) {
  const RunId run = NewRun();
  JobSpec good;
  good.run = run;
  JobSpec bad;
  bad.run = run + 1000;
  EXPECT_CODE(kNotFound, store().Enqueue({good, bad}));
  auto listed = store().ListJobs(0, std::nullopt, 10);
  ASSERT_OK(listed);
  EXPECT_TRUE(listed->empty());
}

TEST_P(JobStoreConformanceTest, EnqueueRejectsSpecsThatCannotBeStored) {
  const RunId run = NewRun();
  JobSpec spec;
  spec.run = run;
  spec.max_attempts = 0;
  EXPECT_CODE(kInvalidArgument, store().Enqueue({spec}));
  spec.max_attempts = 1;
  spec.bytes = ~uint64_t{0};
  EXPECT_CODE(kInvalidArgument, store().Enqueue({spec}));
}

TEST_P(JobStoreConformanceTest, ClaimTakesOldestFirstAndStartsAnAttempt) {
  const RunId run = NewRun();
  const std::vector<JobId> ids = EnqueueN(run, 5);
  const auto now = clock_.Now();
  auto first = ClaimOk("w1", 2, seconds(30));
  ASSERT_EQ(Ids(first), (std::vector<JobId>{ids[0], ids[1]}));
  for (const ClaimedJob& c : first) {
    EXPECT_EQ(c.job.state, JobState::kLeased);
    EXPECT_EQ(c.job.attempts, 1);
    EXPECT_EQ(c.job.lease_owner, "w1");
    EXPECT_EQ(c.job.lease_expires, now + seconds(30));
    EXPECT_EQ(c.lease.job, c.job.id);
    EXPECT_EQ(c.lease.owner, "w1");
    EXPECT_EQ(c.lease.attempt, 1);
  }
  EXPECT_EQ(Get(ids[0]).state, JobState::kLeased);
  EXPECT_EQ(Ids(ClaimOk("w2", 10)), (std::vector<JobId>{ids[2], ids[3], ids[4]}));
  EXPECT_TRUE(ClaimOk("w3", 10).empty());
}

TEST_P(JobStoreConformanceTest, ClaimFiltersByRunAndKind) {
  const RunId r1 = NewRun("a", "b");
  const RunId r2 = NewRun("c", "d");
  const auto scans1 = EnqueueN(r1, 2, jobs::kScanKind);
  const auto transfers2 = EnqueueN(r2, 2, jobs::kTransferKind);
  const auto scans2 = EnqueueN(r2, 1, jobs::kScanKind);
  EXPECT_EQ(Ids(ClaimOk("w", 10, seconds(30), r2, jobs::kScanKind)), scans2);
  EXPECT_EQ(Ids(ClaimOk("w", 10, seconds(30), r2)), transfers2);
  EXPECT_TRUE(ClaimOk("w", 10, seconds(30), r2).empty());
  EXPECT_TRUE(ClaimOk("w", 10, seconds(30), 0, jobs::kDeleteKind).empty());
  EXPECT_TRUE(ClaimOk("w", 10, seconds(30), r1 + r2 + 100).empty());  // unknown run: nothing
  EXPECT_EQ(Ids(ClaimOk("w", 10, seconds(30), 0, jobs::kScanKind)), scans1);
}

// A worker's roles: the kinds it serves and its region are part of the claim's SQL, so a job
// it does not serve is never leased (its attempts stay 0), not leased and given back.
TEST_P(JobStoreConformanceTest, ClaimFiltersByKindsAndRegion) {
  const RunId run = NewRun();
  auto spec = [&](const std::string& kind, const std::string& region) {
    JobSpec s;
    s.run = run;
    s.kind = kind;
    s.region = region;
    return s;
  };
  auto ids = store().Enqueue({spec("scan", ""), spec("unpack", "west"), spec("delete", ""),
                              spec("unpack", "east"), spec("unpack", "")});
  ASSERT_OK(ids);
  EXPECT_EQ(Get((*ids)[1]).spec.region, "west");  // stored
  auto claim = [&](std::vector<std::string> kinds, std::string region) {
    jobs::ClaimFilter f;
    f.kinds = std::move(kinds);
    f.region = std::move(region);
    auto r = store().Claim("w", seconds(30), 10, run, f);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? Ids(*r) : std::vector<JobId>{};
  };
  // Only "delete", no region: never the scan.
  EXPECT_EQ(claim({"delete"}, ""), (std::vector<JobId>{(*ids)[2]}));
  // A worker of no region takes no job of a region.
  EXPECT_EQ(claim({"unpack"}, ""), (std::vector<JobId>{(*ids)[4]}));
  EXPECT_TRUE(claim({"unpack"}, "").empty());
  // West takes west's jobs (and those of no region), never east's.
  EXPECT_EQ(claim({"unpack", "delete"}, "west"), (std::vector<JobId>{(*ids)[1]}));
  EXPECT_EQ(claim({}, "east"), (std::vector<JobId>{(*ids)[0], (*ids)[3]}));
  EXPECT_EQ(Get((*ids)[0]).attempts, 1);
}

TEST_P(JobStoreConformanceTest, ClaimWaitsForNotBefore) {
  const RunId run = NewRun();
  JobSpec later;
  later.run = run;
  later.not_before = clock_.Now() + seconds(10);
  auto ids = store().Enqueue({later});
  ASSERT_OK(ids);
  EXPECT_EQ(Get((*ids)[0]).not_before, clock_.Now() + seconds(10));
  EXPECT_TRUE(ClaimOk("w", 1).empty());
  clock_.Advance(seconds(9));
  EXPECT_TRUE(ClaimOk("w", 1).empty());
  clock_.Advance(seconds(1));
  EXPECT_EQ(Ids(ClaimOk("w", 1)), *ids);
}

TEST_P(JobStoreConformanceTest, ParkedJobsWaitForUnpark) {
  const RunId run = NewRun();
  const RunId other = NewRun("x", "y");
  JobSpec parked;
  parked.run = run;
  parked.kind = jobs::kDeleteKind;
  parked.not_before = jobs::kParked;
  JobSpec parked_elsewhere = parked;
  parked_elsewhere.run = other;
  auto ids = store().Enqueue({parked, parked, parked_elsewhere});
  ASSERT_OK(ids);
  clock_.Advance(std::chrono::hours(24 * 365));
  EXPECT_TRUE(ClaimOk("w", 10).empty());
  auto wrong_kind = store().Unpark(run, jobs::kTransferKind);
  ASSERT_OK(wrong_kind);
  EXPECT_EQ(*wrong_kind, 0u);
  auto unparked = store().Unpark(run, jobs::kDeleteKind);
  ASSERT_OK(unparked);
  EXPECT_EQ(*unparked, 2u);
  EXPECT_EQ(Get((*ids)[0]).not_before, clock_.Now());
  EXPECT_EQ(Ids(ClaimOk("w", 10)), (std::vector<JobId>{(*ids)[0], (*ids)[1]}));
  EXPECT_EQ(Get((*ids)[2]).not_before, jobs::kParked);  // the other run's job stays parked
}

// Hasten makes a job that waits for a later time (a continuous run's next scan) due now; a
// parked job, a retry waiting out its backoff and another run's job keep their time.
TEST_P(JobStoreConformanceTest, HastenBringsAWaitingJobForwardButNoRetryOrParkedOne) {
  const RunId run = NewRun();
  JobSpec later;
  later.run = run;
  later.kind = jobs::kScanKind;
  later.payload = "{}";
  later.not_before = clock_.Now() + std::chrono::hours(1);
  JobSpec parked = later;
  parked.not_before = jobs::kParked;
  JobSpec other_run = later;
  other_run.run = NewRun("x", "y");
  JobSpec retried = later;
  retried.not_before = {};
  auto ids = store().Enqueue({retried});
  ASSERT_OK(ids);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  jobs::Outcome retry;
  retry.kind = jobs::Outcome::Kind::kRetry;
  retry.error = "slow down";
  retry.retry_after = std::chrono::minutes(5);
  ASSERT_OK(store().Finish(claimed[0].lease, retry));
  auto more = store().Enqueue({later, parked, other_run});
  ASSERT_OK(more);
  auto hastened = store().Hasten(run);
  ASSERT_OK(hastened);
  EXPECT_EQ(*hastened, 1u);
  EXPECT_EQ(Get((*more)[0]).not_before, clock_.Now());
  EXPECT_EQ(Get((*more)[1]).not_before, jobs::kParked);
  EXPECT_EQ(Get((*more)[2]).not_before, clock_.Now() + std::chrono::hours(1));
  EXPECT_EQ(Get((*ids)[0]).not_before, clock_.Now() + std::chrono::minutes(5));
  EXPECT_EQ(Ids(ClaimOk("w", 10)), (std::vector<JobId>{(*more)[0]}));
  EXPECT_EQ(store().Hasten(run).value(), 0u) << "nothing left to hasten";
}

TEST_P(JobStoreConformanceTest, UnparkLeavesRetryBackoffAlone) {
  const RunId run = NewRun();
  const auto ids = EnqueueN(run, 1, jobs::kDeleteKind);
  auto claimed = ClaimOk("w", 1);
  ASSERT_EQ(claimed.size(), 1u);
  jobs::Outcome retry;
  retry.kind = jobs::Outcome::Kind::kRetry;
  retry.error = "slow down";
  retry.retry_after = std::chrono::minutes(5);
  ASSERT_OK(store().Finish(claimed[0].lease, retry));
  auto unparked = store().Unpark(run, jobs::kDeleteKind);
  ASSERT_OK(unparked);
  EXPECT_EQ(*unparked, 0u);
  EXPECT_EQ(Get(ids[0]).not_before, clock_.Now() + std::chrono::minutes(5));
}

// 8 threads on two store objects (two connections or pools, as two processes would have)
// claim 2,000 jobs in batches of 1..8: every job is claimed exactly once.
TEST_P(JobStoreConformanceTest, ConcurrentClaimersNeverShareAJob) {
  constexpr int kJobs = 2000;
  constexpr int kThreads = 8;
  const RunId run = NewRun();
  std::vector<JobSpec> specs(kJobs);
  for (JobSpec& s : specs) s.run = run;
  auto ids = store().Enqueue(specs);
  ASSERT_OK(ids);
  auto second = db_.reopen(clock_);
  ASSERT_OK(second);
  std::mutex mu;
  std::vector<JobId> claimed;  // GUARDED_BY(mu)
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    jobs::JobStore& s = t % 2 == 0 ? store() : **second;
    threads.emplace_back([&, t, &s = s] {
      const std::string owner = "w" + std::to_string(t);
      for (int round = 0;; ++round) {
        auto got = s.Claim(owner, seconds(600), 1 + (t + round) % 8);
        if (!got.ok()) {
          ADD_FAILURE() << owner << ": " << got.status().ToString();
          ++errors;
          return;
        }
        if (got->empty()) return;
        for (const ClaimedJob& c : *got) {
          if (round % 2 == 0) {  // finish half of them, leave the rest leased
            if (Status st = s.Finish(c.lease, {}); !st.ok()) {
              ADD_FAILURE() << owner << ": " << st.ToString();
              ++errors;
            }
          }
        }
        std::lock_guard lock(mu);
        for (const ClaimedJob& c : *got) claimed.push_back(c.job.id);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(errors.load(), 0);
  std::sort(claimed.begin(), claimed.end());
  EXPECT_EQ(std::adjacent_find(claimed.begin(), claimed.end()), claimed.end())
      << "a job was claimed twice";
  EXPECT_EQ(claimed, *ids);
  EXPECT_TRUE(ClaimOk("late", 10).empty());
  auto counts = store().CountJobs(run);
  ASSERT_OK(counts);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kQueued)], 0u);
  EXPECT_EQ(counts->jobs[static_cast<int>(JobState::kLeased)] +
                counts->jobs[static_cast<int>(JobState::kDone)],
            static_cast<uint64_t>(kJobs));
}

// One kind of one run, page by page, whatever the jobs' states: the walk a report's summary and
// a verify's tally make, never loading the run's other jobs.
TEST_P(JobStoreConformanceTest, ListJobsOfKindPagesThroughOneKindOfOneRun) {
  static constexpr char kRecord[] = "report-part";
  const RunId run = NewRun();
  const RunId other = NewRun("x", "y");
  std::vector<JobId> want;
  for (int round = 0; round < 3; ++round) {
    EnqueueN(run, 2);  // transfers between the records
    for (JobId id : EnqueueN(run, 2, kRecord)) want.push_back(id);
    EnqueueN(other, 1, kRecord);
  }
  // one of them dead: still a record of the run
  auto claimed = ClaimOk("w", 1, std::chrono::seconds(30), run, kRecord);
  ASSERT_EQ(claimed.size(), 1u);
  jobs::Outcome dead;
  dead.kind = jobs::Outcome::Kind::kFail;
  dead.error = "gone";
  ASSERT_OK(store().Finish(claimed[0].lease, dead));

  auto first = store().ListJobsOfKind(run, kRecord, 0, 4);
  ASSERT_OK(first.status());
  ASSERT_EQ(first->size(), 4u);
  EXPECT_EQ(first->front().id, want[0]);
  auto rest = store().ListJobsOfKind(run, kRecord, first->back().id, 4);
  ASSERT_OK(rest.status());
  ASSERT_EQ(rest->size(), 2u);
  EXPECT_EQ(rest->back().id, want.back());

  std::vector<JobId> walked;
  ASSERT_OK(jobs::ForEachJobOfKind(
      store(), run, kRecord,
      [&](const jobs::Job& j) {
        EXPECT_EQ(j.spec.kind, kRecord);
        walked.push_back(j.id);
        return Status::Ok();
      },
      /*page=*/2));
  EXPECT_EQ(walked, want);
  EXPECT_TRUE(store().ListJobsOfKind(run, "no-such-kind", 0, 10)->empty());
  EXPECT_FALSE(store().ListJobsOfKind(run, kRecord, 0, 0).ok());
  EXPECT_FALSE(store().ListJobsOfKind(0, kRecord, 0, 10).ok());
  // fn's first error ends the walk and is returned
  int calls = 0;
  const Status stopped = jobs::ForEachJobOfKind(store(), run, kRecord,
                                                [&](const jobs::Job&) {
                                                  ++calls;
                                                  return Status::DataLoss("bad record");
                                                });
  EXPECT_EQ(stopped.code(), ErrorCode::kDataLoss);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ferry::conformance
