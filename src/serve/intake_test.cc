// EventIntake over a real SQLite job store: what is acknowledged is recorded (one
// replicate-event job per key of a served source, later events of a queued key coalesced into
// it), and what is not authenticated, malformed or not for a served source records nothing;
// every answer is counted.
#include "serve/intake.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "jobs/sqlite/sqlite_job_store.h"
#include "replicate/payload.h"
#include "testing/fake_clock.h"

namespace ferry::serve {
namespace {

// An RGW record of `name` for `key` in bucket `bucket`, with `opaque` as the topic's data.
std::string RgwRecord(const std::string& name, const std::string& bucket, const std::string& key,
                      const std::string& opaque = "") {
  return R"({"eventVersion":"2.2","eventSource":"ceph:s3","awsRegion":"region-a",)"
         R"("eventTime":"2026-11-25T10:00:00.000Z","eventName":")" + name + R"(",)"
         R"("s3":{"s3SchemaVersion":"1.0","configurationId":"c","bucket":{"name":")" + bucket +
         R"(","ownerIdentity":{"principalId":"u"},"arn":"arn:aws:s3:::)" + bucket +
         R"(","id":"b1"},"object":{"key":")" + key +
         R"(","size":"12","eTag":"e","versionId":"v1","sequencer":"0A","metadata":[],"tags":[]}},)"
         R"("eventId":"1","opaqueData":")" + opaque + R"("})";
}
std::string Body(std::vector<std::string> records) {
  std::string out = R"({"Records":[)";
  for (size_t i = 0; i < records.size(); ++i) out += (i ? "," : "") + records[i];
  return out + "]}";
}

class IntakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/ferry-intake-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto store = jobs::OpenSqliteJobStore((dir_ / "state.db").string(), clock_);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    auto run = store_->CreateRun({"ra:photos/", "rb:copy/", "{}"});
    ASSERT_TRUE(run.ok());
    run_ = *run;
    intake_ = std::make_unique<EventIntake>(*store_, IntakeOptions{.token = "s3cret", .max_body = 1 << 20},
                                            registry_);
    intake_->SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = run_}});
  }
  void TearDown() override {
    intake_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  http::ServerResponse Post(const std::string& body, const std::string& auth = "Bearer s3cret") {
    http::ServerRequest r;
    r.method = "POST";
    r.path = "/events";
    r.body = body;
    if (!auth.empty()) r.headers["authorization"] = auth;
    return intake_->Handle(r);
  }
  // The queued replicate-event jobs: their keys.
  std::vector<std::string> QueuedKeys() {
    auto jobs = store_->ListJobs(run_, jobs::JobState::kQueued, 100);
    EXPECT_TRUE(jobs.ok());
    std::vector<std::string> keys;
    for (const jobs::Job& j : *jobs) {
      EXPECT_EQ(j.spec.kind, replicate::kReplicateEventKind);
      auto w = replicate::DecodeEventWork(j.spec.payload);
      EXPECT_TRUE(w.ok());
      if (w.ok()) keys.push_back(w->key);
    }
    return keys;
  }
  std::string Metrics() { return registry_.RenderPrometheus(); }

  testing::FakeClock clock_;
  std::filesystem::path dir_;
  std::unique_ptr<jobs::JobStore> store_;
  jobs::RunId run_ = 0;
  obs::Registry registry_;
  std::unique_ptr<EventIntake> intake_;
};

TEST_F(IntakeTest, EventsAreRecordedOneJobPerQueuedKey) {
  auto r = Post(Body({RgwRecord("ObjectCreated:Put", "photos", "a b/c.jpg"),
                      RgwRecord("ObjectCreated:CompleteMultipartUpload", "photos", "big.bin"),
                      RgwRecord("ObjectRemoved:DeleteMarkerCreated", "photos", "a b/c.jpg")}));
  EXPECT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(QueuedKeys(), (std::vector<std::string>{"a b/c.jpg", "big.bin"}));
  // the same key again while its job waits: nothing new
  r = Post(Body({RgwRecord("ObjectTagging:Put", "photos", "big.bin")}));
  EXPECT_EQ(r.code, 200) << r.body;
  EXPECT_EQ(QueuedKeys().size(), 2u);
  const std::string m = Metrics();
  EXPECT_NE(m.find("ferry_events_received_total{store=\"rgw\",kind=\"created\"} 2"),
            std::string::npos) << m;
  EXPECT_NE(m.find("ferry_events_recorded_total 4"), std::string::npos) << m;
}

TEST_F(IntakeTest, WhatNeedsNoReplicationIsAcknowledgedAndCounted) {
  auto r = Post(Body({RgwRecord("ObjectCreated:Put", "elsewhere", "k"),
                      RgwRecord("ObjectAcl:Put", "photos", "k")}));
  EXPECT_EQ(r.code, 200);
  r = Post(R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-25T10:00:00.000Z",)"
           R"("Bucket":"photos","RequestId":"r","HostId":"h"})");
  EXPECT_EQ(r.code, 200);
  EXPECT_TRUE(QueuedKeys().empty());
  const std::string m = Metrics();
  EXPECT_NE(m.find("ferry_events_ignored_total{reason=\"no_source\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("ferry_events_ignored_total{reason=\"kind_acl\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("ferry_events_ignored_total{reason=\"test_event\"} 1"), std::string::npos) << m;
}

TEST_F(IntakeTest, TheTokenComesAsABearerOrAsRgwOpaqueDataOnEveryRecord) {
  const std::string body = Body({RgwRecord("ObjectCreated:Put", "photos", "k")});
  EXPECT_EQ(Post(body, "").code, 401);
  EXPECT_EQ(Post(body, "Bearer wrong").code, 401);
  EXPECT_EQ(Post(body, "Bearer s3cre").code, 401);
  EXPECT_EQ(Post(body, "Basic s3cret").code, 401);
  EXPECT_TRUE(QueuedKeys().empty());
  // RGW: every record carries the token
  EXPECT_EQ(Post(Body({RgwRecord("ObjectCreated:Put", "photos", "k", "s3cret"),
                       RgwRecord("ObjectCreated:Put", "photos", "j", "nope")}),
                 "")
                .code,
            401);
  EXPECT_TRUE(QueuedKeys().empty());
  EXPECT_EQ(Post(Body({RgwRecord("ObjectCreated:Put", "photos", "k", "s3cret")}), "").code, 200);
  EXPECT_EQ(QueuedKeys(), std::vector<std::string>{"k"});
  EXPECT_NE(Metrics().find("ferry_events_refused_total{reason=\"unauthenticated\"} 5"),
            std::string::npos) << Metrics();
}

// --insecure-no-auth: no token asked for (a trusted network); what is malformed is still said,
// SNS envelopes are still refused without a gate to verify them.
TEST_F(IntakeTest, WithoutAuthEveryBodyIsTakenAsIfItCarriedTheToken) {
  intake_ = std::make_unique<EventIntake>(
      *store_, IntakeOptions{.token = "", .max_body = 1 << 20, .no_auth = true}, registry_);
  intake_->SetSources({{.name = "ra:photos/", .bucket = "photos", .prefix = "", .run = run_}});
  EXPECT_EQ(Post(Body({RgwRecord("ObjectCreated:Put", "photos", "k")}), "").code, 200);
  EXPECT_EQ(Post(Body({RgwRecord("ObjectCreated:Put", "photos", "j", "any")}), "Bearer x").code,
            200);
  EXPECT_EQ(QueuedKeys(), (std::vector<std::string>{"k", "j"}));
  EXPECT_EQ(Post("{not json", "").code, 400);
  EXPECT_EQ(Post(R"({"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:r:1:t",)"
                 R"("Message":"{\"Records\":[]}","Timestamp":"2026-11-25T10:00:00.000Z",)"
                 R"("SignatureVersion":"1","Signature":"x",)"
                 R"("SigningCertURL":"https://sns.r.amazonaws.com/c.pem"})",
                 "")
                .code,
            403);
}

TEST_F(IntakeTest, MalformedBodiesAndOtherMethodsAreRefusedWithTheirReason) {
  EXPECT_EQ(Post("{not json").code, 400);
  EXPECT_EQ(Post("{not json", "").code, 401) << "nothing is said without the token";
  EXPECT_EQ(Post(R"({"Records":[{"eventVersion":"3.0"}]})").code, 400);
  EXPECT_EQ(Post(R"({"Type":"Notification","MessageId":"m","TopicArn":"arn:aws:sns:r:1:t",)"
                 R"("Message":"{}","Timestamp":"2026-11-25T10:00:00.000Z",)"
                 R"("SignatureVersion":"1","Signature":"x",)"
                 R"("SigningCertURL":"https://sns.r.amazonaws.com/c.pem"})")
                .code,
            400);
  http::ServerRequest get;
  get.method = "GET";
  get.path = "/events";
  EXPECT_EQ(intake_->Handle(get).code, 405);
  EXPECT_TRUE(QueuedKeys().empty());
  const std::string m = Metrics();
  EXPECT_NE(m.find("ferry_events_refused_total{reason=\"malformed_json\"} 1"), std::string::npos)
      << m;
  EXPECT_NE(m.find("ferry_events_refused_total{reason=\"method\"} 1"), std::string::npos) << m;
}

TEST_F(IntakeTest, APrefixLimitsWhatASourceServes) {
  intake_->SetSources({{.name = "ra:photos/2026/", .bucket = "photos", .prefix = "2026/", .run = run_}});
  EXPECT_EQ(Post(Body({RgwRecord("ObjectCreated:Put", "photos", "2025/a"),
                       RgwRecord("ObjectCreated:Put", "photos", "2026/b")}))
                .code,
            200);
  EXPECT_EQ(QueuedKeys(), std::vector<std::string>{"2026/b"});
}

}  // namespace
}  // namespace ferry::serve
