// EventIntake with SNS envelopes, over a real SQLite job store and an SnsGate with a fake HTTPS
// host: a verified Notification of an accepted topic is recorded without any token; wrong
// topics, bad signatures and an intake without a gate are refused and counted; subscription
// handshakes are answered and counted; and the token rules for other bodies stay.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "jobs/sqlite/sqlite_job_store.h"
#include "replicate/payload.h"
#include "serve/intake.h"
#include "serve/sns_test_util.h"
#include "testing/fake_clock.h"

namespace ferry::serve {
namespace {

using namespace std::chrono_literals;
using events::SnsType;

// AWS S3's notification of a new object `key` in bucket `bucket` (its key form-encoded).
std::string S3Created(const std::string& bucket, const std::string& key) {
  return R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-3",)"
         R"("eventTime":"2026-01-01T00:00:00.000Z","eventName":"ObjectCreated:Put",)"
         R"("s3":{"s3SchemaVersion":"1.0","configurationId":"ferry",)"
         R"("bucket":{"name":")" + bucket + R"(","arn":"arn:aws:s3:::)" + bucket + R"("},)"
         R"("object":{"key":")" + key + R"(","size":5,"eTag":"e","sequencer":"0A"}}}]})";
}

class SnsIntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-sns-intake-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto run = store_->CreateRun({"ra:photos/", "rb:copy/", "{}"});
    ASSERT_TRUE(run.ok());
    run_ = *run;
    ca_key_ = snstest::NewRsaKey();
    key_ = snstest::NewRsaKey();
    https_.Set(std::string(snstest::kCertUrl),
               {.status = 200,
                .body = snstest::Certificate({.key = key_.get(),
                                              .cn = "sns.amazonaws.com",
                                              .issuer_key = ca_key_.get(),
                                              .issuer_cn = "Test SNS CA",
                                              .from = clock_.Now() - 24h,
                                              .to = clock_.Now() + 24h * 30,
                                              .ca = false}),
                .unreachable = false});
    certs_ = std::make_unique<SnsCertCache>(https_, clock_);
    gate_ = std::make_unique<SnsGate>(https_, *certs_, clock_,
                                      SnsGateOptions{.topics = {std::string(snstest::kTopic)},
                                                     .confirm_timeout_ms = 1000,
                                                     .confirm_max_bytes = 4096,
                                                     .background = nullptr,
                                                     .max_background = 4});
    intake_ = std::make_unique<EventIntake>(
        *store_, IntakeOptions{.token = "s3cret", .max_body = 1 << 20}, registry_);
    intake_->SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = run_}});
    intake_->UseSns(gate_.get());
  }
  void TearDown() override {
    intake_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  http::ServerResponse Post(const std::string& body, const std::string& auth = "") {
    http::ServerRequest r;
    r.method = "POST";
    r.path = "/events";
    r.body = body;
    if (!auth.empty()) r.headers["authorization"] = auth;
    return intake_->Handle(r);
  }
  std::string SignedNotification(const std::string& message) {
    return snstest::EnvelopeJson(snstest::Signed(snstest::Notification(message), key_.get()));
  }
  size_t Queued() {
    auto jobs = store_->ListJobs(run_, jobs::JobState::kQueued, 100);
    EXPECT_TRUE(jobs.ok());
    return jobs.ok() ? jobs->size() : 0;
  }
  bool Counted(const std::string& series) {
    return registry_.RenderPrometheus().find(series) != std::string::npos;
  }

  ferry::testing::FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  jobs::RunId run_ = 0;
  obs::Registry registry_;
  snstest::FakeHttps https_;
  snstest::Pkey ca_key_, key_;
  std::unique_ptr<SnsCertCache> certs_;
  std::unique_ptr<SnsGate> gate_;
  std::unique_ptr<EventIntake> intake_;
};

TEST_F(SnsIntakeTest, AVerifiedNotificationIsRecordedWithoutAToken) {
  const auto r = Post(SignedNotification(S3Created("photos", "a+b/c.jpg")));
  EXPECT_EQ(r.code, 200) << r.body;
  auto jobs = store_->ListJobs(run_, jobs::JobState::kQueued, 10);
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  auto work = replicate::DecodeEventWork(jobs->front().spec.payload);
  ASSERT_TRUE(work.ok());
  EXPECT_EQ(work->key, "a b/c.jpg");
  EXPECT_TRUE(Counted("ferry_events_received_total{store=\"aws\",kind=\"created\"} 1"))
      << registry_.RenderPrometheus();
  EXPECT_TRUE(Counted("ferry_events_recorded_total 1"));
}

TEST_F(SnsIntakeTest, WrongTopicsAndBadSignaturesAreRefusedAndCounted) {
  events::SnsEnvelope other = snstest::Notification(S3Created("photos", "k"));
  other.topic_arn = "arn:aws:sns:eu-west-3:111122223333:other";
  auto r = Post(snstest::EnvelopeJson(snstest::Signed(other, key_.get())));
  EXPECT_EQ(r.code, 403) << r.body;
  events::SnsEnvelope forged =
      snstest::Signed(snstest::Notification(S3Created("photos", "k")), key_.get());
  forged.message = S3Created("photos", "other-key");
  r = Post(snstest::EnvelopeJson(forged), "Bearer s3cret");  // the token does not replace it
  EXPECT_EQ(r.code, 403) << r.body;
  EXPECT_EQ(Queued(), 0u);
  EXPECT_TRUE(Counted("ferry_events_refused_total{reason=\"sns_topic\"} 1"));
  EXPECT_TRUE(Counted("ferry_events_refused_total{reason=\"sns_signature\"} 1"))
      << registry_.RenderPrometheus();
}

TEST_F(SnsIntakeTest, SubscriptionHandshakesAreAnsweredAndCounted) {
  const events::SnsEnvelope sub =
      snstest::Signed(snstest::Confirmation(SnsType::kSubscriptionConfirmation), key_.get());
  https_.Set(sub.subscribe_url, {.status = 200, .body = "<ok/>", .unreachable = false});
  auto r = Post(snstest::EnvelopeJson(sub));
  EXPECT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(https_.count(sub.subscribe_url), 1u);
  const events::SnsEnvelope unsub =
      snstest::Signed(snstest::Confirmation(SnsType::kUnsubscribeConfirmation), key_.get());
  r = Post(snstest::EnvelopeJson(unsub));
  EXPECT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(https_.count(sub.subscribe_url), 1u);
  https_.Set(sub.subscribe_url, {.status = 200, .body = "", .unreachable = true});
  r = Post(snstest::EnvelopeJson(sub));
  EXPECT_EQ(r.code, 503);
  ASSERT_EQ(r.headers.size(), 1u);
  EXPECT_EQ(r.headers[0].first, "Retry-After");
  EXPECT_EQ(Queued(), 0u);
  EXPECT_TRUE(Counted("ferry_events_ignored_total{reason=\"sns_subscribed\"} 1"));
  EXPECT_TRUE(Counted("ferry_events_ignored_total{reason=\"sns_unsubscribed\"} 1"));
  EXPECT_TRUE(Counted("ferry_events_refused_total{reason=\"sns_confirm\"} 1"));
}

TEST_F(SnsIntakeTest, AVerifiedEnvelopeWithABadMessageIsA400AnUnverifiedOneA401) {
  auto r = Post(SignedNotification(R"({"Records":[{"eventVersion":"3.0"}]})"));
  EXPECT_EQ(r.code, 400) << r.body;
  events::SnsEnvelope forged = snstest::Signed(snstest::Notification("{nope"), key_.get());
  forged.message = "{nope!";
  r = Post(snstest::EnvelopeJson(forged));
  EXPECT_EQ(r.code, 401) << r.body;
  EXPECT_TRUE(Counted("ferry_events_refused_total{reason=\"unknown_version\"} 1"));
  EXPECT_TRUE(Counted("ferry_events_refused_total{reason=\"unauthenticated\"} 1"));
}

TEST_F(SnsIntakeTest, WithoutAGateSnsEnvelopesAreRefused) {
  EventIntake plain(*store_, IntakeOptions{.token = "s3cret", .max_body = 1 << 20}, registry_);
  plain.SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = run_}});
  http::ServerRequest r;
  r.method = "POST";
  r.body = SignedNotification(S3Created("photos", "k"));
  r.headers["authorization"] = "Bearer s3cret";
  EXPECT_EQ(plain.Handle(r).code, 403);
  EXPECT_EQ(Queued(), 0u);
  EXPECT_TRUE(https_.asked().empty());
}

TEST_F(SnsIntakeTest, WithoutATokenOnlySnsIsAccepted) {
  EventIntake sns_only(*store_, IntakeOptions{.token = "", .max_body = 1 << 20}, registry_);
  sns_only.SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = run_}});
  sns_only.UseSns(gate_.get());
  http::ServerRequest r;
  r.method = "POST";
  r.body = S3Created("photos", "plain");
  r.headers["authorization"] = "Bearer ";
  EXPECT_EQ(sns_only.Handle(r).code, 401);
  r.headers.clear();
  EXPECT_EQ(sns_only.Handle(r).code, 401);
  r.body = SignedNotification(S3Created("photos", "k"));
  EXPECT_EQ(sns_only.Handle(r).code, 200);
  EXPECT_EQ(Queued(), 1u);
}

}  // namespace
}  // namespace ferry::serve
