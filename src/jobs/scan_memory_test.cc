// A scan's memory stays bounded however many jobs its chunk plans: 200,000 destination-only
// keys between two source keys (2,000 parked delete jobs under --delete) are handed on in
// batches of a few jobs, each together with moving the scan's range past the keys they cover.
// A retry after a failure mid-listing neither loses nor repeats a key. MemoryBackend on both
// sides, a SQLite JobStore, ScanChunk driven as the worker drives it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <utility>

#include "checksum/checksum.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker_internal.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

// A listing that fails with kUnavailable after yielding `fail_after` keys.
class FailingCursor : public storage::ListingCursor {
 public:
  FailingCursor(std::unique_ptr<storage::ListingCursor> inner, size_t fail_after)
      : inner_(std::move(inner)), left_(fail_after) {}
  Result<const storage::ObjectInfo*> Next() override {
    if (left_ == 0) return Status::Unavailable("listing failed (injected)");
    --left_;
    return inner_->Next();
  }

 private:
  std::unique_ptr<storage::ListingCursor> inner_;
  size_t left_;
};

// A MemoryBackend whose next listing fails after `fail_after` keys (0: never).
class FlakyBackend : public storage::MemoryBackend {
 public:
  size_t fail_after = 0;
  Result<std::unique_ptr<storage::ListingCursor>> ListFrom(std::string_view prefix,
                                                          std::string_view start_after) override {
    FERRY_ASSIGN_OR_RETURN(auto inner, MemoryBackend::ListFrom(prefix, start_after));
    const size_t n = std::exchange(fail_after, 0);
    if (n == 0) return inner;
    return std::unique_ptr<storage::ListingCursor>(new FailingCursor(std::move(inner), n));
  }
};

// What the worker's ScanControl does (HandOff under the job's lease), recording how many jobs
// the scan held at each hand-off.
class RecordingControl : public ScanControl {
 public:
  RecordingControl(JobStore& store, Lease lease) : store_(store), lease_(std::move(lease)) {}
  bool WantsSplit() override { return false; }
  Status HandOff(const KeyRange& kept, const std::vector<JobSpec>& more) override {
    peak = std::max(peak, more.size());
    ++hand_offs;
    return store_.HandOff(lease_, EncodeScan(kept), more);
  }
  size_t peak = 0;
  int hand_offs = 0;

 private:
  JobStore& store_;
  Lease lease_;
};

class ScanMemoryTest : public ::testing::Test {
 protected:
  static constexpr int kExtras = 200000;
  static constexpr size_t kBound = 4;  // jobs a scan may hold before it hands them on

  void SetUp() override {
    char tmpl[] = "/tmp/ferry-scan-memory-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();

    ctx_.options.delete_extra = true;
    ctx_.options.decide.delete_extra = true;
    auto run = store_->CreateRun(RunSpec{"mem:src", "mem:dst", EncodeRunOptions(ctx_.options)});
    ASSERT_TRUE(run.ok());
    auto got = store_->GetRun(*run);
    ASSERT_TRUE(got.ok());
    ctx_.run = *got;
    auto filter = plan::Filter::Make({}, std::chrono::system_clock::now());
    ASSERT_TRUE(filter.ok());
    ctx_.filter = std::move(filter).value();
    auto src = std::make_unique<storage::MemoryBackend>();
    auto dst = std::make_unique<FlakyBackend>();
    storage::WriteSpec one;
    one.size = 1;
    for (const char* key : {"a", "z"}) {
      ASSERT_TRUE(src->Put(key, checksum::AsBytes("x"), one, {}).ok());
      ASSERT_TRUE(dst->Put(key, checksum::AsBytes("x"), one, {}).ok());
    }
    for (int i = 0; i < kExtras; ++i) {
      char key[32];
      std::snprintf(key, sizeof key, "m/%06d", i);
      ASSERT_TRUE(dst->Put(key, checksum::AsBytes(""), {}, {}).ok());
    }
    dst_ = dst.get();
    ctx_.src = std::move(src);
    ctx_.dst = std::move(dst);
    ASSERT_TRUE(store_->Enqueue({ScanJob(ctx_, KeyRange{})}).ok());
    options_.scan_chunk = 1000000;  // one chunk: everything between "a" and "z" in it
    options_.scan_hand_off_jobs = kBound;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // One attempt of the scan job, as the worker runs it: claim, ScanChunk over the job's range
  // (as stored now), Finish. Returns ScanChunk's status; `*peak` is the most jobs it held.
  Status Attempt(size_t* peak, int* hand_offs) {
    auto claimed = store_->Claim("test", std::chrono::seconds(60), 1, ctx_.run.id);
    EXPECT_TRUE(claimed.ok() && claimed->size() == 1u);
    if (!claimed.ok() || claimed->empty()) return Status::Internal("nothing to claim");
    const ClaimedJob& job = (*claimed)[0];
    auto range = DecodeScan(job.job.spec.payload);
    EXPECT_TRUE(range.ok());
    RecordingControl control(*store_, job.lease);
    std::vector<JobSpec> more;
    Status s = ScanChunk({.run = ctx_, .options = options_, .control = control, .stats = stats_},
                         *range, more);
    *peak = std::max(control.peak, more.size());
    *hand_offs = control.hand_offs;
    Outcome outcome;
    if (!s.ok()) {
      outcome.kind = Outcome::Kind::kRetry;
      outcome.error = s.message();
    }
    EXPECT_TRUE(store_->Finish(job.lease, outcome, s.ok() ? more : std::vector<JobSpec>{}).ok());
    return s;
  }

  // Every key of the run's delete jobs, with how often it appears.
  std::map<std::string, int> DeletedKeys() {
    std::map<std::string, int> keys;
    auto jobs = store_->ListJobs(ctx_.run.id, std::nullopt, 1000000);
    EXPECT_TRUE(jobs.ok());
    for (const Job& j : *jobs) {
      if (j.spec.kind != kDeleteKind) continue;
      EXPECT_EQ(j.spec.not_before, kParked);
      auto batch = DecodeDelete(j.spec.payload);
      EXPECT_TRUE(batch.ok());
      for (const std::string& k : *batch) ++keys[k];
    }
    return keys;
  }

  void ExpectEveryExtraOnce() {
    const std::map<std::string, int> keys = DeletedKeys();
    EXPECT_EQ(keys.size(), static_cast<size_t>(kExtras));
    int repeated = 0;
    for (const auto& [key, n] : keys) {
      repeated += n != 1;
      EXPECT_EQ(key.rfind("m/", 0), 0u) << key;
    }
    EXPECT_EQ(repeated, 0) << "keys in more than one delete job";
  }

  fs::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<JobStore> store_;
  RunContext ctx_;
  FlakyBackend* dst_ = nullptr;
  WorkerOptions options_;
  transfer::Stats stats_;
};

TEST_F(ScanMemoryTest, JobsAreHandedOnInBoundedBatches) {
  size_t peak = 0;
  int hand_offs = 0;
  ASSERT_TRUE(Attempt(&peak, &hand_offs).ok());
  // 200 delete jobs of 1,000 keys; never more than the bound (+ the one a visit may add) held.
  EXPECT_LE(peak, kBound + 1);
  EXPECT_GE(hand_offs, kExtras / 1000 / static_cast<int>(kBound + 1));
  ExpectEveryExtraOnce();
}

TEST_F(ScanMemoryTest, ARetryAfterAFailureMidListingNeitherLosesNorRepeatsKeys) {
  dst_->fail_after = 123457;  // fails after several hand-offs, mid delete batch
  size_t peak = 0;
  int hand_offs = 0;
  EXPECT_EQ(Attempt(&peak, &hand_offs).code(), ErrorCode::kUnavailable);
  EXPECT_LE(peak, kBound + 1);
  EXPECT_GT(hand_offs, 0);
  // The job now stands for the rest only.
  auto jobs = store_->ListJobs(ctx_.run.id, JobState::kQueued, 10);
  ASSERT_TRUE(jobs.ok());
  auto range = DecodeScan(jobs->at(0).spec.payload);
  ASSERT_TRUE(range.ok());
  EXPECT_GT(range->start_after, "m/1");
  EXPECT_LT(range->start_after, "m/123457");
  clock_.Advance(std::chrono::seconds(1));
  ASSERT_TRUE(Attempt(&peak, &hand_offs).ok());
  EXPECT_LE(peak, kBound + 1);
  ExpectEveryExtraOnce();
}

}  // namespace
}  // namespace ferry::jobs
