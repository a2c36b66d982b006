// Job kinds as handlers: a kind only a test knows runs through a real Worker on SQLite without
// any change elsewhere; phases come from the handlers; a worker serves only its kinds and
// region; a continuous run starts over after its interval instead of ending.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <mutex>
#include <thread>

#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/part_jobs.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "storage/local/local_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

// What the test kinds did, in order.
struct Journal {
  std::mutex mu;
  std::vector<std::string> entries;
  void Add(std::string e) {
    std::lock_guard lock(mu);
    entries.push_back(std::move(e));
  }
  std::vector<std::string> Get() {
    std::lock_guard lock(mu);
    return entries;
  }
};

// A kind that records "<kind>:<payload>" and, for payload "spawn", finishes enqueueing one
// more job of its kind (payload "child").
class RecordingKind : public JobHandler {
 public:
  RecordingKind(std::string name, int phase, Journal& journal)
      : name_(std::move(name)), phase_(phase), journal_(journal) {}
  std::string_view name() const override { return name_; }
  int phase() const override { return phase_; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return true; }
  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    journal_.Add(name_ + ":" + j.spec.payload);
    JobResult r;
    if (j.spec.payload == "spawn") {
      JobSpec child;
      child.run = j.spec.run;
      child.kind = name_;
      child.payload = "child";
      r.more.push_back(child);
    }
    return r;
  }

 private:
  const std::string name_;
  const int phase_;
  Journal& journal_;
};

// A kind whose jobs come outside a continuous run's rounds (as an event's do).
class OngoingKind : public RecordingKind {
 public:
  using RecordingKind::RecordingKind;
  bool outside_rounds() const override { return true; }
};

class JobKindsTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-kinds-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    fs::create_directories(dir_ / "src");
    fs::create_directories(dir_ / "dst");
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), SystemClock::Default());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    registry_ = KindRegistry::Builtin();
    ASSERT_TRUE(registry_.Register(std::make_shared<RecordingKind>("touch", 0, journal_)).ok());
    ASSERT_TRUE(registry_.Register(std::make_shared<RecordingKind>("late", 2, journal_)).ok());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  RunId NewRun(RunSpec spec = {}) {
    spec.source = (dir_ / "src").string();
    spec.destination = (dir_ / "dst").string();
    spec.options = EncodeRunOptions(RunOptions{});
    auto run = store_->CreateRun(spec);
    EXPECT_TRUE(run.ok());
    return run.ok() ? *run : 0;
  }
  JobId Enqueue(RunId run, const std::string& kind, const std::string& payload,
                bool parked = false, const std::string& region = "") {
    JobSpec spec;
    spec.run = run;
    spec.kind = kind;
    spec.payload = payload;
    spec.region = region;
    if (parked) spec.not_before = kParked;
    auto ids = store_->Enqueue({spec});
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? (*ids)[0] : 0;
  }
  WorkerOptions Options(RunId run) {
    WorkerOptions w;
    w.executor = &ferry::testing::TestExecutor();
    w.owner = "test:1";
    w.concurrency = 4;
    w.only_run = run;
    w.idle_poll = std::chrono::milliseconds(10);
    w.registry = &registry_;
    w.metrics = &metrics_;
    return w;
  }
  // Runs a worker until its run is done or blocked.
  RunProgress RunToEnd(WorkerOptions w) {
    w.exit_when_done = true;
    transfer::Stats stats;
    Worker worker(*store_, &OpenLocal, w, stats);
    RunProgress progress = RunProgress::kWorking;
    Status s = worker.Run({}, &progress);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return progress;
  }
  // Runs a worker on a fake clock for `polls` idle polls (each move of the clock by the poll
  // period makes it claim again, which commits a transaction) and stops it.
  void RunPolls(WorkerOptions w, int polls) {
    testing::FakeClock clock;
    w.clock = &clock;
    transfer::Stats stats;
    Worker worker(*store_, &OpenLocal, w, stats);
    std::stop_source stop;
    std::thread serving([&] { EXPECT_TRUE(worker.Run(stop.get_token()).ok()); });
    for (int i = 0; i < polls; ++i) {
      const uint64_t before = store_->transactions();
      // Moved while the worker waits for its next poll (not while it finishes the last one).
      testing::AdvanceUntil(clock, w.idle_poll, [&] { return store_->transactions() > before; },
                            50);
      EXPECT_GT(store_->transactions(), before) << "poll " << i;
    }
    stop.request_stop();
    serving.join();
  }
  static Result<std::unique_ptr<storage::Backend>> OpenLocal(const std::string& path, bool) {
    return std::unique_ptr<storage::Backend>(std::make_unique<storage::LocalBackend>(path));
  }

  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  Journal journal_;
  KindRegistry registry_;
  obs::Registry metrics_;
};

TEST_F(JobKindsTest, ARegisteredKindRunsThroughAWorkerAndItsPhasesFollowTheHandlers) {
  const RunId run = NewRun();
  Enqueue(run, "late", "last", /*parked=*/true);  // phase 2: waits for phases 0 and 1
  Enqueue(run, "touch", "spawn");
  Enqueue(run, kDeleteKind, EncodeDelete({}), /*parked=*/true);  // phase 1
  EXPECT_EQ(RunToEnd(Options(run)), RunProgress::kDone);
  const std::vector<std::string> want = {"touch:spawn", "touch:child", "late:last"};
  EXPECT_EQ(journal_.Get(), want);
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->of("touch").of(JobState::kDone), 2u);
  EXPECT_EQ(counts->of(kDeleteKind).of(JobState::kDone), 1u);
  EXPECT_EQ(counts->phase, 2);
  EXPECT_EQ(counts->state, RunState::kDone);
  // The worker counted them by kind for /metrics.
  const std::string exposition = metrics_.RenderPrometheus();
  EXPECT_NE(exposition.find("ferry_jobs_started_total{kind=\"touch\"} 2\n"), std::string::npos)
      << exposition;
  EXPECT_NE(exposition.find("ferry_jobs_finished_total{kind=\"touch\",outcome=\"done\"} 2\n"),
            std::string::npos)
      << exposition;
  EXPECT_NE(exposition.find("ferry_jobs_finished_total{kind=\"late\",outcome=\"done\"} 1\n"),
            std::string::npos)
      << exposition;
}

TEST_F(JobKindsTest, AKindTheWorkerDoesNotKnowIsNeverClaimed) {
  const RunId run = NewRun();
  const JobId job = Enqueue(run, "touch", "x");
  WorkerOptions w = Options(run);
  w.registry = nullptr;  // the built-in kinds only
  RunPolls(w, 5);
  EXPECT_EQ(store_->GetJob(job).value().attempts, 0);
  EXPECT_EQ(store_->GetRun(run).value().state, RunState::kRunning);  // held by the unknown kind
  EXPECT_TRUE(journal_.Get().empty());
}

TEST_F(JobKindsTest, AWorkerServingOnlyDeleteNeverClaimsAScan) {
  const RunId run = NewRun();
  const JobId scan = Enqueue(run, kScanKind, EncodeScan(KeyRange{}));
  WorkerOptions w = Options(run);
  w.kinds = {kDeleteKind};
  RunPolls(w, 5);
  EXPECT_EQ(store_->GetJob(scan).value().attempts, 0);
  EXPECT_EQ(store_->GetJob(scan).value().state, JobState::kQueued);
  w.kinds = {kScanKind};
  EXPECT_EQ(RunToEnd(w), RunProgress::kDone);
  EXPECT_EQ(store_->GetJob(scan).value().state, JobState::kDone);
}

// A worker given kinds serves their companions too: a transfer owner waits for its part jobs
// (a `--kinds transfer` worker used to leave them to nobody, and the owner waited for ever),
// deletes for the counts parked beside them, and every kind may leave report-part records and
// end its run with a report-summary.
TEST_F(JobKindsTest, AWorkerServesTheCompanionsOfItsKinds) {
  using Names = std::vector<std::string>;
  const KindRegistry& r = KindRegistry::Builtin();
  const std::string record = kReportPartKind, summary = kReportSummaryKind;
  EXPECT_EQ(r.WithCompanions({kTransferKind}), (Names{"transfer", "part", record, summary}));
  EXPECT_EQ(r.WithCompanions({kDeleteKind}), (Names{"delete", "delete-scope", record, summary}));
  EXPECT_EQ(r.WithCompanions({kScanKind, kPartKind}), (Names{"scan", "part", record, summary}));
  EXPECT_EQ(r.WithCompanions({"unknown"}), (Names{"unknown", record, summary}));
  const RunId run = NewRun();
  const JobId part = Enqueue(run, kPartKind, "{}");
  WorkerOptions w = Options(run);
  w.kinds = {kTransferKind};
  RunPolls(w, 5);
  EXPECT_GE(store_->GetJob(part).value().attempts, 1);
}

TEST_F(JobKindsTest, ARegionsJobIsClaimedOnlyByAWorkerOfThatRegion) {
  const RunId run = NewRun();
  const JobId west = Enqueue(run, "touch", "w", false, "west");
  WorkerOptions w = Options(run);
  RunPolls(w, 5);  // no region
  w.region = "east";
  RunPolls(w, 5);
  EXPECT_EQ(store_->GetJob(west).value().attempts, 0);
  w.region = "west";
  EXPECT_EQ(RunToEnd(w), RunProgress::kDone);
  EXPECT_EQ(journal_.Get(), std::vector<std::string>{"touch:w"});
}

TEST_F(JobKindsTest, RegisteringANameTwiceIsRefused) {
  KindRegistry r = KindRegistry::Builtin();
  EXPECT_EQ(r.Register(MakeScanHandler()).code(), ErrorCode::kAlreadyExists);
  // jobs' own kinds (the others are registered by the composition root: app_kinds_test).
  EXPECT_EQ(r.Names(),
            (std::vector<std::string>{"delete", "delete-scope", "list-scan", "move-sources",
                                      "part", "report-part", "report-summary", "scan",
                                      "transfer"}));
  EXPECT_EQ(r.PhaseOf("delete"), 1);
  EXPECT_EQ(r.PhaseOf("transfer"), 0);
  EXPECT_EQ(r.PhaseOf("unknown"), 0);
}

// A continuous run is never done: when its work drains, AdvanceRun starts it over with a scan
// of the whole key space due after the run's interval.
TEST_F(JobKindsTest, AContinuousRunStartsOverAfterItsInterval) {
  testing::FakeClock clock;
  auto store = OpenSqliteJobStore((dir_ / "continuous.db").string(), clock);
  ASSERT_TRUE(store.ok());
  RunSpec spec{"s", "d", EncodeRunOptions(RunOptions{})};
  spec.continuous = true;
  spec.rescan_interval = std::chrono::minutes(10);
  const RunId run = (*store)->CreateRun(spec).value();
  JobSpec job;
  job.run = run;
  job.kind = kTransferKind;
  ASSERT_TRUE((*store)->Enqueue({job}).ok());
  auto claimed = (*store)->Claim("w", std::chrono::seconds(30), 1);
  ASSERT_EQ(claimed.value().size(), 1u);
  EXPECT_EQ(Worker::AdvanceRun(**store, run, nullptr, clock).value(), RunProgress::kWorking);
  ASSERT_TRUE((*store)->Finish(claimed.value()[0].lease, {}).ok());
  EXPECT_EQ(Worker::AdvanceRun(**store, run, nullptr, clock).value(), RunProgress::kWorking);
  auto counts = (*store)->CountJobs(run).value();
  EXPECT_EQ(counts.state, RunState::kRunning) << "never done";
  EXPECT_EQ(counts.of(kScanKind).of(JobState::kQueued), 1u);
  EXPECT_EQ(counts.next_due, clock.Now() + std::chrono::minutes(10));
  EXPECT_EQ(counts.jobs[static_cast<int>(JobState::kDone)], 0u);
  // Idle until then: nothing to claim, and more AdvanceRuns add nothing.
  EXPECT_EQ(Worker::AdvanceRun(**store, run, nullptr, clock).value(), RunProgress::kWorking);
  EXPECT_TRUE((*store)->Claim("w", std::chrono::seconds(30), 1).value().empty());
  clock.Advance(std::chrono::minutes(10));
  auto scan = (*store)->Claim("w", std::chrono::seconds(30), 5).value();
  ASSERT_EQ(scan.size(), 1u);
  EXPECT_EQ(scan[0].job.spec.kind, kScanKind);
  EXPECT_EQ(DecodeScan(scan[0].job.spec.payload).value().start_after, "");
}

// Under a steady stream of events a continuous run's round still ends: its next scan does not
// wait for the event jobs in hand, and a dead job of the round does not fail the run (a
// service that stopped on one bad key would stop replicating everything).
TEST_F(JobKindsTest, AContinuousRunsRoundIgnoresEventJobsAndNeverFails) {
  testing::FakeClock clock;
  auto store = OpenSqliteJobStore((dir_ / "rounds.db").string(), clock);
  ASSERT_TRUE(store.ok());
  KindRegistry kinds = KindRegistry::Builtin();
  ASSERT_TRUE(kinds.Register(std::make_shared<OngoingKind>("event", 0, journal_)).ok());
  EXPECT_EQ(kinds.OutsideRoundKinds(), std::vector<std::string>{"event"});
  EXPECT_TRUE(kinds.OutsideRounds("event"));
  EXPECT_FALSE(kinds.OutsideRounds(kScanKind));
  RunSpec spec{"s", "d", EncodeRunOptions(RunOptions{})};
  spec.continuous = true;
  spec.rescan_interval = std::chrono::minutes(10);
  const RunId run = (*store)->CreateRun(spec).value();
  JobSpec job;
  job.run = run;
  job.kind = kTransferKind;
  job.max_attempts = 1;
  JobSpec event;
  event.run = run;
  event.kind = "event";
  ASSERT_TRUE((*store)->Enqueue({job, event}).ok());
  auto claimed = (*store)->Claim("w", std::chrono::seconds(30), 2).value();
  ASSERT_EQ(claimed.size(), 2u);
  const ClaimedJob& transfer = claimed[0].job.spec.kind == kTransferKind ? claimed[0] : claimed[1];
  Outcome fail;
  fail.kind = Outcome::Kind::kFail;
  ASSERT_TRUE((*store)->Finish(transfer.lease, fail).ok());
  // The round's one job is dead, the event's is leased: the next round is due.
  EXPECT_EQ(Worker::AdvanceRun(**store, run, &kinds, clock).value(), RunProgress::kWorking);
  auto counts = (*store)->CountJobs(run).value();
  EXPECT_EQ(counts.state, RunState::kRunning) << "never failed";
  EXPECT_EQ(counts.of(kScanKind).of(JobState::kQueued), 1u);
  EXPECT_EQ(counts.of(kTransferKind).of(JobState::kDead), 1u) << "kept for the record";
  EXPECT_EQ(counts.of("event").of(JobState::kLeased), 1u) << "the event's job goes on";
  // A run that is not continuous fails on the same dead job.
  const RunId pass = (*store)->CreateRun(RunSpec{"s2", "d", EncodeRunOptions(RunOptions{})}).value();
  job.run = pass;
  ASSERT_TRUE((*store)->Enqueue({job}).ok());
  auto one = (*store)->Claim("w", std::chrono::seconds(30), 1, pass).value();
  ASSERT_EQ(one.size(), 1u);
  ASSERT_TRUE((*store)->Finish(one[0].lease, fail).ok());
  EXPECT_EQ(Worker::AdvanceRun(**store, pass, &kinds, clock).value(), RunProgress::kBlocked);
  EXPECT_EQ((*store)->CountJobs(pass).value().state, RunState::kFailed);
}

}  // namespace
}  // namespace ferry::jobs

namespace ferry::jobs {
namespace {

// A retried job always waits a moment: full jitter drew 0 ms about once in a thousand first
// retries, and the job was claimed again at once (WarmKindTest waited for a retry that had
// already run, one run in some hundreds under load).
TEST(OutcomeOfTest, ARetryNeverComesBackAtOnce) {
  std::chrono::milliseconds shortest = std::chrono::milliseconds::max();
  for (int i = 0; i < 5000; ++i) {
    const Outcome o = OutcomeOf(Status::Unavailable("throttled"), 1);
    ASSERT_EQ(o.kind, Outcome::Kind::kRetry);
    shortest = std::min(shortest, o.retry_after);
  }
  EXPECT_GE(shortest, std::chrono::milliseconds(100));
  EXPECT_EQ(OutcomeOf(Status::PermissionDenied("no"), 1).kind, Outcome::Kind::kFail);
}

}  // namespace
}  // namespace ferry::jobs
