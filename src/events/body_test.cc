// Body shapes: S3's test event, SNS envelopes around S3 JSON, subscription confirmations.
#include <gtest/gtest.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "events/events.h"

namespace ferry::events {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

constexpr std::string_view kTestEvent =
    R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2024-02-01T09:30:00.051Z",
        "Bucket":"ledger-eu","RequestId":"7H2K9Q4M1X8C5V3B",
        "HostId":"nP4lX2s8QmT6vZ1kD9yR3wF7cJ5hB0gA"})";

constexpr std::string_view kS3Put = R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
  "awsRegion":"us-east-2","eventTime":"2024-02-01T09:31:12.700Z","eventName":"ObjectCreated:Put",
  "s3":{"s3SchemaVersion":"1.0","configurationId":"via-sns","bucket":{"name":"ledger-us",
  "arn":"arn:aws:s3:::ledger-us"},"object":{"key":"in%2Fbox/new+file.txt","size":12,
  "eTag":"6f5902ac237024bdd0c176cb93063dc4","sequencer":"0065BB63F0A9D2C0B3"}}}]})";

std::string SnsNotification(std::string_view message, bool with_subject = true) {
  nlohmann::json j = {
      {"Type", "Notification"},
      {"MessageId", "8f3c2b1a-7d6e-5f4a-9b8c-0d1e2f3a4b5c"},
      {"TopicArn", "arn:aws:sns:us-east-2:111122223333:ledger-events"},
      {"Message", message},
      {"Timestamp", "2024-02-01T09:31:13.020Z"},
      {"SignatureVersion", "2"},
      {"Signature", "c2lnbmF0dXJl"},
      {"SigningCertURL",
       "https://sns.us-east-2.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"},
      {"UnsubscribeURL",
       "https://sns.us-east-2.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=arn:x"},
  };
  if (with_subject) j["Subject"] = "Amazon S3 Notification";
  return j.dump();
}

TEST(BodyTest, TestEventIsItsOwnResult) {
  const auto parsed = ParseBody(kTestEvent);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, BodyKind::kTestEvent);
  EXPECT_TRUE(parsed->events.empty());
  EXPECT_EQ(parsed->test.service, "Amazon S3");
  EXPECT_EQ(parsed->test.bucket, "ledger-eu");
  EXPECT_EQ(parsed->test.request_id, "7H2K9Q4M1X8C5V3B");
  EXPECT_EQ(parsed->test.host_id, "nP4lX2s8QmT6vZ1kD9yR3wF7cJ5hB0gA");
  EXPECT_EQ(parsed->test.time, sys_days{2024y / 2 / 1} + 9h + 30min + 51ms);
  EXPECT_EQ(BodyKindName(parsed->kind), "test_event");
}

TEST(BodyTest, SnsNotificationCarriesS3Records) {
  const auto parsed = ParseBody(SnsNotification(kS3Put));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, BodyKind::kRecords);
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_EQ(parsed->events[0].key, "in/box/new file.txt");
  EXPECT_EQ(parsed->events[0].configuration_id, "via-sns");
  ASSERT_TRUE(parsed->sns.has_value());
  const SnsEnvelope& env = *parsed->sns;
  EXPECT_EQ(env.type, SnsType::kNotification);
  EXPECT_EQ(env.topic_arn, "arn:aws:sns:us-east-2:111122223333:ledger-events");
  EXPECT_EQ(env.message, kS3Put);
  EXPECT_EQ(env.subject, std::optional<std::string>("Amazon S3 Notification"));
  EXPECT_EQ(env.signature_version, "2");
  EXPECT_EQ(env.timestamp, "2024-02-01T09:31:13.020Z");
  EXPECT_NE(env.unsubscribe_url.find("Action=Unsubscribe"), std::string::npos);
}

TEST(BodyTest, SnsNotificationCarriesTheTestEvent) {
  const auto parsed = ParseBody(SnsNotification(kTestEvent, /*with_subject=*/false));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, BodyKind::kTestEvent);
  EXPECT_EQ(parsed->test.bucket, "ledger-eu");
  ASSERT_TRUE(parsed->sns.has_value());
  EXPECT_FALSE(parsed->sns->subject.has_value());
}

TEST(BodyTest, SubscriptionAndUnsubscribeConfirmations) {
  for (const auto& [type, expected] :
       {std::pair{"SubscriptionConfirmation", SnsType::kSubscriptionConfirmation},
        std::pair{"UnsubscribeConfirmation", SnsType::kUnsubscribeConfirmation}}) {
    const nlohmann::json j = {
        {"Type", type},
        {"MessageId", "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"},
        {"Token", "2336412f37fb687f5d51e6e2425c464de12884d3b5d7f5f9b0f4c2a1"},
        {"TopicArn", "arn:aws:sns:eu-west-3:111122223333:ledger-events"},
        {"Message", "You have chosen to subscribe to the topic; visit SubscribeURL to confirm."},
        {"SubscribeURL",
         "https://sns.eu-west-3.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f"},
        {"Timestamp", "2024-02-01T09:00:00.000Z"},
        {"SignatureVersion", "1"},
        {"Signature", "c2ln"},
        {"SigningCertURL", "https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-a.pem"},
    };
    const auto parsed = ParseBody(j.dump());
    ASSERT_TRUE(parsed.ok()) << type << ": " << parsed.status().ToString();
    EXPECT_EQ(parsed->kind, BodyKind::kSubscription);
    EXPECT_TRUE(parsed->events.empty());
    ASSERT_TRUE(parsed->sns.has_value());
    EXPECT_EQ(parsed->sns->type, expected);
    EXPECT_EQ(parsed->sns->topic_arn, "arn:aws:sns:eu-west-3:111122223333:ledger-events");
    EXPECT_EQ(parsed->sns->token, "2336412f37fb687f5d51e6e2425c464de12884d3b5d7f5f9b0f4c2a1");
    EXPECT_EQ(parsed->sns->subscribe_url,
              "https://sns.eu-west-3.amazonaws.com/?Action=ConfirmSubscription&Token=2336412f");
    EXPECT_EQ(SnsTypeName(parsed->sns->type), type);
  }
}

TEST(BodyTest, ParseSnsEnvelopeLeavesTheMessageUnread) {
  const auto env = ParseSnsEnvelope(SnsNotification("not JSON at all"));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->message, "not JSON at all");
  // ParseBody reads it, and refuses it.
  const auto parsed = ParseBody(SnsNotification("not JSON at all"));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(ReasonOf(parsed.status()), "malformed_json");
  EXPECT_NE(parsed.status().message().find("SNS Message"), std::string::npos);
}

TEST(BodyTest, ParseS3MessageRefusesEnvelopes) {
  const auto parsed = ParseS3Message(SnsNotification(kS3Put));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(ReasonOf(parsed.status()), "unknown_body");
  const auto direct = ParseS3Message(kS3Put);
  ASSERT_TRUE(direct.ok()) << direct.status().ToString();
  EXPECT_EQ(direct->events.size(), 1u);
}

TEST(BodyTest, AnEnvelopeInsideAnEnvelopeIsRefused) {
  const auto parsed = ParseBody(SnsNotification(SnsNotification(kS3Put)));
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(ReasonOf(parsed.status()), "unknown_body");
}

}  // namespace
}  // namespace ferry::events
