// Part jobs (part_jobs.h): one large object's parts spread over workers, completed once by the
// object's own job. The handlers are run by hand on a SQLite JobStore with a FakeClock, over
// MemoryBackends, as two workers would (two engines, two owner names), so that each step
// (claims, a lost lease, a failed completion) is placed exactly. What these would catch: a
// part sent twice, a part of another worker's lost lease never redone, a second completion,
// a failed completion that uploads the object again.
#include "jobs/part_jobs.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "jobs/kinds/registry.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;
constexpr uint64_t kPart = 4096;
constexpr uint64_t kSize = 10 * kPart + 123;  // 11 parts: 3 part jobs
constexpr std::chrono::seconds kTtl{60};

storage::MemoryBackend::Options MemoryOptions(const std::string& endpoint) {
  storage::MemoryBackend::Options o;
  o.features.min_part_size = kPart;
  o.endpoint = endpoint;  // two endpoints: no server-side copy, parts go through the engine
  o.name = endpoint;
  return o;
}

// What a running job may ask of its worker: HandOff goes to the store under the job's lease.
// `cut`, when set, fails the next HandOff as a worker killed right before it would.
class StoreControl : public JobControl {
 public:
  StoreControl(JobStore& store, Lease lease, bool* cut)
      : store_(store), lease_(std::move(lease)), cut_(cut) {}
  bool WantsSplit() override { return false; }
  Status HandOff(std::string_view kept, const std::vector<JobSpec>& more) override {
    if (*cut_) {
      *cut_ = false;
      return Status::Unavailable("the worker died before the hand-off");
    }
    return store_.HandOff(lease_, kept, more);
  }
  void CannotServe(const Status& why) override { (void)why; }

 private:
  JobStore& store_;
  Lease lease_;
  bool* cut_;
};

// One worker: its own run context (engine, stats) over the shared memory backends.
struct TestWorker {
  std::string owner;
  transfer::Stats stats;
  RunContext run;
  WorkerOptions options;
};

class PartJobsTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-part-jobs-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    body_.resize(kSize);
    for (size_t i = 0; i < body_.size(); ++i) body_[i] = static_cast<char>('a' + (i * 7) % 23);
    storage::WriteSpec spec;
    spec.size = body_.size();
    ASSERT_TRUE(src_.Put("big", std::as_bytes(std::span(body_)), spec, {}).ok());
    options_.command = "cp";
    options_.multipart_threshold = kPart;
    options_.part_size = kPart;
    options_.part_jobs_min_parts = 8;
    options_.max_attempts = 3;
    auto run = store_->CreateRun(RunSpec{"src", "dst", EncodeRunOptions(options_)}, {});
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_ = *run;
    auto listing = src_.Stat("big", false, {});
    ASSERT_TRUE(listing.ok());
    transfer::CopyRequest object;
    object.src = *listing;
    JobSpec transfer;
    transfer.run = run_;
    transfer.payload = EncodeTransfer({object});
    transfer.objects = 1;
    transfer.bytes = kSize;
    transfer.max_attempts = options_.max_attempts;
    auto ids = store_->Enqueue({transfer});
    ASSERT_TRUE(ids.ok());
    owner_job_ = ids->front();
    for (TestWorker* w : {&w1_, &w2_}) Open(*w);
  }
  void TearDown() override {
    w1_.run.engine.reset();
    w2_.run.engine.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  void Open(TestWorker& w) {
    w.owner = &w == &w1_ ? "w1" : "w2";
    w.options.owner = w.owner;
    w.options.concurrency = 4;
    w.run.options = options_;
    w.run.src = std::make_unique<testing::BorrowedBackend>(src_);
    w.run.dst = std::make_unique<testing::BorrowedBackend>(dst_);
    transfer::TransferOptions t;
    t.multipart_threshold = options_.multipart_threshold;
    t.part_size = options_.part_size;
    w.run.engine = std::make_unique<transfer::TransferEngine>(
        testing::TestExecutor(), t, *w.run.src, *w.run.dst, w.stats);
  }

  // Claims one job of `kind` as `w`; nullopt when none is claimable.
  std::optional<ClaimedJob> Claim(TestWorker& w, const std::string& kind) {
    auto claimed = store_->Claim(w.owner, kTtl, 1, run_, ClaimFilter{.kinds = {kind}, .region = ""});
    EXPECT_TRUE(claimed.ok()) << claimed.status().ToString();
    if (!claimed.ok() || claimed->empty()) return std::nullopt;
    return claimed->front();
  }

  // Runs a claimed job on `w` as its worker would, without finishing it.
  JobResult Work(TestWorker& w, const ClaimedJob& c, std::stop_token cancel = {}) {
    const JobHandler* handler = KindRegistry::Builtin().Find(c.job.spec.kind);
    EXPECT_NE(handler, nullptr);
    StoreControl control(*store_, c.lease, &cut_hand_off_);
    JobContext ctx{.store = *store_,
                   .run = w.run,
                   .claimed = c,
                   .options = w.options,
                   .stats = w.stats,
                   .cancel = cancel,
                   .worker_stop = {},
                   .control = control,
                   .lease_lost = [](const Status&) {}};
    return handler->Run(ctx);
  }

  // Claims, runs and finishes one job of `kind` as `w`; the outcome's kind.
  std::optional<Outcome::Kind> Step(TestWorker& w, const std::string& kind) {
    auto c = Claim(w, kind);
    if (!c) return std::nullopt;
    JobResult r = Work(w, *c);
    Status s = store_->Finish(c->lease, r.outcome, r.more);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r.outcome.kind;
  }

  // The owner hands its parts out: waits, with the part jobs queued.
  void HandOut() {
    EXPECT_EQ(Step(w1_, kTransferKind), Outcome::Kind::kWait);
    EXPECT_EQ(Jobs(kPartKind, JobState::kQueued), 3u);
  }

  // The owner, claimed again after its poll: kDone once it completed the object.
  std::optional<Outcome::Kind> PollOwner(TestWorker& w) {
    clock_.Advance(kOwnerPoll);
    return Step(w, kTransferKind);
  }

  size_t Jobs(const std::string& kind, JobState state) {
    auto jobs = store_->ListJobs(run_, state, 1000);
    EXPECT_TRUE(jobs.ok());
    size_t n = 0;
    for (const Job& j : *jobs) n += j.spec.kind == kind ? 1 : 0;
    return n;
  }

  void ExpectCopied() {
    auto copied = dst_.Contents("big");
    ASSERT_TRUE(copied.has_value());
    EXPECT_EQ(*copied, body_);
  }

  testing::FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  storage::MemoryBackend src_{MemoryOptions("a")};
  storage::MemoryBackend dst_{MemoryOptions("b")};
  std::string body_;
  RunOptions options_;
  RunId run_ = 0;
  JobId owner_job_ = 0;
  TestWorker w1_;
  TestWorker w2_;
  bool cut_hand_off_ = false;
};

// The owner opens one upload and hands out 3 part jobs; two workers take them; the owner
// completes the object once: every part written once, one commit, its checkpoint gone.
TEST_F(PartJobsTest, TwoWorkersSendThePartsAndTheOwnerCompletesOnce) {
  HandOut();
  EXPECT_EQ(dst_.counts().writers_opened, 1);
  EXPECT_EQ(dst_.counts().parts, 0) << "the owner sends no part itself";
  EXPECT_EQ(PollOwner(w2_), Outcome::Kind::kWait) << "no part is done yet";
  EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(Step(w2_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  EXPECT_GT(w1_.stats.bytes_moved.load(), 0u);
  EXPECT_GT(w2_.stats.bytes_moved.load(), 0u) << "both workers sent parts";
  EXPECT_EQ(w1_.stats.bytes_moved.load() + w2_.stats.bytes_moved.load(), kSize);
  EXPECT_EQ(PollOwner(w2_), Outcome::Kind::kDone);
  ExpectCopied();
  EXPECT_EQ(dst_.counts().parts, 11) << "each part sent once";
  EXPECT_EQ(dst_.counts().commits, 1);
  EXPECT_EQ(dst_.counts().aborts, 0);
  auto checkpoint = store_->LoadUpload(owner_job_, UploadRef{"", "big"});
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_FALSE(checkpoint->has_value()) << "the completed upload's checkpoint is cleared";
  EXPECT_EQ(Jobs(kTransferKind, JobState::kDone), 1u);
}

// The part job that checkpoints the last part wakes the owner: it completes now, with no poll
// waited out (the clock does not move); earlier part jobs leave it waiting.
TEST_F(PartJobsTest, TheLastPartWakesTheOwnerWithoutItsPoll) {
  HandOut();
  EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(Step(w2_, kPartKind), Outcome::Kind::kDone);
  EXPECT_FALSE(Claim(w2_, kTransferKind).has_value()) << "2 of 3 ranges: still waiting";
  EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(Step(w2_, kTransferKind), Outcome::Kind::kDone) << "claimable at once";
  ExpectCopied();
  EXPECT_EQ(dst_.counts().commits, 1);
}

// Two workers finish their last parts at the same moment and both poll the owner at once: one
// of them holds it, so the object is committed exactly once.
TEST_F(PartJobsTest, TwoWorkersFinishingTogetherCompleteOnce) {
  HandOut();
  EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  auto a = Claim(w1_, kPartKind);
  auto b = Claim(w2_, kPartKind);
  ASSERT_TRUE(a && b);
  JobResult ra, rb;
  std::thread t1([&] { ra = Work(w1_, *a); });
  std::thread t2([&] { rb = Work(w2_, *b); });
  t1.join();
  t2.join();
  ASSERT_TRUE(store_->Finish(a->lease, ra.outcome).ok());
  ASSERT_TRUE(store_->Finish(b->lease, rb.outcome).ok());
  clock_.Advance(kOwnerPoll);
  auto o1 = Claim(w1_, kTransferKind);
  auto o2 = Claim(w2_, kTransferKind);
  ASSERT_TRUE(o1.has_value());
  EXPECT_FALSE(o2.has_value()) << "the owner is held by one worker at a time";
  JobResult done = Work(w1_, *o1);
  EXPECT_EQ(done.outcome.kind, Outcome::Kind::kDone) << done.outcome.error;
  ASSERT_TRUE(store_->Finish(o1->lease, done.outcome).ok());
  EXPECT_FALSE(PollOwner(w2_).has_value()) << "nothing left to complete";
  ExpectCopied();
  EXPECT_EQ(dst_.counts().commits, 1);
  EXPECT_EQ(dst_.counts().parts, 11);
}

// A worker dies mid-range (one part sent and checkpointed, the next failed in flight, no
// outcome written): its lease lapses, the other worker claims the part job and sends only the
// parts that are missing.
TEST_F(PartJobsTest, ALostLeasesPartsAreRedoneByAnotherWorker) {
  HandOut();
  auto lost = Claim(w1_, kPartKind);
  ASSERT_TRUE(lost.has_value());
  dst_.FailNext(storage::MemoryBackend::kWriteChunk, 1, Status::Unavailable("worker killed"));
  JobResult r = Work(w1_, *lost);  // its outcome is never written: the worker died
  EXPECT_NE(r.outcome.kind, Outcome::Kind::kDone);
  const int tried = dst_.counts().parts;  // one of them failed, the others are checkpointed
  EXPECT_GE(tried, 1);
  clock_.Advance(kTtl + std::chrono::seconds(1));  // w1 is gone: its lease expires
  auto again = Claim(w2_, kPartKind);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->job.id, lost->job.id) << "the oldest part job: the lost one";
  JobResult redone = Work(w2_, *again);
  EXPECT_EQ(redone.outcome.kind, Outcome::Kind::kDone) << redone.outcome.error;
  ASSERT_TRUE(store_->Finish(again->lease, redone.outcome).ok());
  EXPECT_FALSE(store_->Finish(lost->lease, r.outcome).ok()) << "the dead worker is fenced off";
  // The range's 4 parts: those w1 sent are not sent again; the one that failed is.
  EXPECT_EQ(dst_.counts().parts, 5) << "only the part lost in flight is sent again";
  EXPECT_EQ(Step(w2_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(PollOwner(w1_), Outcome::Kind::kDone);
  ExpectCopied();
  EXPECT_EQ(dst_.counts().parts, 12) << "11 parts, one of them sent twice";
  EXPECT_EQ(dst_.counts().commits, 1);
}

// A completion whose commit fails (the store answered 503) is retried from the checkpoints:
// no part is sent again, and the object is committed by the retry.
TEST_F(PartJobsTest, AFailedCompletionIsRetriedWithoutUploadingAgain) {
  HandOut();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Step(i % 2 ? w2_ : w1_, kPartKind), Outcome::Kind::kDone);
  dst_.FailNext(storage::MemoryBackend::kCommit, 1, Status::Unavailable("503 slow down"));
  EXPECT_EQ(PollOwner(w1_), Outcome::Kind::kRetry);
  EXPECT_FALSE(dst_.Contents("big").has_value());
  auto owner = store_->GetJob(owner_job_);
  ASSERT_TRUE(owner.ok());
  EXPECT_TRUE(owner->spec.payload.starts_with("{\"part_jobs\":")) << owner->spec.payload;
  clock_.Advance(std::chrono::minutes(5));  // past the retry's backoff
  EXPECT_EQ(Step(w2_, kTransferKind), Outcome::Kind::kDone);
  ExpectCopied();
  EXPECT_EQ(dst_.counts().parts, 11) << "no part sent again";
  EXPECT_EQ(dst_.counts().writers_opened, 1) << "no second upload";
  EXPECT_EQ(dst_.counts().commits, 2);  // the failed one and the retry
}

// A part job that cannot do its part (its last attempt failed) leaves it to the owner, which
// sends the missing parts itself once no part job is left: the run never hangs on it.
TEST_F(PartJobsTest, PartsAPartJobGaveUpOnAreSentByTheOwner) {
  HandOut();
  EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(Step(w2_, kPartKind), Outcome::Kind::kDone);
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    dst_.FailNext(storage::MemoryBackend::kWriteChunk, 1, Status::PermissionDenied("denied"));
    auto kind = Step(w1_, kPartKind);
    ASSERT_TRUE(kind.has_value());
    EXPECT_EQ(*kind, attempt < options_.max_attempts ? Outcome::Kind::kRetry
                                                      : Outcome::Kind::kDone);
    clock_.Advance(std::chrono::minutes(5));
  }
  EXPECT_EQ(Jobs(kPartKind, JobState::kDead), 0u);
  EXPECT_EQ(PollOwner(w2_), Outcome::Kind::kDone);
  ExpectCopied();
  EXPECT_EQ(dst_.counts().commits, 1);
}

// The owner dies between opening the upload and handing out its parts: its next attempt
// resumes the recorded upload (no second one is created) and hands the parts out once.
TEST_F(PartJobsTest, AnOwnerCutBeforeItsHandOffOpensNoSecondUpload) {
  cut_hand_off_ = true;
  EXPECT_EQ(Step(w1_, kTransferKind), Outcome::Kind::kRetry);
  EXPECT_EQ(Jobs(kPartKind, JobState::kQueued), 0u);
  EXPECT_EQ(dst_.counts().writers_opened, 1);
  clock_.Advance(std::chrono::minutes(5));  // past the retry's backoff
  EXPECT_EQ(Step(w2_, kTransferKind), Outcome::Kind::kWait);
  EXPECT_EQ(Jobs(kPartKind, JobState::kQueued), 3u);
  EXPECT_EQ(dst_.counts().writers_opened, 1) << "the recorded upload is resumed";
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Step(w1_, kPartKind), Outcome::Kind::kDone);
  EXPECT_EQ(PollOwner(w2_), Outcome::Kind::kDone);
  ExpectCopied();
  EXPECT_EQ(dst_.counts().parts, 11);
  EXPECT_EQ(dst_.counts().aborts, 0);
}

// Runs without the option (and objects below its threshold) copy as always, in one job.
TEST_F(PartJobsTest, WithoutTheOptionTheObjectIsCopiedInItsOwnJob) {
  options_.part_jobs_min_parts = 0;
  w1_.run.options = options_;
  EXPECT_EQ(Step(w1_, kTransferKind), Outcome::Kind::kDone);
  EXPECT_EQ(Jobs(kPartKind, JobState::kQueued), 0u);
  ExpectCopied();
  options_.part_jobs_min_parts = 12;  // 11 parts: below it
  transfer::CopyRequest r;
  r.src.size = kSize;
  w1_.run.options = options_;
  EXPECT_FALSE(SpreadsParts(w1_.run, r));
}

TEST(PartJobPayloadTest, RoundTripsAndRefusesBadRanges) {
  PartJobPayload p{.owner = 7, .first = 5, .last = 8, .transfer = R"({"objects":[]})"};
  auto back = DecodePartJob(EncodePartJob(p));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->owner, 7);
  EXPECT_EQ(back->first, 5);
  EXPECT_EQ(back->last, 8);
  EXPECT_EQ(back->transfer, p.transfer);
  EXPECT_FALSE(DecodePartJob(R"({"owner":7,"first":3,"last":2,"transfer":{}})").ok());
  EXPECT_FALSE(DecodePartJob("not json").ok());
}

}  // namespace
}  // namespace ferry::jobs
