// ReplicationEventSender (replication_events.h) over an SQLite outbox, a FakeTransport and a
// FakeClock: batching, 2xx deletes, 5xx and transport failures keep the rows for a retry after a
// backoff, the outbox bound drops the oldest.
#include "serve/replication_events.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <thread>

#include <nlohmann/json.hpp>

#include "state/state.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"
#include "testing/test_executor.h"

namespace ferry::serve {
namespace {

using replicate::VersionState;
using replicate::VersionStatus;

testing::FakeReply Reply(int code) {
  testing::FakeReply r;
  r.status = code;
  return r;
}

class ReplicationEventSenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-events-" + std::to_string(std::random_device{}()));
    auto session = state::OpenSqliteSession((dir_ / "state.db").string());
    ASSERT_TRUE(session.ok()) << session.status().message();
    session_ = std::move(*session);
    auto store = replicate::StatusStore::Open(*session_);
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    outbox_ = std::make_unique<replicate::EventOutbox>(*session_);
    replicate::SetRecordedReplicationEvents(
        {.failed = true, .missed_threshold = true, .after_threshold = true});
  }
  void TearDown() override {
    replicate::SetRecordedReplicationEvents({});
    outbox_.reset();
    store_.reset();
    session_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Fail(int n) {
    for (int i = 0; i < n; ++i) {
      VersionStatus s;
      s.source = "ra:src/";
      s.rule = "r1";
      s.destination = "rb:dst/";
      s.key = "k" + std::to_string(next_++);
      s.source_version = "v";
      s.state = VersionState::kFailed;
      s.error_code = "kUnavailable";
      s.updated_ns = 5;
      ASSERT_TRUE(store_->Record(s).ok());
    }
  }

  std::unique_ptr<ReplicationEventSender> Sender(int batch = 100, int64_t max_pending = 1000,
                                                 transfer::Executor* executor = nullptr) {
    ReplicationEventsOptions o;
    o.url = "https://hooks.example/ferry";
    o.token = "sekret";
    o.owner = "me";
    o.batch = batch;
    o.max_pending = max_pending;
    return std::make_unique<ReplicationEventSender>(*outbox_, transport_, clock_, registry_,
                                                    executor, o);
  }

  // A counter's value: `event` "" for one without labels.
  uint64_t Counter(const char* name, std::string_view event = "") {
    if (event.empty()) return registry_.AddCounter(name, "").Get().value();
    return registry_.AddCounter(name, "", {"event"}).WithLabels({event}).value();
  }

  std::filesystem::path dir_;
  std::unique_ptr<state::SqlSession> session_;
  std::unique_ptr<replicate::StatusStore> store_;
  std::unique_ptr<replicate::EventOutbox> outbox_;
  testing::FakeTransport transport_;
  testing::FakeClock clock_;
  obs::Registry registry_;
  int next_ = 0;
};

TEST_F(ReplicationEventSenderTest, PostsBatchesAndDeletesWhatWasAcknowledged) {
  Fail(250);
  auto sender = Sender(100);
  for (int i = 0; i < 3; ++i) transport_.Push(testing::FakeReply::Ok());
  std::vector<int64_t> sent;
  for (int i = 0; i < 3; ++i) {
    auto round = sender->DeliverOnce({});
    ASSERT_TRUE(round.ok()) << round.status().message();
    sent.push_back(round->sent);
  }
  EXPECT_EQ(sent, (std::vector<int64_t>{100, 100, 50}));
  EXPECT_EQ(*outbox_->Pending(), 0);
  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].url, "https://hooks.example/ferry");
  EXPECT_EQ(requests[0].headers.Get("Authorization"), "Bearer sekret");
  EXPECT_EQ(requests[0].headers.Get("Content-Type"), "application/json");
  const nlohmann::json first = nlohmann::json::parse(requests[0].body);
  ASSERT_EQ(first["Records"].size(), 100u);
  EXPECT_EQ(first["Records"][0]["s3"]["object"]["key"], "k0");
  EXPECT_EQ(nlohmann::json::parse(requests[2].body)["Records"][49]["s3"]["object"]["key"],
            "k249");
  EXPECT_EQ(Counter("ferry_replication_events_sent_total", "failed"), 250u);
  // Nothing left: no request.
  auto idle = sender->DeliverOnce({});
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->sent, 0);
  EXPECT_EQ(transport_.request_count(), 3u);
}

TEST_F(ReplicationEventSenderTest, FailuresKeepTheRowsUntilABackoffLater) {
  Fail(3);
  auto sender = Sender();
  transport_.Push(Reply(503));
  auto round = sender->DeliverOnce({});
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->failed, 3);
  EXPECT_EQ(*outbox_->Pending(), 3);
  EXPECT_EQ(Counter("ferry_replication_events_failed_total", "failed"), 3u);
  // Not due before its backoff (at least half the initial delay, 0.5 s): no request.
  round = sender->DeliverOnce({});
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(transport_.request_count(), 1u);
  // A transport failure and a 4xx keep them too; each try waits longer at most.
  clock_.Advance(std::chrono::seconds(2));
  transport_.Push(testing::FakeReply::NetworkError(Status::Unavailable("connection refused")));
  ASSERT_TRUE(sender->DeliverOnce({}).ok());
  EXPECT_EQ(transport_.request_count(), 2u);
  clock_.Advance(std::chrono::seconds(5));
  transport_.Push(Reply(400));
  ASSERT_TRUE(sender->DeliverOnce({}).ok());
  EXPECT_EQ(transport_.request_count(), 3u);
  EXPECT_EQ(*outbox_->Pending(), 3);
  auto claimed = outbox_->Claim("peek", 10, INT64_MAX / 2, INT64_MAX / 2);
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 3u);
  EXPECT_EQ((*claimed)[0].attempts, 3);
  ASSERT_TRUE(outbox_->Release("peek", std::vector<int64_t>{(*claimed)[0].id, (*claimed)[1].id,
                                                            (*claimed)[2].id},
                               0)
                  .ok());
  // Then the webhook answers 2xx: delivered, deleted.
  transport_.Push(Reply(204));
  round = sender->DeliverOnce({});
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->sent, 3);
  EXPECT_EQ(*outbox_->Pending(), 0);
}

TEST_F(ReplicationEventSenderTest, AnotherOwnersLeasedRowsAreNotSent) {
  Fail(2);
  ASSERT_EQ(outbox_->Claim("other", 1, 0, INT64_MAX / 2)->size(), 1u);
  auto sender = Sender();
  transport_.Push(testing::FakeReply::Ok());
  auto round = sender->DeliverOnce({});
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->sent, 1);
  EXPECT_EQ(nlohmann::json::parse(transport_.requests()[0].body)["Records"][0]["s3"]["object"]
                                                                           ["key"],
            "k1");
}

TEST_F(ReplicationEventSenderTest, AFullOutboxDropsTheOldestAndCountsThem) {
  Fail(12);
  auto sender = Sender(100, 5);
  transport_.Push(testing::FakeReply::Ok());
  auto round = sender->DeliverOnce({});
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->dropped, 7);
  EXPECT_EQ(round->sent, 5);
  EXPECT_EQ(Counter("ferry_replication_events_dropped_total"), 7u);
  EXPECT_EQ(nlohmann::json::parse(transport_.requests()[0].body)["Records"][0]["s3"]["object"]
                                                                           ["key"],
            "k7");
  EXPECT_EQ(registry_.AddGauge("ferry_replication_events_pending", "").Get().value(), 0);
}

TEST(WebhookUrlForLogTest, HidesUserInfoAndQuery) {
  EXPECT_EQ(WebhookUrlForLog("https://hooks.example/ferry"), "https://hooks.example/ferry");
  EXPECT_EQ(WebhookUrlForLog("https://u:pw@hooks.example:8443/a/b?token=x&y=1"),
            "https://hooks.example:8443/a/b?...");
  EXPECT_EQ(WebhookUrlForLog("http://h?k=v"), "http://h?...");
  EXPECT_EQ(WebhookUrlForLog("http://h:1"), "http://h:1");
}

TEST_F(ReplicationEventSenderTest, PostsOnAWorkerOfTheProcesssExecutor) {
  Fail(1);
  auto sender = Sender(100, 1000, &testing::TestExecutor());
  std::thread::id posted_on;
  transport_.SetHandler([&](const http::HttpRequest&) {
    posted_on = std::this_thread::get_id();
    return testing::FakeReply::Ok();
  });
  auto round = sender->DeliverOnce({});
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->sent, 1);
  EXPECT_NE(posted_on, std::thread::id());
  EXPECT_NE(posted_on, std::this_thread::get_id());
}

}  // namespace
}  // namespace ferry::serve
