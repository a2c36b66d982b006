// The replication event outbox (event_outbox.h) written by StatusStore and claimed by owners, on
// SQLite (unit) and, built with FERRY_EVENT_OUTBOX_PG, on the PostgreSQL of FERRY_TEST_PG_URL in
// a schema of its own (integration): the same tests on both databases.
#include "replicate/event_outbox.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "base/clock.h"
#include "replicate/status_store.h"
#include "state/state.h"

namespace ferry::replicate {
namespace {

constexpr ReplicationEventSet kAll{.failed = true, .missed_threshold = true,
                                   .after_threshold = true};

class EventOutboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
#ifdef FERRY_EVENT_OUTBOX_PG
    const char* url = std::getenv("FERRY_TEST_PG_URL");
    ASSERT_NE(url, nullptr) << "FERRY_TEST_PG_URL is not set";
    auto admin = state::OpenPgSession(url, clock_);
    ASSERT_TRUE(admin.ok()) << admin.status().message();
    admin_ = std::move(*admin);
    schema_ = "ferry_outbox_" + std::to_string(std::random_device{}());
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
           ("ferry-outbox-" + std::to_string(std::random_device{}()));
#endif
    auto session = OpenSession();
    ASSERT_TRUE(session.ok()) << session.status().message();
    session_ = std::move(*session);
    auto store = StatusStore::Open(*session_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(*store);
    outbox_ = std::make_unique<EventOutbox>(*session_);
    SetRecordedReplicationEvents(kAll);
  }
  void TearDown() override {
    SetRecordedReplicationEvents({});
    outbox_.reset();
    store_.reset();
    session_.reset();
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

  // A session of its own on the test's database (another process's, as far as locks go).
  Result<std::unique_ptr<state::SqlSession>> OpenSession() {
#ifdef FERRY_EVENT_OUTBOX_PG
    return state::OpenPgSession(url_, clock_);
#else
    return state::OpenSqliteSession((dir_ / "state.db").string());
#endif
  }

  static VersionStatus Row(std::string key, VersionState state) {
    VersionStatus s;
    s.source = "ra:src/";
    s.rule = "r1";
    s.destination = "rb:dst/";
    s.key = std::move(key);
    s.source_version = "v1";
    s.state = state;
    s.source_etag = "\"e1\"";
    s.size = 42;
    s.pending_since_ns = 1'000'000'000;
    s.updated_ns = 2'000'000'000;
    return s;
  }

  std::vector<OutboxEvent> ClaimAll(std::string_view owner = "o1") {
    auto claimed = outbox_->Claim(owner, 1000, 1, 2);
    EXPECT_TRUE(claimed.ok()) << claimed.status().message();
    return claimed.ok() ? *claimed : std::vector<OutboxEvent>{};
  }

  SystemClock clock_;
  std::filesystem::path dir_;
  std::string url_;  // PostgreSQL: the test's schema
  std::unique_ptr<state::SqlSession> admin_;
  std::string schema_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<StatusStore> store_;
  std::unique_ptr<EventOutbox> outbox_;
};

TEST_F(EventOutboxTest, ARowGoingFailedWritesOneRecordWithItsFields) {
  ASSERT_TRUE(store_->Record(Row("a b/é", VersionState::kPending)).ok());
  EXPECT_EQ(*outbox_->Pending(), 0);
  VersionStatus failed = Row("a b/é", VersionState::kFailed);
  failed.error_code = "kNotFound";
  failed.http_status = 404;
  failed.message = "PUT rb:dst/a: NoSuchBucket";
  failed.updated_ns = 3'000'000'000;
  ASSERT_TRUE(store_->Record(failed).ok());
  ASSERT_TRUE(store_->Record(failed).ok());  // still FAILED: no second record
  std::vector<OutboxEvent> events = ClaimAll();
  ASSERT_EQ(events.size(), 1u);
  const OutboxEvent& e = events[0];
  EXPECT_EQ(e.event, ReplicationEvent::kFailed);
  EXPECT_EQ(e.source, "ra:src/");
  EXPECT_EQ(e.rule, "r1");
  EXPECT_EQ(e.destination, "rb:dst/");
  EXPECT_EQ(e.key, "a b/é");
  EXPECT_EQ(e.source_version, "v1");
  EXPECT_EQ(e.source_etag, "\"e1\"");
  EXPECT_EQ(e.size, 42);
  EXPECT_EQ(e.error_code, "kNotFound");
  EXPECT_EQ(e.http_status, 404);
  EXPECT_EQ(e.message, "PUT rb:dst/a: NoSuchBucket");
  EXPECT_EQ(e.event_ns, 3'000'000'000);
  EXPECT_EQ(e.pending_since_ns, 1'000'000'000);
  EXPECT_EQ(e.attempts, 0);
  // A later attempt that fails again (PENDING, then FAILED) is one more record.
  ASSERT_TRUE(store_->Record(Row("a b/é", VersionState::kPending)).ok());
  ASSERT_TRUE(store_->Record(failed).ok());
  EXPECT_EQ(*outbox_->Pending(), 2);
}

TEST_F(EventOutboxTest, NothingIsWrittenForEventsNotRecorded) {
  SetRecordedReplicationEvents({.failed = false, .missed_threshold = true,
                                .after_threshold = true});
  ASSERT_TRUE(store_->Record(Row("k", VersionState::kFailed)).ok());
  SetRecordedReplicationEvents({});
  VersionStatus late = Row("l", VersionState::kCompleted);
  late.threshold_ns = 1;
  ASSERT_TRUE(store_->Record(late).ok());
  EXPECT_EQ(*outbox_->Pending(), 0);
}

TEST_F(EventOutboxTest, ACompletionAfterItsThresholdWritesOneRecord) {
  VersionStatus on_time = Row("on-time", VersionState::kCompleted);
  on_time.threshold_ns = 5'000'000'000;  // 1 s after the write: within
  ASSERT_TRUE(store_->Record(on_time).ok());
  VersionStatus late = Row("late", VersionState::kCompleted);
  late.threshold_ns = 500'000'000;  // 1 s after the write: past 0.5 s
  late.missed_threshold = true;
  ASSERT_TRUE(store_->Record(late).ok());
  ASSERT_TRUE(store_->Record(late).ok());  // recorded again COMPLETED: nothing new
  std::vector<OutboxEvent> events = ClaimAll();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].event, ReplicationEvent::kAfterThreshold);
  EXPECT_EQ(events[0].key, "late");
  EXPECT_EQ(events[0].threshold_ns, 500'000'000);
  EXPECT_EQ(events[0].event_ns, 2'000'000'000);
}

TEST_F(EventOutboxTest, MarkMissedThresholdWritesARecordPerFlaggedRowOnce) {
  for (const char* key : {"m1", "m2"}) {
    VersionStatus s = Row(key, VersionState::kPending);
    s.threshold_ns = 1'000'000'000;
    ASSERT_TRUE(store_->Record(s).ok());
  }
  VersionStatus none = Row("no-threshold", VersionState::kPending);
  ASSERT_TRUE(store_->Record(none).ok());
  auto flagged = store_->MarkMissedThreshold("", 5'000'000'000);
  ASSERT_TRUE(flagged.ok());
  ASSERT_EQ(flagged->size(), 1u);
  EXPECT_EQ((*flagged)[0].count, 2);
  ASSERT_TRUE(store_->MarkMissedThreshold("", 6'000'000'000).ok());  // flagged once
  std::vector<OutboxEvent> events = ClaimAll();
  ASSERT_EQ(events.size(), 2u);
  std::set<std::string> keys;
  for (const OutboxEvent& e : events) {
    EXPECT_EQ(e.event, ReplicationEvent::kMissedThreshold);
    EXPECT_EQ(e.event_ns, 5'000'000'000);
    keys.insert(e.key);
  }
  EXPECT_EQ(keys, (std::set<std::string>{"m1", "m2"}));
}

TEST_F(EventOutboxTest, ClaimLeasesRowsToOneOwnerUntilTheLeaseEnds) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->Record(Row("k" + std::to_string(i), VersionState::kFailed)).ok());
  }
  auto a = outbox_->Claim("a", 3, 100, 200);
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->size(), 3u);
  EXPECT_EQ((*a)[0].key, "k0");  // oldest first
  EXPECT_EQ((*a)[2].key, "k2");
  auto b = outbox_->Claim("b", 10, 150, 300);
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->size(), 2u);
  EXPECT_EQ((*b)[0].key, "k3");
  EXPECT_TRUE(outbox_->Claim("b", 10, 199, 300)->empty());  // a's lease runs to 200
  // Only the holder deletes: b cannot delete a's rows.
  std::vector<int64_t> a_ids{(*a)[0].id, (*a)[1].id, (*a)[2].id};
  EXPECT_EQ(*outbox_->Delete("b", a_ids), 0);
  // a's lease ran out: b takes them over; a's late delete then deletes nothing.
  auto taken = outbox_->Claim("b", 10, 200, 400);
  ASSERT_TRUE(taken.ok());
  EXPECT_EQ(taken->size(), 3u);
  EXPECT_EQ(*outbox_->Delete("a", a_ids), 0);
  EXPECT_EQ(*outbox_->Delete("b", a_ids), 3);
  EXPECT_EQ(*outbox_->Pending(), 2);
}

TEST_F(EventOutboxTest, ReleaseMakesRowsDueLaterWithOneMoreAttempt) {
  ASSERT_TRUE(store_->Record(Row("k", VersionState::kFailed)).ok());
  auto claimed = outbox_->Claim("a", 10, 100, 200);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 1u);
  std::vector<int64_t> ids{(*claimed)[0].id};
  ASSERT_TRUE(outbox_->Release("a", ids, 1000).ok());
  EXPECT_TRUE(outbox_->Claim("a", 10, 999, 2000)->empty());
  auto again = outbox_->Claim("a", 10, 1000, 2000);
  ASSERT_TRUE(again.ok());
  ASSERT_EQ(again->size(), 1u);
  EXPECT_EQ((*again)[0].attempts, 1);
}

TEST_F(EventOutboxTest, TrimKeepsTheNewestRows) {
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(store_->Record(Row("k" + std::to_string(i), VersionState::kFailed)).ok());
  }
  EXPECT_EQ(*outbox_->Trim(10), 0);
  EXPECT_EQ(*outbox_->Trim(3), 4);
  std::vector<OutboxEvent> left = ClaimAll();
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].key, "k4");
  EXPECT_EQ(left[2].key, "k6");
}

TEST_F(EventOutboxTest, ConcurrentClaimersNeverShareARow) {
  constexpr int kRows = 200;
  for (int i = 0; i < kRows; ++i) {
    ASSERT_TRUE(store_->Record(Row("k" + std::to_string(i), VersionState::kFailed)).ok());
  }
  // Four claimers, each on a session of its own (as several serves of one store are).
  std::vector<std::unique_ptr<state::SqlSession>> sessions;
  std::vector<std::unique_ptr<EventOutbox>> outboxes;
  for (int t = 0; t < 4; ++t) {
    auto session = OpenSession();
    ASSERT_TRUE(session.ok()) << session.status().message();
    sessions.push_back(std::move(*session));
    outboxes.push_back(std::make_unique<EventOutbox>(*sessions.back()));
  }
  std::mutex mu;
  std::multiset<int64_t> seen;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      const std::string owner = "o" + std::to_string(t);
      for (;;) {
        auto claimed = outboxes[t]->Claim(owner, 7, 100, 1'000'000);
        ASSERT_TRUE(claimed.ok()) << claimed.status().message();
        if (claimed->empty()) return;
        std::lock_guard lock(mu);
        for (const OutboxEvent& e : *claimed) seen.insert(e.id);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(std::set<int64_t>(seen.begin(), seen.end()).size(), static_cast<size_t>(kRows));
}

}  // namespace
}  // namespace ferry::replicate
