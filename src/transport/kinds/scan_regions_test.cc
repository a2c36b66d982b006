// The deletes of a compressed sync packed for several regions (`--pack-only --unpack-region
// A,B --delete`): each region's unpack worker writes its own destination (the run's
// destination as its config opens it), so each must also delete there. A scan plans one delete
// job per region, of that region; a delete job of no region was claimed by one worker and the
// other region kept the keys for good (found by tests/tools/convergence_transport.py,
// BUG_DELETE_ONE_REGION). One region, or none, still makes one delete job of no region.
// MemoryBackend on both sides, a SQLite JobStore, ScanChunk as the worker drives it, planned by
// the run hook of compressed runs (run_hook.cc).
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>

#include "checksum/checksum.h"
#include "jobs/scan.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"
#include "transport/kinds/kinds.h"

namespace ferry::transport {
namespace {

namespace fs = std::filesystem;
using jobs::JobSpec;
using jobs::KeyRange;

class NoSplit : public jobs::ScanControl {
 public:
  bool WantsSplit() override { return false; }
  Status HandOff(const KeyRange&, const std::vector<JobSpec>&) override {
    return Status::Internal("no hand-off expected");
  }
};

class ScanRegionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-scan-regions-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // Scans a source of "a", "m" against a destination of "a", "b", "c", "m" (b and c only
  // there) in a compressed --delete run unpacked in `regions`; returns the delete jobs planned:
  // region -> their keys.
  std::map<std::string, std::set<std::string>> Deletes(const std::string& regions,
                                                      bool unpack_jobs = true) {
    jobs::RunContext ctx;
    ctx.hook = hook_.get();
    ctx.options.command = "sync";
    ctx.options.delete_extra = true;
    ctx.options.decide.delete_extra = true;
    ctx.options.transport.staging = "mem:staging/s";
    ctx.options.transport.region = regions;
    ctx.options.transport.unpack_jobs = unpack_jobs;
    auto run = store_->CreateRun(
        jobs::RunSpec{"mem:src", "mem:dst", jobs::EncodeRunOptions(ctx.options)});
    EXPECT_TRUE(run.ok());
    auto got = store_->GetRun(*run);
    EXPECT_TRUE(got.ok());
    ctx.run = *got;
    auto filter = plan::Filter::Make({}, std::chrono::system_clock::now());
    EXPECT_TRUE(filter.ok());
    ctx.filter = std::move(filter).value();
    auto src = std::make_unique<storage::MemoryBackend>();
    auto dst = std::make_unique<storage::MemoryBackend>();
    storage::WriteSpec one;
    one.size = 1;
    for (const char* key : {"a", "m"}) {
      EXPECT_TRUE(src->Put(key, checksum::AsBytes("x"), one, {}).ok());
    }
    for (const char* key : {"a", "b", "c", "m"}) {
      EXPECT_TRUE(dst->Put(key, checksum::AsBytes("x"), one, {}).ok());
    }
    ctx.src = std::move(src);
    ctx.dst = std::move(dst);
    NoSplit control;
    jobs::WorkerOptions options;
    transfer::Stats stats;
    std::vector<JobSpec> more;
    const jobs::ScanContext scan{
        .run = ctx, .options = options, .control = control, .stats = stats};
    EXPECT_TRUE(jobs::ScanChunk(scan, KeyRange{}, more).ok());
    std::map<std::string, std::set<std::string>> out;
    for (const JobSpec& j : more) {
      if (j.kind != jobs::kDeleteKind) continue;
      EXPECT_EQ(j.not_before, jobs::kParked);
      EXPECT_EQ(out.count(j.region), 0u) << "two delete jobs of region " << j.region;
      auto keys = jobs::DecodeDelete(j.payload);
      EXPECT_TRUE(keys.ok());
      if (keys.ok()) out[j.region].insert(keys->begin(), keys->end());
    }
    return out;
  }

  fs::path dir_;
  testing::FakeClock clock_;
  std::unique_ptr<jobs::JobStore> store_;
  const std::shared_ptr<const jobs::RunHook> hook_ = MakeRunHook(nullptr);
};

TEST_F(ScanRegionsTest, ASyncPackedForSeveralRegionsDeletesInEachRegion) {
  const std::set<std::string> extra = {"b", "c"};
  const auto by_region = Deletes("A,B");
  ASSERT_EQ(by_region.size(), 2u) << "one delete job per region";
  EXPECT_EQ(by_region.at("A"), extra);
  EXPECT_EQ(by_region.at("B"), extra);
}

TEST_F(ScanRegionsTest, OneRegionOrNoneDeletesInOneJobOfNoRegion) {
  const std::set<std::string> extra = {"b", "c"};
  for (const char* regions : {"", "east"}) {
    const auto by_region = Deletes(regions);
    ASSERT_EQ(by_region.size(), 1u) << regions;
    EXPECT_EQ(by_region.at(""), extra) << regions;
  }
  // Without unpack jobs (no shared state store: `ferry unpack --region` lists staging) the
  // regions have no workers of this run.
  const auto listed = Deletes("A,B", /*unpack_jobs=*/false);
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed.at(""), extra);
}

}  // namespace
}  // namespace ferry::transport
