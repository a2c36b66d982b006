// The run-end document, each kind's delivery over fakes, retries on a FakeClock, SendNow.
#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "notify/deliver.h"
#include "notify/document.h"
#include "notify/send_now.h"
#include "notify/targets_json.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::notify {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeClock;
using testing::FakeReply;
using testing::FakeTransport;

RunEnd SampleRun() {
  RunEnd r;
  r.run_id = "17";
  r.command = "sync";
  r.source = "a:src/p";
  r.destination = "b:dst";
  r.state = EndState::kDead;
  r.durable = true;
  r.objects.copied = 12;
  r.objects.failed = 2;
  r.objects.deleted = 1;
  r.bytes = 4096;
  for (int i = 0; i < 7; ++i) r.errors.push_back("error " + std::to_string(i));
  r.started = std::chrono::system_clock::time_point(seconds(1767225600));
  r.ended = r.started + milliseconds(61500);
  r.report = "./reports/run1";
  return r;
}

Target Webhook(std::string url) {
  Target t;
  t.kind = Kind::kWebhook;
  t.url = std::move(url);
  return t;
}

FakeReply Status500(int status) {
  FakeReply r;
  r.status = status;
  return r;
}

DeliveryContext Context(http::HttpTransport* http, Clock* clock, obs::Registry* registry) {
  DeliveryContext ctx;
  ctx.http = http;
  ctx.clock = clock;
  ctx.registry = registry;
  ctx.service_endpoint = [](const Target&) -> Result<s3::ServiceEndpoint> {
    s3::ServiceEndpoint e;
    e.url = "http://127.0.0.1:9";
    e.region = "us-east-1";
    return e;
  };
  return ctx;
}

class CountingMail : public http::MailSender {
 public:
  Status Send(const http::MailRequest& request) override {
    sent.push_back(request);
    return next;
  }
  std::vector<http::MailRequest> sent;
  Status next;
};

TEST(NotifyDocument, HasTheStableFieldsAndRoundTrips) {
  const std::string text = DocumentJson(SampleRun());
  const nlohmann::json j = nlohmann::json::parse(text);
  EXPECT_EQ(j["ferry_notification"], 1);
  EXPECT_EQ(j["run_id"], "17");
  EXPECT_EQ(j["command"], "sync");
  EXPECT_EQ(j["state"], "dead");
  EXPECT_EQ(j["objects"]["copied"], 12);
  EXPECT_TRUE(j["objects"]["skipped"].is_null());
  EXPECT_EQ(j["objects"]["failed"], 2);
  EXPECT_EQ(j["objects"]["deleted"], 1);
  EXPECT_EQ(j["bytes"], 4096);
  EXPECT_EQ(j["errors"].size(), kMaxErrors);  // the first few only
  EXPECT_EQ(j["started"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(j["ended"], "2026-01-01T00:01:01.500Z");
  EXPECT_DOUBLE_EQ(j["duration_seconds"].get<double>(), 61.5);
  EXPECT_EQ(j["report"], "./reports/run1");
  Result<RunEnd> back = ParseDocument(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->ended, SampleRun().ended);
  EXPECT_EQ(back->objects.copied, 12u);
  EXPECT_FALSE(back->objects.skipped.has_value());
  EXPECT_FALSE(ParseDocument("{\"run_id\": 1}").ok());
}

TEST(NotifyTargets, RoundTripThroughJsonWithoutSecretValues) {
  Target t;
  t.kind = Kind::kSmtp;
  t.on.done = false;
  t.on.cut = false;
  t.url = "smtp://127.0.0.1:2525";
  t.from = "ferry@example.org";
  t.to = {"ops@example.org", "b@example.org"};
  t.user = "u";
  t.password.env = "SMTP_PASSWORD";
  Result<std::vector<Target>> back = ParseTargetsJson(TargetsJson({t}));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 1u);
  EXPECT_EQ((*back)[0].kind, Kind::kSmtp);
  EXPECT_FALSE((*back)[0].on.Has(EndState::kDone));
  EXPECT_TRUE((*back)[0].on.Has(EndState::kDead));
  EXPECT_EQ((*back)[0].to, t.to);
  EXPECT_EQ((*back)[0].password.env, "SMTP_PASSWORD");
  EXPECT_FALSE(ParseTargetsJson("[{\"kind\": \"pigeon\"}]").ok());
}

TEST(NotifyWebhook, RetriesA500WithBackoffOnTheClockThenDelivers) {
  FakeTransport http;
  http.Push(Status500(500));
  http.Push(Status500(503));
  http.Push(FakeReply::Ok());
  FakeClock clock;
  obs::Registry registry;
  ::setenv("FERRY_NOTIFY_TEST_TOKEN", "Bearer s3cret", 1);
  Target t = Webhook("http://127.0.0.1:9/hook?k=v");
  t.headers.push_back({"Authorization", Secret{"FERRY_NOTIFY_TEST_TOKEN", ""}});
  DeliveryContext ctx = Context(&http, &clock, &registry);
  const retry::Policy policy{4, seconds(1), seconds(8), 2.0};
  EXPECT_EQ(SendNow({t}, SampleRun(), ctx, policy, {}), 0);
  ASSERT_EQ(http.request_count(), 3u);
  const auto req = http.requests()[2];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.headers.Get("Authorization"), "Bearer s3cret");
  EXPECT_EQ(nlohmann::json::parse(req.body)["run_id"], "17");
  ASSERT_EQ(clock.sleeps().size(), 2u);  // two backoffs, each at least half its ceiling
  EXPECT_GE(clock.sleeps()[0], milliseconds(500));
  EXPECT_LE(clock.sleeps()[0], milliseconds(1000));
  EXPECT_GE(clock.sleeps()[1], milliseconds(1000));
  EXPECT_LE(clock.sleeps()[1], milliseconds(2000));
  EXPECT_EQ(registry.AddCounter("ferry_notifications_total", "", {"kind", "result"})
                .WithLabels({"webhook", "sent"})
                .value(),
            1u);
}

TEST(NotifyWebhook, A4xxIsFinalAndCountedFailedWithoutMoreTries) {
  FakeTransport http;
  http.Push(Status500(404));
  FakeClock clock;
  obs::Registry registry;
  Target t = Webhook("http://127.0.0.1:9/hook");
  DeliveryContext ctx = Context(&http, &clock, &registry);
  EXPECT_EQ(SendNow({t}, SampleRun(), ctx, kRunEndRetries, {}), 1);
  EXPECT_EQ(http.request_count(), 1u);
  EXPECT_EQ(registry.AddCounter("ferry_notifications_total", "", {"kind", "result"})
                .WithLabels({"webhook", "failed"})
                .value(),
            1u);
}

TEST(NotifyWebhook, AMissingSecretIsFinalAndNamesTheVariableOnly) {
  FakeTransport http;
  ::unsetenv("FERRY_NOTIFY_TEST_MISSING");
  Target t = Webhook("http://127.0.0.1:9/hook");
  t.headers.push_back({"X-Token", Secret{"FERRY_NOTIFY_TEST_MISSING", ""}});
  DeliveryContext ctx = Context(&http, nullptr, nullptr);
  const Status s = DeliverOnce(t, SampleRun(), "{}", ctx, {});
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("FERRY_NOTIFY_TEST_MISSING"), std::string::npos);
  EXPECT_EQ(http.request_count(), 0u);
}

TEST(NotifyOnFilter, OnlyTheEndsAskedForAreSent) {
  FakeTransport http;  // no scripted reply: any request would fail the SendNow
  FakeClock clock;
  Target t = Webhook("http://127.0.0.1:9/h");
  t.on.done = false;
  RunEnd run = SampleRun();
  run.state = EndState::kDone;
  EXPECT_EQ(SendNow({t}, run, Context(&http, &clock, nullptr), kRunEndRetries, {}), 0);
  EXPECT_EQ(http.request_count(), 0u);
}

TEST(NotifySqs, SendsTheDocumentAsTheMessageBody) {
  FakeTransport http;
  http.Push(FakeReply::Ok("{\"MessageId\": \"m1\", \"MD5OfMessageBody\": \"x\"}"));
  FakeClock clock;
  Target t;
  t.kind = Kind::kSqs;
  t.queue_url = "http://127.0.0.1:9/123/q";
  DeliveryContext ctx = Context(&http, &clock, nullptr);
  ASSERT_TRUE(DeliverOnce(t, SampleRun(), DocumentJson(SampleRun()), ctx, {}).ok());
  ASSERT_EQ(http.request_count(), 1u);
  const nlohmann::json body = nlohmann::json::parse(http.requests()[0].body);
  EXPECT_EQ(body["QueueUrl"], "http://127.0.0.1:9/123/q");
  EXPECT_EQ(nlohmann::json::parse(body["MessageBody"].get<std::string>())["state"], "dead");
}

TEST(NotifySns, PublishesWithASubject) {
  FakeTransport http;
  http.Push(FakeReply::Ok("<PublishResponse><PublishResult><MessageId>m</MessageId>"
                          "</PublishResult></PublishResponse>"));
  FakeClock clock;
  Target t;
  t.kind = Kind::kSns;
  t.topic_arn = "arn:aws:sns:us-east-1:123456789012:ferry";
  DeliveryContext ctx = Context(&http, &clock, nullptr);
  ASSERT_TRUE(DeliverOnce(t, SampleRun(), "{\"a\":1}", ctx, {}).ok());
  const std::string form = http.requests()[0].body;
  EXPECT_NE(form.find("Action=Publish"), std::string::npos);
  EXPECT_NE(form.find("TopicArn=arn%3Aaws%3Asns"), std::string::npos);
  EXPECT_NE(form.find("Subject=ferry%20sync%20dead"), std::string::npos) << form;
}

TEST(NotifySmtp, SendsOneMailWithThePasswordFromAFile) {
  const std::string file = ::testing::TempDir() + "/notify_smtp_password";
  FILE* f = std::fopen(file.c_str(), "w");
  std::fputs("pw\n", f);
  std::fclose(f);
  CountingMail mail;
  Target t;
  t.kind = Kind::kSmtp;
  t.url = "smtp://127.0.0.1:2525";
  t.from = "ferry@x.org";
  t.to = {"ops@x.org"};
  t.user = "ferry";
  t.password.file = file;
  DeliveryContext ctx;
  ctx.mail = &mail;
  ASSERT_TRUE(DeliverOnce(t, SampleRun(), "{\"doc\":1}", ctx, {}).ok());
  ASSERT_EQ(mail.sent.size(), 1u);
  EXPECT_EQ(mail.sent[0].password, "pw");
  EXPECT_NE(mail.sent[0].message.find("Subject: ferry sync dead: 12 copied, 2 failed (run 17)"),
            std::string::npos);
  EXPECT_NE(mail.sent[0].message.find("\r\n\r\n{\"doc\":1}"), std::string::npos);
  mail.next = Status::Unauthenticated("login refused");
  const Status s = DeliverOnce(t, SampleRun(), "{}", ctx, {});
  EXPECT_EQ(s.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(s.message().find("pw"), std::string::npos);
}

}  // namespace
}  // namespace ferry::notify
