// SqsPoller over a scripted SQS (fake transport) and a real SQLite job store: what is recorded
// is deleted after it is recorded, and only then; test events are deleted as ignored; a refused
// message stays in the queue until its receive count says where it goes (the queue's
// RedrivePolicy, or ferry's own dead_letter_queue_url); a store that cannot record deletes
// nothing; failures back off on the clock; every outcome is counted.
#include "serve/sqs_poller.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "jobs/sqlite/sqlite_job_store.h"
#include "replicate/payload.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"
#include "testing/wait_for.h"

namespace ferry::serve {
namespace {

using nlohmann::json;
using testing::FakeReply;

constexpr char kQueue[] = "http://sqs.test/123456789012/events";
constexpr char kDlq[] = "http://sqs.test/123456789012/refused";

// An S3 notification as AWS (and moto) send it: the key URL-encoded as a form.
std::string AwsBody(const std::string& bucket, const std::string& encoded_key,
                    const std::string& name = "ObjectCreated:Put") {
  return json{{"Records",
               {{{"eventVersion", "2.1"},
                 {"eventSource", "aws:s3"},
                 {"awsRegion", "us-east-1"},
                 {"eventTime", "2026-11-25T10:00:00.123456"},
                 {"eventName", name},
                 {"s3",
                  {{"s3SchemaVersion", "1.0"},
                   {"bucket", {{"name", bucket}, {"arn", "arn:aws:s3:::" + bucket}}},
                   {"object", {{"key", encoded_key}, {"size", 3}, {"eTag", "e"}}}}}}}}}
      .dump();
}
std::string TestEventBody() {
  return R"({"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": "2026-11-25T10:00:00",)"
         R"( "Bucket": "photos"})";
}
// An SNS Notification envelope around `message` (its signature is not checked for SQS).
std::string SnsBody(const std::string& message) {
  return json{{"Type", "Notification"},
              {"MessageId", "sns-1"},
              {"TopicArn", "arn:aws:sns:us-east-1:123456789012:t"},
              {"Message", message},
              {"Timestamp", "2026-11-25T10:00:00.000Z"},
              {"SignatureVersion", "1"},
              {"Signature", "bm90IGNoZWNrZWQ="},
              {"SigningCertURL", "https://sns.us-east-1.amazonaws.com/c.pem"}}
      .dump();
}

struct Msg {
  std::string id;
  std::string body;
  int receive_count = 1;
};
FakeReply Received(const std::vector<Msg>& messages) {
  json list = json::array();
  for (const Msg& m : messages) {
    list.push_back({{"MessageId", m.id},
                    {"ReceiptHandle", "rh-" + m.id},
                    {"Body", m.body},
                    {"Attributes", {{"ApproximateReceiveCount", std::to_string(m.receive_count)}}}});
  }
  return FakeReply::Ok(messages.empty() ? "{}" : json{{"Messages", list}}.dump());
}
FakeReply Json(const std::string& body) { return FakeReply::Ok(body); }

class SqsPollerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-sqs-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto run = store_->CreateRun({"ra:photos/", "rb:copy/", "{}"});
    ASSERT_TRUE(run.ok());
    run_ = *run;
    recorder_ = std::make_unique<EventRecorder>(*store_, registry_);
    recorder_->SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = run_}});
  }
  void TearDown() override {
    poller_.reset();
    recorder_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // A poller of kQueue; with `dlq`, ferry moves refused messages there at `max_receives`.
  void MakePoller(const std::string& dlq = "", int max_receives = 5) {
    SqsPollerOptions o;
    o.queue_url = kQueue;
    o.dead_letter_queue_url = dlq;
    o.wait_seconds = 20;
    o.max_receives = max_receives;
    o.clock = &clock_;
    o.registry = &registry_;
    poller_ = std::make_unique<SqsPoller>(
        sqs::SqsEndpoint{.url = "http://sqs.test",
                    .region = "us-east-1",
                    .credentials = std::make_shared<s3::StaticCredentials>(s3::Credentials{"k", "s", ""}),
                    .tls = {}},
        http_, *recorder_, o);
  }
  // Check against a queue whose RedrivePolicy says `max_receive_count` (0: none).
  Status CheckWithRedrive(int max_receive_count) {
    if (max_receive_count > 0) {
      const std::string policy = json{{"deadLetterTargetArn", "arn:aws:sqs:us-east-1:1:dlq"},
                                      {"maxReceiveCount", max_receive_count}}
                                     .dump();
      http_.Push(Json(json{{"Attributes", {{"RedrivePolicy", policy}}}}.dump()));
    } else {
      http_.Push(Json("{}"));
    }
    return poller_->Check({});
  }

  std::vector<std::string> QueuedKeys() {
    auto jobs = store_->ListJobs(run_, jobs::JobState::kQueued, 100);
    EXPECT_TRUE(jobs.ok());
    std::vector<std::string> keys;
    for (const jobs::Job& j : *jobs) {
      auto w = replicate::DecodeEventWork(j.spec.payload);
      EXPECT_TRUE(w.ok());
      if (w.ok()) keys.push_back(w->key);
    }
    return keys;
  }
  // The actions sent since the request number `from`.
  std::vector<std::string> Actions(size_t from = 0) {
    std::vector<std::string> out;
    const auto sent = http_.requests();
    for (size_t i = from; i < sent.size(); ++i) {
      out.push_back(sent[i].headers.Get("X-Amz-Target").substr(10));  // "AmazonSQS."
    }
    return out;
  }
  json LastBody() { return json::parse(http_.requests().back().body); }
  std::string Metrics() { return registry_.RenderPrometheus(); }
  bool Has(const std::string& line) { return Metrics().find(line + "\n") != std::string::npos; }

  testing::FakeClock clock_;
  testing::FakeTransport http_;
  std::filesystem::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  jobs::RunId run_ = 0;
  obs::Registry registry_;
  std::unique_ptr<EventRecorder> recorder_;
  std::unique_ptr<SqsPoller> poller_;
};

TEST_F(SqsPollerTest, RecordsThenDeletesWhatItRecorded) {
  MakePoller();
  ASSERT_TRUE(CheckWithRedrive(3).ok());
  http_.Push(Received({{"m1", AwsBody("photos", "a+b%2Bc.txt")},
                       {"m2", SnsBody(AwsBody("photos", "dir/x", "ObjectRemoved:Delete"))},
                       {"m3", TestEventBody()},
                       {"m4", AwsBody("elsewhere", "k")}}));
  http_.Push(Json(R"({"Successful":[{"Id":"m1"},{"Id":"m2"},{"Id":"m3"},{"Id":"m4"}]})"));
  ASSERT_TRUE(poller_->PollOnce({}).ok());
  // AWS's form encoding decoded; the SNS envelope trusted (the queue is authenticated)
  EXPECT_EQ(QueuedKeys(), (std::vector<std::string>{"a b+c.txt", "dir/x"}));
  EXPECT_EQ(Actions(1), (std::vector<std::string>{"ReceiveMessage", "DeleteMessageBatch"}));
  const json deleted = LastBody();
  EXPECT_EQ(deleted["QueueUrl"], kQueue);
  ASSERT_EQ(deleted["Entries"].size(), 4u);
  std::set<std::string> handles;
  for (const json& e : deleted["Entries"]) handles.insert(e["ReceiptHandle"].get<std::string>());
  EXPECT_EQ(handles, (std::set<std::string>{"rh-m1", "rh-m2", "rh-m3", "rh-m4"}));
  EXPECT_TRUE(Has(R"(ferry_sqs_messages_total{queue="events",outcome="recorded"} 2)")) << Metrics();
  EXPECT_TRUE(Has(R"(ferry_sqs_messages_total{queue="events",outcome="ignored"} 2)")) << Metrics();
  EXPECT_TRUE(Has(R"(ferry_events_ignored_total{reason="test_event"} 1)")) << Metrics();
  EXPECT_TRUE(Has(R"(ferry_events_ignored_total{reason="no_source"} 1)")) << Metrics();
  EXPECT_TRUE(Has(R"(ferry_events_received_total{store="aws",kind="created"} 2)")) << Metrics();
  EXPECT_TRUE(Has("ferry_events_recorded_total 2")) << Metrics();
  // nothing came: nothing to delete
  http_.Push(Received({}));
  const size_t before = http_.request_count();
  auto polled = poller_->PollOnce({});
  ASSERT_TRUE(polled.ok());
  EXPECT_EQ(*polled, 0u);
  EXPECT_EQ(Actions(before), std::vector<std::string>{"ReceiveMessage"});
  const json receive = json::parse(http_.requests().back().body);
  EXPECT_EQ(receive["WaitTimeSeconds"], 20);
  EXPECT_EQ(receive["MaxNumberOfMessages"], 10);
}

TEST_F(SqsPollerTest, AStoreThatCannotRecordDeletesNothingOfTheRecords) {
  recorder_->SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = 9999}});
  MakePoller();
  ASSERT_TRUE(CheckWithRedrive(3).ok());
  http_.Push(Received({{"m1", AwsBody("photos", "k")}, {"m2", TestEventBody()}}));
  http_.Push(Json(R"({"Successful":[{"Id":"m2"}]})"));
  EXPECT_FALSE(poller_->PollOnce({}).ok());
  // the test event is deleted, the record stays for the next delivery
  const json deleted = LastBody();
  ASSERT_EQ(deleted["Entries"].size(), 1u);
  EXPECT_EQ(deleted["Entries"][0]["ReceiptHandle"], "rh-m2");
  EXPECT_TRUE(Has(R"(ferry_events_refused_total{reason="store_unavailable"} 1)")) << Metrics();
  EXPECT_EQ(Metrics().find("outcome=\"recorded\""), std::string::npos) << Metrics();
  EXPECT_EQ(Metrics().find("ferry_events_received_total{"), std::string::npos)
      << "nothing counted as received before it is recorded: " << Metrics();
}

TEST_F(SqsPollerTest, ARefusedMessageStaysUntilTheQueuesRedrivePolicyMovesIt) {
  MakePoller();
  ASSERT_TRUE(CheckWithRedrive(3).ok());
  http_.Push(Received({{"bad", "{not json", 1}}));
  ASSERT_TRUE(poller_->PollOnce({}).ok());
  http_.Push(Received({{"bad", "{not json", 3}}));
  ASSERT_TRUE(poller_->PollOnce({}).ok());
  EXPECT_EQ(Actions(1), (std::vector<std::string>{"ReceiveMessage", "ReceiveMessage"}))
      << "never deleted: SQS moves it after its third delivery";
  EXPECT_TRUE(Has(R"(ferry_events_refused_total{reason="malformed_json"} 2)")) << Metrics();
  EXPECT_TRUE(Has(R"(ferry_sqs_messages_total{queue="events",outcome="refused"} 1)")) << Metrics();
  EXPECT_TRUE(Has(R"(ferry_sqs_messages_total{queue="events",outcome="dead_lettered"} 1)"))
      << Metrics();
}

TEST_F(SqsPollerTest, WithADeadLetterQueueUrlFerryMovesARefusedMessageItself) {
  MakePoller(kDlq, 2);
  http_.Push(Json("{}"));  // the queue: no RedrivePolicy
  http_.Push(Json(R"({"Attributes":{"QueueArn":"arn:aws:sqs:us-east-1:123456789012:refused"}})"));
  ASSERT_TRUE(poller_->Check({}).ok());
  http_.Push(Received({{"bad", R"({"Records":[{"eventVersion":"3.0"}]})", 1}}));
  ASSERT_TRUE(poller_->PollOnce({}).ok());
  EXPECT_EQ(Actions(2), std::vector<std::string>{"ReceiveMessage"});
  const size_t before = http_.request_count();
  http_.Push(Received({{"bad", R"({"Records":[{"eventVersion":"3.0"}]})", 2}}));
  http_.Push(Json(R"({"MessageId":"new","MD5OfMessageBody":"x"})"));
  http_.Push(Json(R"({"Successful":[{"Id":"bad"}]})"));
  ASSERT_TRUE(poller_->PollOnce({}).ok());
  EXPECT_EQ(Actions(before),
            (std::vector<std::string>{"ReceiveMessage", "SendMessage", "DeleteMessageBatch"}));
  const json sent = json::parse(http_.requests()[before + 1].body);
  EXPECT_EQ(sent["QueueUrl"], kDlq);
  EXPECT_EQ(sent["MessageBody"], R"({"Records":[{"eventVersion":"3.0"}]})");
  EXPECT_EQ(sent["MessageAttributes"]["ferry-source-queue"]["StringValue"], kQueue);
  EXPECT_EQ(sent["MessageAttributes"]["ferry-refused"]["StringValue"].get<std::string>().rfind(
                "unknown_version: ", 0),
            0u);
  EXPECT_EQ(LastBody()["Entries"][0]["ReceiptHandle"], "rh-bad");
  EXPECT_TRUE(Has(R"(ferry_sqs_messages_total{queue="events",outcome="refused"} 1)")) << Metrics();
  EXPECT_TRUE(Has(R"(ferry_sqs_messages_total{queue="events",outcome="dead_lettered"} 1)"))
      << Metrics();
  // a dead-letter queue that refuses the send: the message stays where it is
  const size_t again = http_.request_count();
  http_.Push(Received({{"bad2", "[]", 7}}));
  http_.Push(FakeReply{.status = 500, .headers = {}, .body = "{}", .error = Status::Ok()});
  ASSERT_TRUE(poller_->PollOnce({}).ok());
  EXPECT_EQ(Actions(again), (std::vector<std::string>{"ReceiveMessage", "SendMessage"}));
  EXPECT_TRUE(Has(R"(ferry_sqs_messages_total{queue="events",outcome="refused"} 2)")) << Metrics();
}

TEST_F(SqsPollerTest, CheckRefusesAQueueWhereARefusedMessageHasNowhereToGo) {
  MakePoller();
  Status s = CheckWithRedrive(0);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("has no RedrivePolicy"), std::string::npos) << s.message();
  // SQS would move it before ferry does
  MakePoller(kDlq, 5);
  s = CheckWithRedrive(5);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not below its RedrivePolicy's maxReceiveCount 5"),
            std::string::npos)
      << s.message();
  // no such queue
  http_.Push(FakeReply{.status = 400,
                       .headers = {},
                       .body = R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist"})",
                       .error = Status::Ok()});
  EXPECT_EQ(poller_->Check({}).code(), ErrorCode::kNotFound);
}

TEST_F(SqsPollerTest, FailuresBackOffOnTheClockAndStopEndsTheThread) {
  MakePoller();
  ASSERT_TRUE(CheckWithRedrive(3).ok());
  // every receive fails: the thread sleeps longer and longer (the fake clock returns at once)
  int receives = 0;
  http_.SetHandler([&](const http::HttpRequest&) {
    ++receives;
    return FakeReply{.status = 503, .headers = {}, .body = "", .error = Status::Ok()};
  });
  poller_->Start();
  ferry::testing::WaitFor([&] { return clock_.sleeps().size() >= 8; });
  poller_->RequestStop();
  poller_.reset();  // joins
  const auto sleeps = clock_.sleeps();
  ASSERT_GE(sleeps.size(), 8u);
  EXPECT_GE(sleeps[0], std::chrono::milliseconds(500));
  EXPECT_LE(sleeps[0], std::chrono::milliseconds(1000));
  EXPECT_GE(sleeps[7], std::chrono::milliseconds(30000)) << "1 s doubling, capped at 60 s";
  EXPECT_LE(sleeps[7], std::chrono::milliseconds(60000));
  EXPECT_TRUE(Has(R"(ferry_sqs_receive_errors_total{queue="events"} )" +
                  std::to_string(receives)))
      << Metrics();
}

TEST_F(SqsPollerTest, AnEmptyReceiveThatCameAtOnceIsNotRepeatedAtOnce) {
  MakePoller();
  ASSERT_TRUE(CheckWithRedrive(3).ok());
  // a server that answers an empty long poll at once (or wait_seconds 0): a second between
  // receives, never a loop
  http_.SetHandler([](const http::HttpRequest&) { return FakeReply::Ok("{}"); });
  poller_->Start();
  ferry::testing::WaitFor([&] { return clock_.sleeps().size() >= 3; });
  poller_.reset();
  const auto sleeps = clock_.sleeps();
  ASSERT_GE(sleeps.size(), 3u);
  for (auto d : sleeps) EXPECT_EQ(d, std::chrono::milliseconds(1000));
  EXPECT_EQ(Metrics().find("ferry_sqs_receive_errors_total{"), std::string::npos) << Metrics();
}

}  // namespace
}  // namespace ferry::serve
