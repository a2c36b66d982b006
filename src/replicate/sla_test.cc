// The SLA metrics of replication (sla.h) as passes over versioned MemoryBackends and a SQLite
// status store feed them, on a FakeClock: latency buckets, failures by reason, pending gauges,
// and the threshold counters.
#include "replicate/sla.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "replicate/pass.h"
#include "state/state.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"

namespace ferry::replicate {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using storage::MemoryBackend;

class SlaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-sla-" + std::to_string(std::random_device{}()));
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
    ASSERT_TRUE(session.ok());
    session_ = std::move(*session);
    auto store = StatusStore::Open(*session_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    for (const auto& [m, name] : {std::pair{&a_, "a"}, std::pair{&b_, "b"}}) {
      MemoryBackend::Options o;
      o.clock = &clock_;
      o.versioned = true;
      o.name = name;
      o.endpoint = name;
      *m = std::make_unique<MemoryBackend>(o);
    }
    rules_.rules.push_back(Rule{});
    rules_.rules[0].id = "r";
    rules_.rules[0].destinations.push_back({"b", "", {}, ""});
  }
  void TearDown() override {
    store_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A version of `key` written now.
  void Write(std::string_view key, std::string_view data) {
    storage::WriteSpec spec;
    spec.size = data.size();
    std::vector<std::byte> bytes(data.size());
    for (size_t i = 0; i < data.size(); ++i) bytes[i] = static_cast<std::byte>(data[i]);
    ASSERT_TRUE(a_->Put(key, bytes, spec, {}).ok());
  }

  // What a pass did.
  struct Done {
    uint64_t replicated = 0;
    uint64_t failed = 0;
  };
  Done Pass(bool scan_repairs = false) {
    PassOptions o;
    o.scan_repairs = scan_repairs;
    o.source_name = "a";
    o.source = a_.get();
    o.destinations["b"] = b_.get();
    o.rules = &rules_;
    o.store = store_.get();
    o.clock = &clock_;
    transfer::Executor keys_executor(transfer::ExecutorOptions{.concurrency = 2});
    o.executor = &keys_executor;  // 2 keys at once
    o.metrics = &registry_;
    PassStats stats;
    Status s = RunPass(o, stats, {});
    EXPECT_TRUE(s.ok()) << s.message();
    return {stats.replicated.load(), stats.failed.load()};
  }

  obs::Histogram::Snapshot Latency() {
    return registry_.AddHistogram("ferry_replication_latency_seconds", "", {"rule", "destination"},
                                  SlaLatencyBuckets())
        .WithLabels({"r", "b"})
        .Read();
  }
  // The cumulative count of the latency bucket whose bound is `le`.
  uint64_t Bucket(double le) {
    const obs::Histogram::Snapshot h = Latency();
    for (size_t i = 0; i < h.bounds.size(); ++i) {
      if (h.bounds[i] == le) return h.cumulative[i];
    }
    ADD_FAILURE() << "no bucket " << le;
    return 0;
  }
  double Gauge(std::string_view name) {
    return registry_.AddGauge(name, "", {"rule", "destination"}).WithLabels({"r", "b"}).value();
  }
  uint64_t Counter(std::string_view name) {
    return registry_.AddCounter(name, "", {"rule", "destination"}).WithLabels({"r", "b"}).value();
  }

  testing::FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> store_;
  std::unique_ptr<MemoryBackend> a_, b_;
  RuleSet rules_;
  obs::Registry registry_;
};

TEST_F(SlaTest, ARepairScanCountsWhatNoEventBroughtButNotTheBackfill) {
  auto repaired = [&](std::string_view reason) {
    return registry_
        .AddCounter("ferry_replication_scan_repaired_total", "", {"rule", "destination", "reason"})
        .WithLabels({"r", "b", std::string(reason)})
        .value();
  };
  // Written before the rule was first seen: the backfill, not a repair.
  Write("old", "1");
  clock_.Advance(seconds(1));
  EXPECT_EQ(Pass(true).replicated, 1u);
  EXPECT_EQ(repaired("missed"), 0u);
  // Written since: an event should have brought them. A pass that is not a repair scan (a
  // `ferry replicate` pass, an event's job) counts nothing.
  clock_.Advance(seconds(1));
  Write("k", "2");
  Write("j", "3");
  clock_.Advance(seconds(1));
  EXPECT_EQ(Pass(false).replicated, 2u);
  EXPECT_EQ(repaired("missed"), 0u);
  Write("k", "4");
  Write("i", "5");
  clock_.Advance(seconds(1));
  EXPECT_EQ(Pass(true).replicated, 2u);
  EXPECT_EQ(repaired("missed"), 2u);
  // A write that failed, repaired by the next scan: "failed".
  Write("h", "6");
  clock_.Advance(seconds(1));
  b_->FailNext(MemoryBackend::kPut, 1, Status::Unavailable("reset by test"));
  EXPECT_EQ(Pass(true).failed, 1u);
  EXPECT_EQ(Pass(true).replicated, 1u);
  EXPECT_EQ(repaired("failed"), 1u);
  EXPECT_EQ(repaired("missed"), 2u);
  // Nothing left: a scan over replicated keys repairs nothing.
  EXPECT_EQ(Pass(true).replicated, 0u);
  EXPECT_EQ(repaired("missed") + repaired("failed") + repaired("interrupted"), 3u);
}

TEST(SlaNamesTest, FailureReasonIsTheErrorCodeInSnakeCase) {
  EXPECT_EQ(FailureReason("kPermissionDenied"), "permission_denied");
  EXPECT_EQ(FailureReason(ErrorCodeName(ErrorCode::kUnavailable)), "unavailable");
  EXPECT_EQ(FailureReason("kNotFound"), "not_found");
  EXPECT_EQ(FailureReason("kDataLoss"), "data_loss");
  EXPECT_EQ(FailureReason("kFailedPrecondition"), "failed_precondition");
  EXPECT_EQ(FailureReason(""), "unknown");
}

TEST(SlaNamesTest, LatencyBucketsHoldS3sFifteenMinutes) {
  const std::vector<double> b = SlaLatencyBuckets();
  EXPECT_EQ(b.front(), 0.1);
  EXPECT_EQ(b.back(), 3600);
  EXPECT_NE(std::find(b.begin(), b.end(), 900.0), b.end());
  EXPECT_TRUE(std::is_sorted(b.begin(), b.end()));
}

TEST_F(SlaTest, LatencyIsFromTheWriteAtTheSourceToTheReplica) {
  Write("k", "one");
  clock_.Advance(seconds(40));
  EXPECT_EQ(Pass().replicated, 1u);
  EXPECT_EQ(Latency().count, 1u);
  EXPECT_EQ(Bucket(30), 0u);
  EXPECT_EQ(Bucket(60), 1u);
  EXPECT_DOUBLE_EQ(Latency().sum, 40);
  Write("k", "two");
  Write("j", "three");
  clock_.Advance(seconds(3));
  Pass();
  EXPECT_EQ(Latency().count, 3u);
  EXPECT_EQ(Bucket(2.5), 0u);
  EXPECT_EQ(Bucket(5), 2u);
  EXPECT_EQ(Bucket(60), 3u);
  // Nothing pending: the gauges say 0; no threshold, no threshold series.
  EXPECT_EQ(Gauge("ferry_replication_operations_pending"), 0);
  EXPECT_EQ(Gauge("ferry_replication_bytes_pending"), 0);
  EXPECT_EQ(Gauge("ferry_replication_oldest_pending_seconds"), 0);
  EXPECT_EQ(registry_.RenderPrometheus().find("ferry_replication_threshold_seconds{"),
            std::string::npos);
}

TEST_F(SlaTest, AFailureCountsItsReasonAndStaysPending) {
  Write("k", "12345");
  clock_.Advance(seconds(90));
  b_->FailNext(MemoryBackend::kPut, 1, Status::PermissionDenied("denied by test"));
  EXPECT_EQ(Pass().failed, 1u);
  auto failed = registry_.AddCounter("ferry_replication_operations_failed_total", "",
                                     {"rule", "destination", "reason"});
  EXPECT_EQ(failed.WithLabels({"r", "b", "permission_denied"}).value(), 1u);
  EXPECT_EQ(Latency().count, 0u);
  EXPECT_EQ(Gauge("ferry_replication_operations_pending"), 1);
  EXPECT_EQ(Gauge("ferry_replication_bytes_pending"), 5);
  EXPECT_EQ(Gauge("ferry_replication_oldest_pending_seconds"), 90);
  // Still failing later: the age grows from the write, not from the first failure.
  clock_.Advance(seconds(60));
  b_->FailNext(MemoryBackend::kPut, 1, Status::Unavailable("reset by test"));
  Pass();
  EXPECT_EQ(failed.WithLabels({"r", "b", "unavailable"}).value(), 1u);
  EXPECT_GE(Gauge("ferry_replication_oldest_pending_seconds"), 150);
  // Replicated at last: nothing pending, its latency from the write.
  clock_.Advance(seconds(60));
  Pass();
  EXPECT_EQ(Gauge("ferry_replication_operations_pending"), 0);
  EXPECT_EQ(Gauge("ferry_replication_bytes_pending"), 0);
  EXPECT_EQ(Gauge("ferry_replication_oldest_pending_seconds"), 0);
  EXPECT_EQ(Latency().count, 1u);
  EXPECT_EQ(Bucket(120), 0u);
  EXPECT_EQ(Bucket(300), 1u);
}

TEST_F(SlaTest, AThresholdCrossingCountsOnceAndLateCompletionsCountAfterIt) {
  rules_.rules[0].replication_time = minutes(15);
  Write("old", "written before the rule was first seen");
  clock_.Advance(seconds(1));
  Pass();  // the rule is first seen now: "old" is held to no threshold
  EXPECT_EQ(Gauge("ferry_replication_threshold_seconds"), 900);
  EXPECT_EQ(Gauge("ferry_replication_within_threshold_ratio"), 1);  // none yet
  EXPECT_EQ(Counter("ferry_replication_replicated_within_threshold_total"), 0u);
  EXPECT_EQ(Latency().count, 1u);

  clock_.Advance(seconds(1));
  Write("k", "late");
  clock_.Advance(minutes(1));
  b_->FailNext(MemoryBackend::kPut, 1, Status::Unavailable("reset by test"));
  Pass();
  EXPECT_EQ(Counter("ferry_replication_missed_threshold_total"), 0u);  // pending 1 minute
  clock_.Advance(minutes(20));
  StatusStore& store = *store_;
  SlaMetrics sla(registry_, "a", &rules_);
  ASSERT_TRUE(sla.Refresh(store, clock_).ok());
  EXPECT_EQ(Counter("ferry_replication_missed_threshold_total"), 1u);
  ASSERT_TRUE(sla.Refresh(store, clock_).ok());
  b_->FailNext(MemoryBackend::kPut, 1, Status::Unavailable("reset by test"));
  Pass();  // refreshes at its start and end: still counted once
  EXPECT_EQ(Counter("ferry_replication_missed_threshold_total"), 1u);
  EXPECT_GT(Gauge("ferry_replication_oldest_pending_seconds"), 900);

  Pass();  // written 21 minutes after its write
  EXPECT_EQ(Counter("ferry_replication_replicated_after_threshold_total"), 1u);
  EXPECT_EQ(Gauge("ferry_replication_within_threshold_ratio"), 0);
  Write("k", "on time");
  clock_.Advance(seconds(20));
  Pass();
  EXPECT_EQ(Counter("ferry_replication_replicated_within_threshold_total"), 1u);
  EXPECT_EQ(Counter("ferry_replication_replicated_after_threshold_total"), 1u);
  EXPECT_EQ(Gauge("ferry_replication_within_threshold_ratio"), 0.5);
  EXPECT_EQ(Counter("ferry_replication_missed_threshold_total"), 1u);
  EXPECT_EQ(Latency().count, 3u);

  // The store agrees: one version missed it (pending past it, then late), one within.
  auto totals = store_->SlaTotalsOf("a", false);
  ASSERT_TRUE(totals.ok());
  ASSERT_EQ(totals->size(), 1u);
  EXPECT_EQ((*totals)[0].missed_threshold, 1);
  EXPECT_EQ((*totals)[0].completed_under_threshold, 2);
  EXPECT_EQ((*totals)[0].completed_within_threshold, 1);
  EXPECT_EQ((*totals)[0].threshold_ns, 900'000'000'000);
}

TEST_F(SlaTest, RefreshSumsEverySourceAndZeroesWhatIsNoLongerPending) {
  auto record = [&](std::string source, std::string key, VersionState state, int64_t size) {
    VersionStatus r;
    r.source = std::move(source);
    r.rule = "r";
    r.destination = "b";
    r.key = std::move(key);
    r.source_version = "v";
    r.state = state;
    r.size = size;
    r.pending_since_ns = 1;
    ASSERT_TRUE(store_->Record(r).ok());
  };
  record("a", "k", VersionState::kFailed, 10);
  record("c", "k", VersionState::kPending, 5);
  SlaMetrics sla(registry_);  // no rules: only what the store says
  ASSERT_TRUE(sla.Refresh(*store_, clock_).ok());
  EXPECT_EQ(Gauge("ferry_replication_operations_pending"), 2);
  EXPECT_EQ(Gauge("ferry_replication_bytes_pending"), 15);
  record("a", "k", VersionState::kCompleted, 10);
  record("c", "k", VersionState::kCompleted, 5);
  ASSERT_TRUE(sla.Refresh(*store_, clock_).ok());
  EXPECT_EQ(Gauge("ferry_replication_operations_pending"), 0);
  EXPECT_EQ(Gauge("ferry_replication_bytes_pending"), 0);
}

}  // namespace
}  // namespace ferry::replicate
