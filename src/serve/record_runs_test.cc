// EventRecorder and the runs it records into, on SQLite and (built with FERRY_RECORD_PG) on
// the PostgreSQL of FERRY_TEST_PG_URL, each test in a schema of its own:
//   - two `ferry serve` on one store, a reload reaching one first: it abandons the run both
//     recorded into and starts another; the other serve's events go to the new run, never to
//     the ended one, and nothing can be claimed from the ended run;
//   - a bound on waiting event jobs per run: past it, events are left to the run's next scan
//     (counted), no job is added.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>

#include "jobs/job_store.h"
#include "obs/metrics.h"
#include "replicate/kinds/kinds.h"
#include "replicate/payload.h"
#include "serve/record.h"
#include "state/state.h"
#include "testing/fake_clock.h"

namespace ferry::serve {
namespace {

events::Event CreatedIn(const std::string& bucket, const std::string& key) {
  events::Event e;
  e.source = events::SourceKind::kRgw;
  e.kind = events::EventKind::kCreated;
  e.name = "ObjectCreated:Put";
  e.bucket = bucket;
  e.key = key;
  return e;
}

template <class T>
T RecordRunsValueOr(const Result<T>& r, T other) {
  return r.ok() ? *r : other;
}

class RecordRunsTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef FERRY_RECORD_PG
    const char* url = std::getenv("FERRY_TEST_PG_URL");
    ASSERT_NE(url, nullptr) << "FERRY_TEST_PG_URL is not set";
    auto admin = state::OpenPgSession(url, SystemClock::Default());
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    admin_ = std::move(*admin);
    schema_ = "ferry_record_" + std::to_string(std::random_device{}());
    ASSERT_TRUE(admin_
                    ->Transact(state::TxMode::kWrite,
                               [&](state::SqlTx& tx) {
                                 return tx.Exec("CREATE SCHEMA " + schema_).status();
                               })
                    .ok());
    const std::string base(url);
    url_ = base + (base.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + schema_;
#else
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-record-runs-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    url_ = (dir_ / "state.db").string();
#endif
    a_ = Open();
    b_ = Open();
    ASSERT_NE(a_, nullptr);
    ASSERT_NE(b_, nullptr);
  }
  void TearDown() override {
    a_.reset();
    b_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
    if (admin_ != nullptr) {
      EXPECT_TRUE(admin_
                      ->Transact(state::TxMode::kWrite,
                                 [&](state::SqlTx& tx) {
                                   return tx.Exec("DROP SCHEMA " + schema_ + " CASCADE").status();
                                 })
                      .ok());
    }
  }
  // A store of its own on the database: another serve process.
  std::unique_ptr<jobs::JobStore> Open() {
    auto s = jobs::OpenJobStore(url_);
    EXPECT_TRUE(s.ok()) << s.status().message();
    return s.ok() ? std::move(*s) : nullptr;
  }
  // A continuous run of ra:photos/ -> rb:copy/ with `options`, as ContinuousRun makes it.
  jobs::RunId ServedRun(jobs::JobStore& store, const std::string& options) {
    jobs::RunSpec spec{"ra:photos/", "rb:copy/", options};
    spec.continuous = true;
    spec.rescan_interval = std::chrono::hours(1);
    auto run = store.CreateRun(spec);
    EXPECT_TRUE(run.ok()) << run.status().ToString();
    return run.ok() ? *run : 0;
  }
  // The run's queued replicate-event jobs.
  uint64_t EventJobs(jobs::RunId run) {
    auto counts = a_->CountJobs(run);
    EXPECT_TRUE(counts.ok()) << counts.status().ToString();
    return counts.ok() ? counts->of(replicate::kReplicateEventKind).of(jobs::JobState::kQueued)
                       : 0;
  }
  static double Counter(const obs::Registry& registry, const std::string& name) {
    for (const auto& family : registry.Snapshot()) {
      if (family.name != name) continue;
      double sum = 0;
      for (const auto& sample : family.samples) sum += sample.value;
      return sum;
    }
    return 0;
  }

  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> admin_;
  std::string schema_;
  std::string url_;
  std::unique_ptr<jobs::JobStore> a_;  // serve A's store
  std::unique_ptr<jobs::JobStore> b_;  // serve B's store
};

// Two serves of ra:photos/ on one store; A reloads a changed config first (ContinuousRun:
// AbandonRun of the old run, CreateRun of a new one). B, not reloaded yet, still has the old
// run: its next events go to the new run, and B keeps recording there.
TEST_F(RecordRunsTest, EventsOfARunAnotherServeEndedGoToTheRunServingTheSourceNow) {
  const jobs::RunId old_run = ServedRun(*a_, "{\"v\":1}");
  obs::Registry registry;
  EventRecorder b(*b_, registry);
  b.SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = old_run}});
  ASSERT_EQ(RecordRunsValueOr(b.Record({CreatedIn("photos", "before")}), size_t{0}), 1u);
  // A's reload
  ASSERT_TRUE(a_->AbandonRun(old_run).ok());
  const jobs::RunId new_run = ServedRun(*a_, "{\"v\":2}");
  auto recorded = b.Record({CreatedIn("photos", "k1"), CreatedIn("photos", "k2")});
  ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
  EXPECT_EQ(*recorded, 2u);
  EXPECT_EQ(EventJobs(old_run), 0u) << "events recorded into an abandoned run";
  EXPECT_EQ(EventJobs(new_run), 2u);
  ASSERT_EQ(RecordRunsValueOr(b.Record({CreatedIn("photos", "k3")}), size_t{0}), 1u);
  EXPECT_EQ(EventJobs(new_run), 3u);
  // nothing to claim from the ended run, whoever serves it
  auto claimed = b_->Claim("b", std::chrono::seconds(30), 10, old_run);
  ASSERT_TRUE(claimed.ok());
  EXPECT_TRUE(claimed->empty());
  // and an ended run no run replaced: nothing recorded, the sender must deliver again
  ASSERT_TRUE(a_->AbandonRun(new_run).ok());
  auto refused = b.Record({CreatedIn("photos", "k4")});
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnavailable) << refused.status().ToString();
  EXPECT_EQ(Counter(registry, "ferry_events_recorded_total"), 4);
}

// Past max_waiting queued event jobs in a run, events are left to the run's next scan: counted,
// acknowledged (OK), no job added. The run's next scan (here: its next round's, queued and never
// started) starts after they were left.
TEST_F(RecordRunsTest, PastTheBoundEventsAreLeftToTheScan) {
  testing::FakeClock clock;
  const jobs::RunId run = ServedRun(*a_, "{}");
  jobs::JobSpec scan;
  scan.run = run;
  scan.kind = replicate::kReplicateScanKind;
  scan.payload = "{}";
  scan.not_before = clock.Now() + std::chrono::hours(1);
  ASSERT_TRUE(a_->Enqueue({scan}).ok());
  obs::Registry registry;
  EventRecorder recorder(*a_, registry, clock);
  recorder.SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = run}});
  recorder.SetMaxWaiting(5);
  // a burst of 20 new keys, 4 to a call
  size_t enqueued = 0;
  for (int call = 0; call < 5; ++call) {
    std::vector<events::Event> body;
    for (int i = 0; i < 4; ++i) {
      body.push_back(CreatedIn("photos", "k" + std::to_string(call * 4 + i)));
    }
    auto recorded = recorder.Record(body);
    ASSERT_TRUE(recorded.ok()) << recorded.status().ToString();
    enqueued += *recorded;
  }
  EXPECT_EQ(enqueued, 5u);
  EXPECT_EQ(EventJobs(run), 5u) << "no bound on waiting event jobs";
  EXPECT_EQ(Counter(registry, "ferry_events_left_to_scan_total"), 15);
  EXPECT_EQ(Counter(registry, "ferry_events_received_total"), 20);
  // the scan that covers them has not started yet
  auto scans = a_->ListJobs(run, jobs::JobState::kQueued, 100);
  ASSERT_TRUE(scans.ok());
  size_t waiting_scans = 0;
  for (const jobs::Job& j : *scans) {
    if (j.spec.kind == replicate::kReplicateScanKind && j.attempts == 0) ++waiting_scans;
  }
  EXPECT_EQ(waiting_scans, 1u);
  // Jobs done make room again, seen at the next count (a second later).
  auto claimed = a_->Claim("w", std::chrono::seconds(30), 3, run,
                           {.kinds = {replicate::kReplicateEventKind}, .region = ""});
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  for (const jobs::ClaimedJob& c : *claimed) ASSERT_TRUE(a_->Finish(c.lease, {}).ok());
  // not counted yet: the bound still holds
  EXPECT_EQ(RecordRunsValueOr(recorder.Record({CreatedIn("photos", "late1")}), size_t{9}), 0u);
  clock.Advance(std::chrono::seconds(1));
  std::vector<events::Event> more;
  for (int i = 0; i < 5; ++i) more.push_back(CreatedIn("photos", "more" + std::to_string(i)));
  EXPECT_EQ(RecordRunsValueOr(recorder.Record(more), size_t{0}), 3u);
  EXPECT_EQ(EventJobs(run), 5u);
  // 0: no bound
  recorder.SetMaxWaiting(0);
  EXPECT_EQ(RecordRunsValueOr(recorder.Record({CreatedIn("photos", "free")}), size_t{0}), 1u);
}

}  // namespace
}  // namespace ferry::serve
