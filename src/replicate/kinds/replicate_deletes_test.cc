// --max-delete of a durable replication pass (the replicate-deletes kind, jobs/delete_guard.h):
// a versioned memory source, a destination that keeps no versions (a replicated delete marker
// there deletes the key), a Worker on SQLite.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "jobs/delete_guard.h"
#include "jobs/kinds/registry.h"
#include "jobs/payload.h"
#include "jobs/sqlite/sqlite_job_store.h"
#include "jobs/worker.h"
#include "replicate/kinds/kinds.h"
#include "replicate/payload.h"
#include "storage/memory/memory_backend.h"
#include "testing/borrowed_backend.h"
#include "testing/fake_clock.h"
#include "testing/test_executor.h"

namespace ferry::replicate {
namespace {

namespace fs = std::filesystem;
using jobs::JobState;
using jobs::RunId;
using jobs::RunProgress;

class ReplicateDeletesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-replicate-deletes-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(store).value();
    for (const char* name : {"a", "u"}) {
      storage::MemoryBackend::Options o;
      o.clock = &clock_;
      o.versioned = std::string(name) == "a";  // u keeps no versions
      o.name = name;
      o.endpoint = name;
      sides_[name] = std::make_unique<storage::MemoryBackend>(o);
    }
    for (int i = 0; i < 6; ++i) Write("k" + std::to_string(i));
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  void Write(const std::string& key) {
    storage::WriteSpec spec;
    spec.size = key.size();
    ASSERT_TRUE(sides_["a"]->Put(key, std::as_bytes(std::span(key)), spec, {}).ok());
  }

  // A pass a -> u with delete markers replicated, as `ferry replicate --max-delete LIMIT`
  // creates it ("" = no limit).
  RunId NewRun(const std::string& limit) {
    DurablePass pass;
    pass.source = "a";
    Rule rule;
    rule.id = "r";
    rule.delete_markers = true;
    rule.destinations.push_back({"u", "", {}, ""});
    pass.rules.rules = {rule};
    pass.batch_versions = 4;  // several keys jobs, each parking its own
    jobs::RunOptions ro;
    ro.command = "replicate";
    if (!limit.empty()) ro.max_delete = *plan::ParseDeleteLimit(limit);
    auto options = EncodeDurablePass(pass, jobs::EncodeRunOptions(ro));
    EXPECT_TRUE(options.ok());
    jobs::JobSpec scan;
    scan.kind = kReplicateScanKind;
    scan.payload = jobs::EncodeScan(jobs::KeyRange{});
    auto run = store_->CreateRun(jobs::RunSpec{"a", "u", *options}, {scan});
    EXPECT_TRUE(run.ok());
    return *run;
  }

  RunProgress Work(RunId run) {
    jobs::WorkerOptions o;
    o.executor = &ferry::testing::TestExecutor();
    o.registry = &kinds_;
    o.owner = "w";
    o.only_run = run;
    o.exit_when_done = true;
    o.idle_poll = std::chrono::milliseconds(5);
    transfer::Stats stats;
    jobs::Worker worker(
        *store_,
        [this](const std::string& n, bool) -> Result<std::unique_ptr<storage::Backend>> {
          return std::unique_ptr<storage::Backend>(
              std::make_unique<ferry::testing::BorrowedBackend>(*sides_.at(n)));
        },
        o, stats);
    RunProgress progress = RunProgress::kWorking;
    EXPECT_TRUE(worker.Run({}, &progress).ok());
    return progress;
  }

  std::set<std::string> KeysAtU() {
    std::set<std::string> keys;
    auto c = sides_["u"]->List("");
    EXPECT_TRUE(c.ok());
    for (;;) {
      const storage::ObjectInfo* e = *(*c)->Next();
      if (e == nullptr) break;
      keys.insert(e->key);
    }
    return keys;
  }

  testing::FakeClock clock_;
  fs::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  // What `ferry replicate` registers (app/kinds.cc ReplicationKinds).
  const jobs::KindRegistry kinds_ = [] {
    jobs::KindRegistry r;
    EXPECT_TRUE(r.Register(MakeReplicateScanHandler()).ok());
    EXPECT_TRUE(r.Register(MakeReplicateKeysHandler()).ok());
    EXPECT_TRUE(r.Register(MakeReplicateDeletesHandler()).ok());
    EXPECT_TRUE(r.Register(jobs::MakeDeleteScopeHandler()).ok());
    return r;
  }();
  std::map<std::string, std::unique_ptr<storage::MemoryBackend>> sides_;
};

TEST_F(ReplicateDeletesTest, PastTheLimitNoMarkerDeletesAndTheRunSaysWhy) {
  ASSERT_EQ(Work(NewRun("")), RunProgress::kDone);
  ASSERT_EQ(KeysAtU().size(), 6u);
  for (const char* key : {"k1", "k3", "k4"}) {
    ASSERT_TRUE(sides_["a"]->AddDeleteMarker(key, {}).ok());
  }
  Write("k6");  // a new key is copied whatever the limit
  const RunId run = NewRun("2");
  EXPECT_EQ(Work(run), RunProgress::kBlocked);
  const std::set<std::string> all = {"k0", "k1", "k2", "k3", "k4", "k5", "k6"};
  EXPECT_EQ(KeysAtU(), all);  // nothing deleted; k6 copied
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->state, jobs::RunState::kFailed);
  EXPECT_EQ(jobs::PlannedDeletes(*counts), 3u);
  EXPECT_EQ(counts->of(jobs::kReplicateDeletesKind).of(JobState::kDone), 0u);
  auto options = jobs::DecodeRunOptions(store_->GetRun(run)->spec.options);
  ASSERT_TRUE(options.ok());
  auto why = jobs::StoppedByDeleteGuard(*options, *counts);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("3 deletes planned, over --max-delete 2: nothing was deleted"),
            std::string::npos)
      << *why;

  // Within the limit: the parked keys are listed again and their markers delete them.
  ASSERT_TRUE(sides_["a"]->AddDeleteMarker("k6", {}).ok());
  const RunId again = NewRun("4");
  EXPECT_EQ(Work(again), RunProgress::kDone);
  EXPECT_EQ(KeysAtU(), (std::set<std::string>{"k0", "k2", "k5"}));
  auto done = store_->CountJobs(again);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->of(jobs::kReplicateDeletesKind).objects_total, 4u);
}

TEST_F(ReplicateDeletesTest, APercentageCountsTheSourceKeysThePassJudged) {
  ASSERT_EQ(Work(NewRun("")), RunProgress::kDone);
  ASSERT_TRUE(sides_["a"]->AddDeleteMarker("k2", {}).ok());
  ASSERT_TRUE(sides_["a"]->AddDeleteMarker("k5", {}).ok());
  // 2 deletes of 6 keys: 33%
  const RunId refused = NewRun("30%");
  EXPECT_EQ(Work(refused), RunProgress::kBlocked);
  EXPECT_EQ(KeysAtU().size(), 6u);
  auto counts = store_->CountJobs(refused);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->of(jobs::kDeleteScopeKind).objects_total, 6u);
  auto options = jobs::DecodeRunOptions(store_->GetRun(refused)->spec.options);
  ASSERT_TRUE(options.ok());
  auto why = jobs::StoppedByDeleteGuard(*options, *counts);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("2 deletes planned (33.3% of the 6 source objects in scope), over "
                      "--max-delete 30%"),
            std::string::npos)
      << *why;
  const RunId allowed = NewRun("34%");
  EXPECT_EQ(Work(allowed), RunProgress::kDone);
  EXPECT_EQ(KeysAtU(), (std::set<std::string>{"k0", "k1", "k3", "k4"}));
}

TEST_F(ReplicateDeletesTest, WithoutALimitMarkersDeleteAsTheyCome) {
  ASSERT_EQ(Work(NewRun("")), RunProgress::kDone);
  ASSERT_TRUE(sides_["a"]->AddDeleteMarker("k0", {}).ok());
  const RunId run = NewRun("");
  EXPECT_EQ(Work(run), RunProgress::kDone);
  EXPECT_EQ(KeysAtU().count("k0"), 0u);
  auto counts = store_->CountJobs(run);
  ASSERT_TRUE(counts.ok());
  EXPECT_EQ(counts->by_kind.count(jobs::kReplicateDeletesKind), 0u);  // nothing parked
}

}  // namespace
}  // namespace ferry::replicate
