// A durable scan whose destination lists out of order (storage::UnorderedMemoryBackend, as an
// S3 Express directory bucket does): both listings are read sorted (storage::ListSorted), the
// range is scanned in one chunk and never split, and every key is planned exactly once (copy,
// skip or delete), also across hand-offs. A scan merging the listing as it comes fails
// ("keys out of order"). Also the delete job's check against an unsorted source (one Stat per
// key, never a merge with its listing). MemoryBackends, a SQLite JobStore, ScanChunk driven as
// the worker drives it.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>

#include "checksum/checksum.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker_internal.h"
#include "storage/memory/unordered_backend.h"
#include "testing/fake_clock.h"

namespace ferry::jobs {
namespace {

namespace fs = std::filesystem;

class Control : public ScanControl {
 public:
  Control(JobStore& store, Lease lease) : store_(store), lease_(std::move(lease)) {}
  bool WantsSplit() override { return true; }  // a run always short of listing work
  Status HandOff(const KeyRange& kept, const std::vector<JobSpec>& more) override {
    ++hand_offs;
    return store_.HandOff(lease_, EncodeScan(kept), more);
  }
  int hand_offs = 0;

 private:
  JobStore& store_;
  Lease lease_;
};

void Put(storage::Backend& b, const std::string& key, const std::string& body) {
  storage::WriteSpec spec;
  spec.size = body.size();
  ASSERT_TRUE(b.Put(key, checksum::AsBytes(body), spec, {}).ok()) << key;
}

class ScanUnorderedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-scan-unordered-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    ctx_.options.delete_extra = true;
    ctx_.options.decide.delete_extra = true;
    auto run = store_->CreateRun(RunSpec{"mem:src", "mem:dst", EncodeRunOptions(ctx_.options)});
    ASSERT_TRUE(run.ok());
    ctx_.run = store_->GetRun(*run).value();
    ctx_.filter = plan::Filter::Make({}, std::chrono::system_clock::now()).value();
    auto src = std::make_unique<storage::MemoryBackend>();
    auto dst = std::make_unique<storage::UnorderedMemoryBackend>();
    for (int i = 0; i < 500; ++i) {
      const std::string key = "k/" + std::to_string(10000 + i);
      Put(*src, key, "body");
      if (i % 2 == 0) Put(*dst, key, "body");  // already there
      if (i % 5 == 0) Put(*dst, key + "-stale", "x");
    }
    ctx_.src = std::move(src);
    ctx_.dst = std::move(dst);
    ASSERT_TRUE(store_->Enqueue({ScanJob(ctx_, KeyRange{})}).ok());
    options_.scan_chunk = 7;  // would cut the range into 72 chunks if the listings were sorted
    options_.split_check_keys = 3;
    options_.batch_objects = 20;
    options_.scan_hand_off_jobs = 2;
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // Runs the run's first scan job as the worker does (claim, ScanChunk, Finish with what it
  // found besides the jobs it handed on).
  void ScanOnce() {
    auto claimed = store_->Claim("test", std::chrono::seconds(60), 1, ctx_.run.id);
    ASSERT_TRUE(claimed.ok());
    ASSERT_EQ(claimed->size(), 1u);
    const ClaimedJob& job = (*claimed)[0];
    ASSERT_EQ(job.job.spec.kind, kScanKind);
    auto range = DecodeScan(job.job.spec.payload);
    ASSERT_TRUE(range.ok());
    Control control(*store_, job.lease);
    std::vector<JobSpec> more;
    Status s = ScanChunk({.run = ctx_, .options = options_, .control = control, .stats = stats_},
                         *range, more);
    ASSERT_TRUE(s.ok()) << s.ToString();
    hand_offs_ = control.hand_offs;
    ASSERT_TRUE(store_->Finish(job.lease, Outcome{}, more).ok());
  }

  fs::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<JobStore> store_;
  RunContext ctx_;
  WorkerOptions options_;
  transfer::Stats stats_;
  int hand_offs_ = 0;
};

TEST_F(ScanUnorderedTest, EveryKeyIsPlannedOnceInOneChunkWithoutSplits) {
  ScanOnce();
  EXPECT_GT(hand_offs_, 0);
  std::map<std::string, int> copies, deletes;
  auto stored = store_->ListJobs(ctx_.run.id, std::nullopt, 100000);
  ASSERT_TRUE(stored.ok());
  std::vector<JobSpec> all;
  int scans = 0;
  for (const Job& j : *stored) {
    scans += j.spec.kind == kScanKind;
    all.push_back(j.spec);
  }
  EXPECT_EQ(scans, 1) << "an unsorted side is listed once: one chunk, no split";
  for (const JobSpec& spec : all) {
    if (spec.kind == kTransferKind) {
      auto batch = DecodeTransfer(spec.payload);
      ASSERT_TRUE(batch.ok());
      for (const auto& c : *batch) ++copies[c.src.key];
    } else if (spec.kind == kDeleteKind) {
      auto batch = DecodeDelete(spec.payload);
      ASSERT_TRUE(batch.ok());
      for (const auto& k : *batch) ++deletes[k];
    }
  }
  ASSERT_EQ(copies.size(), 250u);
  ASSERT_EQ(deletes.size(), 100u);
  for (const auto& [key, n] : copies) {
    EXPECT_EQ(n, 1) << key;
    EXPECT_EQ((std::stoi(key.substr(2)) - 10000) % 2, 1) << key;
  }
  for (const auto& [key, n] : deletes) {
    EXPECT_EQ(n, 1) << key;
    EXPECT_TRUE(key.ends_with("-stale")) << key;
  }
  EXPECT_EQ(stats_.objects_skipped.load(), 250u);
}

TEST_F(ScanUnorderedTest, DeleteJobChecksAnUnsortedSourceKeyByKey) {
  // The source lists out of order now: the delete job must not merge its listing.
  auto src = std::make_unique<storage::UnorderedMemoryBackend>();
  for (const char* key : {"d/1", "d/3", "d/5", "d/7"}) Put(*src, key, "x");
  auto* dst = static_cast<storage::MemoryBackend*>(ctx_.dst.get());
  for (const char* key : {"d/1", "d/2", "d/3", "d/4", "d/6", "d/7"}) Put(*dst, key, "x");
  ctx_.src = std::move(src);
  transfer::Stats stats;
  ASSERT_TRUE(RunDeleteJob(ctx_, {"d/1", "d/2", "d/3", "d/4", "d/6", "d/7"}, stats, {}).ok());
  EXPECT_EQ(stats.objects_deleted.load(), 3u);
  EXPECT_EQ(stats.deletes_kept.load(), 3u);
  for (const char* gone : {"d/2", "d/4", "d/6"}) {
    EXPECT_EQ(dst->Stat(gone, false, {}).status().code(), ErrorCode::kNotFound) << gone;
  }
  for (const char* kept : {"d/1", "d/3", "d/7"}) EXPECT_TRUE(dst->Stat(kept, false, {}).ok());
}

}  // namespace
}  // namespace ferry::jobs
