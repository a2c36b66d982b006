// Run lifecycle rules that keep deletes safe: a delete job checks each key against the source
// right before deleting it, and a run whose dead jobs were purged never unparks its deletes.
// On MemoryBackends and a SQLite store in a temporary folder.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>

#include "base/clock.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker_internal.h"
#include "storage/memory/memory_backend.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

void Put(storage::Backend& b, const std::string& key) {
  const std::string body = "x";
  storage::WriteSpec spec;
  spec.size = body.size();
  ASSERT_TRUE(b.Put(key, std::as_bytes(std::span(body)), spec, {}).ok()) << key;
}

class DeleteJobTest : public ::testing::Test {
 public:
  DeleteJobTest() {
    ctx_.src = std::make_unique<storage::MemoryBackend>();
    ctx_.dst = std::make_unique<storage::MemoryBackend>();
  }
  storage::MemoryBackend& src() { return static_cast<storage::MemoryBackend&>(*ctx_.src); }
  storage::MemoryBackend& dst() { return static_cast<storage::MemoryBackend&>(*ctx_.dst); }

  // Writes `keys` to the destination, runs a delete job of them, returns what is left.
  std::vector<std::string> DeleteJob(const std::vector<std::string>& keys) {
    for (const auto& k : keys) Put(dst(), k);
    src().ResetCounts();
    Status s = RunDeleteJob(ctx_, keys, stats_, {});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return dst().Keys();
  }

  RunContext ctx_;
  transfer::Stats stats_;
};

// A few keys: one Stat each. The key the source has again stays.
TEST_F(DeleteJobTest, FewKeysAreCheckedOneByOne) {
  Put(src(), "b");
  EXPECT_EQ(DeleteJob({"a", "b"}), std::vector<std::string>{"b"});
  EXPECT_EQ(src().counts().stats, 2);
  EXPECT_EQ(src().counts().lists, 0);
  EXPECT_EQ(stats_.objects_deleted.load(), 1u);
  EXPECT_EQ(stats_.deletes_kept.load(), 1u);
}

// A batch of many keys: one listing of its range, not a request per key. Keys the source has
// outside the range do not matter; those inside it are kept, whatever their neighbours.
TEST_F(DeleteJobTest, ManyKeysAreCheckedWithOneListing) {
  std::vector<std::string> keys;
  for (int i = 0; i < 500; ++i) {
    char k[16];
    std::snprintf(k, sizeof k, "k%03d", i);
    keys.push_back(k);
  }
  for (const char* k : {"a", "k", "k099x", "k100", "k250", "k499", "k5", "z"}) Put(src(), k);
  const std::vector<std::string> left = DeleteJob(keys);
  EXPECT_EQ(left, (std::vector<std::string>{"k100", "k250", "k499"}));
  EXPECT_EQ(src().counts().lists, 1);
  EXPECT_EQ(src().counts().stats, 0);
  EXPECT_EQ(stats_.objects_deleted.load(), 497u);
  EXPECT_EQ(stats_.deletes_kept.load(), 3u);
}

// Keys whose last character is not ASCII, or the first key itself: the listing starts low
// enough to see them.
TEST_F(DeleteJobTest, ListingStartsJustBeforeTheFirstKey) {
  const std::vector<std::string> keys = {"\xC3\xA9", "\xC3\xA9x", "a\x01", "b", "\xF0\x9F\x98\x80"};
  for (const auto& k : keys) Put(src(), k);
  EXPECT_EQ(DeleteJob(keys).size(), keys.size());
  EXPECT_EQ(stats_.deletes_kept.load(), keys.size());
  EXPECT_EQ(src().counts().lists, 1);
}

// Far more source keys than batch keys in the range: the listing stops once a Stat of each
// key left is cheaper, and the rest is checked one by one.
TEST_F(DeleteJobTest, ASparseBatchFallsBackToStats) {
  for (int i = 0; i < 5000; ++i) Put(src(), "m" + std::to_string(10000 + i));
  Put(src(), "y");
  const std::vector<std::string> left = DeleteJob({"a", "x", "y", "z"});
  EXPECT_EQ(left, std::vector<std::string>{"y"});
  EXPECT_EQ(src().counts().lists, 1);
  EXPECT_EQ(src().counts().stats, 3);  // "x", "y", "z": past the listing's budget
}

// A run on a SQLite store.
class RunLifecycleTest : public ::testing::Test {
 public:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-lifecycle-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    auto run = store_->CreateRun({"src", "dst", "{}"});
    ASSERT_TRUE(run.ok());
    run_ = *run;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  JobId Enqueue(const std::string& kind, bool parked = false) {
    JobSpec spec;
    spec.run = run_;
    spec.kind = kind;
    spec.max_attempts = 1;
    if (parked) spec.not_before = kParked;
    auto ids = store_->Enqueue({spec});
    EXPECT_TRUE(ids.ok());
    return ids.ok() ? (*ids)[0] : 0;
  }
  // Claims the next runnable job of the run (one must be there) and ends it so.
  std::string ClaimAndFinish(Outcome::Kind how) {
    auto claimed = store_->Claim("w", std::chrono::seconds(30), 1, run_);
    EXPECT_TRUE(claimed.ok() && claimed->size() == 1u);
    if (!claimed.ok() || claimed->empty()) return kScanKind;
    Outcome o;
    o.kind = how;
    o.error = how == Outcome::Kind::kDone ? "" : "refused";
    EXPECT_TRUE(store_->Finish((*claimed)[0].lease, o).ok());
    return (*claimed)[0].job.spec.kind;
  }
  RunProgress Advance() {
    auto p = Worker::AdvanceRun(*store_, run_, nullptr, clock_);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? *p : RunProgress::kWorking;
  }
  RunState State() {
    auto r = store_->GetRun(run_);
    EXPECT_TRUE(r.ok());
    return r.ok() ? r->state : RunState::kRunning;
  }

  SystemClock clock_;
  fs::path dir_;
  std::unique_ptr<JobStore> store_;
  RunId run_ = 0;
};

// `ferry jobs purge --dead` while the run still has transfers to do: before, the purge left no
// dead job, so once the transfers were done the run unparked its deletes and deleted objects
// whose replacement was never copied. Now the purge ends the run: its deletes are gone.
TEST_F(RunLifecycleTest, PurgingADeadTransferNeverLetsTheRunDelete) {
  Enqueue(kTransferKind);
  Enqueue(kTransferKind);
  const JobId del = Enqueue(kDeleteKind, /*parked=*/true);
  EXPECT_EQ(ClaimAndFinish(Outcome::Kind::kFail), kTransferKind);  // dead
  EXPECT_EQ(Advance(), RunProgress::kWorking);
  ASSERT_TRUE(store_->Purge(/*dead_too=*/true).ok());
  EXPECT_EQ(store_->GetJob(del).status().code(), ErrorCode::kNotFound);
  // Abandoned with nothing left, so purged too; a worker still on it sees it ended.
  EXPECT_EQ(store_->GetRun(run_).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Advance(), RunProgress::kBlocked);
  auto left = store_->Claim("w", std::chrono::seconds(30), 10, run_);
  ASSERT_TRUE(left.ok());
  EXPECT_TRUE(left->empty()) << "no work of the purged run runs";
}

// The same once the run was already blocked (kFailed): the purge must not make it look clean.
TEST_F(RunLifecycleTest, PurgingTheDeadJobsOfAFailedRunEndsIt) {
  Enqueue(kTransferKind);
  Enqueue(kDeleteKind, /*parked=*/true);
  ClaimAndFinish(Outcome::Kind::kFail);
  EXPECT_EQ(Advance(), RunProgress::kBlocked);
  EXPECT_EQ(State(), RunState::kFailed);
  ASSERT_TRUE(store_->Purge(/*dead_too=*/true).ok());
  // Nothing of it is left to run or redrive: it is purged with the dead job.
  EXPECT_EQ(store_->GetRun(run_).status().code(), ErrorCode::kNotFound);
  auto found = store_->FindUnfinishedRun("src", "dst");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value());
}

// A failed run whose dead jobs an older ferry purged, leaving its parked deletes: it stays
// failed and the deletes stay parked.
TEST_F(RunLifecycleTest, AFailedRunNeverUnparksItsDeletes) {
  const JobId del = Enqueue(kDeleteKind, /*parked=*/true);
  ASSERT_TRUE(store_->SetRunState(run_, RunState::kFailed).ok());
  EXPECT_EQ(Advance(), RunProgress::kBlocked);
  EXPECT_EQ(State(), RunState::kFailed);
  EXPECT_EQ(store_->GetJob(del).value().not_before, kParked);
}

// A failed run has ended: the same command starts a new run. A redrive gives it work again,
// and then it is in progress (resumable) and, once its jobs succeed, deletes.
TEST_F(RunLifecycleTest, AFailedRunIsOverUntilARedrive) {
  Enqueue(kTransferKind);
  Enqueue(kDeleteKind, /*parked=*/true);
  ClaimAndFinish(Outcome::Kind::kFail);
  EXPECT_EQ(Advance(), RunProgress::kBlocked);
  auto found = store_->FindUnfinishedRun("src", "dst");
  ASSERT_TRUE(found.ok());
  EXPECT_FALSE(found->has_value()) << "a failed run is not resumed";
  EXPECT_EQ(Advance(), RunProgress::kBlocked);
  ASSERT_EQ(store_->Redrive(run_).value(), 1u);
  EXPECT_EQ(State(), RunState::kRunning);
  found = store_->FindUnfinishedRun("src", "dst");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, run_);
  EXPECT_EQ(ClaimAndFinish(Outcome::Kind::kDone), kTransferKind);
  EXPECT_EQ(Advance(), RunProgress::kWorking);  // deletes unparked
  EXPECT_EQ(ClaimAndFinish(Outcome::Kind::kDone), kDeleteKind);
  EXPECT_EQ(Advance(), RunProgress::kDone);
}

// --restart: the unfinished run ends for good; none of its jobs can run, even after a redrive.
TEST_F(RunLifecycleTest, AnAbandonedRunNeverRunsItsJobs) {
  Enqueue(kTransferKind);
  Enqueue(kTransferKind);
  Enqueue(kDeleteKind, /*parked=*/true);
  Enqueue(kScanKind);
  ClaimAndFinish(Outcome::Kind::kDone);
  ClaimAndFinish(Outcome::Kind::kFail);
  auto removed = store_->AbandonRun(run_);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 3u);  // dead transfer, parked delete, queued scan
  EXPECT_EQ(State(), RunState::kFailed);
  EXPECT_EQ(store_->Redrive(0).value(), 0u);
  EXPECT_EQ(Advance(), RunProgress::kBlocked);
  EXPECT_TRUE(store_->Claim("w", std::chrono::seconds(30), 10).value().empty());
}

// --restart then waits for the leases of the jobs it removed: AbandonRun reports the latest
// one and records it on the run, for a pass that starts later (an interrupted --restart).
TEST_F(RunLifecycleTest, AnAbandonedRunRecordsTheLatestLeaseOfItsJobs) {
  Enqueue(kTransferKind);
  Enqueue(kTransferKind);
  Enqueue(kTransferKind);
  ASSERT_TRUE(store_->Claim("w", std::chrono::seconds(60), 1, run_).ok());
  ASSERT_TRUE(store_->Claim("w", std::chrono::seconds(30), 1, run_).ok());
  ASSERT_EQ(store_->GetRun(run_).value().leases_until, TimePoint{});
  TimePoint latest{};
  auto leased = store_->ListJobs(run_, JobState::kLeased, 10);
  ASSERT_TRUE(leased.ok()) << leased.status().ToString();
  ASSERT_EQ(leased->size(), 2u);
  for (const Job& j : *leased) latest = std::max(latest, j.lease_expires);
  ASSERT_GT(latest, clock_.Now() + std::chrono::seconds(50));  // the 60 s lease
  TimePoint until{};
  auto removed = store_->AbandonRun(run_, &until);
  ASSERT_TRUE(removed.ok()) << removed.status().ToString();
  EXPECT_EQ(*removed, 3u);
  EXPECT_EQ(until, latest);
  EXPECT_EQ(store_->GetRun(run_).value().leases_until, latest);
}

}  // namespace
}  // namespace ferry::jobs
