// MergePolicyStatement, RemovePolicyStatement, PolicyAllowsBucket (policy.h) and the queue
// inputs (queue.h).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "events/setup/queue.h"

namespace ferry::events::setup {
namespace {

using nlohmann::json;

constexpr const char* kArn = "arn:aws:sqs:us-east-1:123456789012:photos-events";

S3Statement Ours() {
  return {.bucket = "photos", .resource_arn = kArn, .source_account = "",
          .action = "sqs:SendMessage"};
}

TEST(QueuePolicyTest, AnEmptyPolicyGetsOnlyOurStatement) {
  bool changed = false;
  auto merged = MergePolicyStatement("", Ours(), &changed);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  EXPECT_TRUE(changed);
  const json p = json::parse(*merged);
  EXPECT_EQ(p["Version"], "2012-10-17");
  ASSERT_EQ(p["Statement"].size(), 1u);
  EXPECT_EQ(p["Statement"][0],
            json::parse(R"({"Sid":"ferry-s3-photos","Effect":"Allow",
              "Principal":{"Service":"s3.amazonaws.com"},"Action":"sqs:SendMessage",
              "Resource":"arn:aws:sqs:us-east-1:123456789012:photos-events",
              "Condition":{"ArnEquals":{"aws:SourceArn":"arn:aws:s3:::photos"}}})"));
}

TEST(QueuePolicyTest, TheAccountIsAConditionWhenKnownAndThePartitionTheQueues) {
  S3Statement s = Ours();
  s.source_account = "123456789012";
  s.resource_arn = "arn:aws-cn:sqs:cn-north-1:123456789012:q";
  const json p = json::parse(*MergePolicyStatement("", s));
  const json& c = p["Statement"][0]["Condition"];
  EXPECT_EQ(c["ArnEquals"]["aws:SourceArn"], "arn:aws-cn:s3:::photos");
  EXPECT_EQ(c["StringEquals"]["aws:SourceAccount"], "123456789012");
}

TEST(QueuePolicyTest, OtherStatementsAndFieldsAreKeptAndOursReplacedBySid) {
  const std::string existing = R"({"Version":"2012-10-17","Id":"mine","Statement":[
      {"Sid":"other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},
       "Action":"sqs:ReceiveMessage","Resource":"*"},
      {"Sid":"ferry-s3-photos","Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},
       "Action":"sqs:SendMessage","Resource":"old"}]})";
  bool changed = false;
  auto merged = MergePolicyStatement(existing, Ours(), &changed);
  ASSERT_TRUE(merged.ok());
  EXPECT_TRUE(changed);
  const json p = json::parse(*merged);
  EXPECT_EQ(p["Id"], "mine");
  ASSERT_EQ(p["Statement"].size(), 2u);
  EXPECT_EQ(p["Statement"][0]["Sid"], "other");
  EXPECT_EQ(p["Statement"][0]["Action"], "sqs:ReceiveMessage");
  EXPECT_EQ(p["Statement"][1]["Resource"], kArn);
  // a rerun: the same document, nothing to change
  bool again = true;
  auto twice = MergePolicyStatement(*merged, Ours(), &again);
  ASSERT_TRUE(twice.ok());
  EXPECT_FALSE(again);
  EXPECT_EQ(json::parse(*twice), p);
  // another bucket's statement is another Sid: both stay
  S3Statement other = Ours();
  other.bucket = "videos";
  const json both = json::parse(*MergePolicyStatement(*merged, other));
  EXPECT_EQ(both["Statement"].size(), 3u);
}

TEST(QueuePolicyTest, ASingleStatementObjectIsKept) {
  const std::string existing =
      R"({"Statement":{"Sid":"solo","Effect":"Deny","Principal":"*","Action":"sqs:*"}})";
  const json p = json::parse(*MergePolicyStatement(existing, Ours()));
  ASSERT_EQ(p["Statement"].size(), 2u);
  EXPECT_EQ(p["Statement"][0]["Sid"], "solo");
}

TEST(QueuePolicyTest, APolicyThatIsNotJsonOrABadArnIsRefused) {
  auto bad = MergePolicyStatement("{not json", Ours());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not a JSON object"), std::string::npos);
  EXPECT_EQ(MergePolicyStatement("[1]", Ours()).status().code(), ErrorCode::kInvalidArgument);
  S3Statement s = Ours();
  s.resource_arn = "photos-events";
  EXPECT_EQ(MergePolicyStatement("", s).status().code(), ErrorCode::kInvalidArgument);
}

TEST(QueuePolicyTest, RemoveTakesOutOursOnly) {
  const std::string with_other = *MergePolicyStatement(
      R"({"Version":"2012-10-17","Statement":[{"Sid":"other","Effect":"Allow"}]})", Ours());
  bool changed = false;
  auto removed = RemovePolicyStatement(with_other, "photos", &changed);
  ASSERT_TRUE(removed.ok());
  EXPECT_TRUE(changed);
  const json p = json::parse(*removed);
  ASSERT_EQ(p["Statement"].size(), 1u);
  EXPECT_EQ(p["Statement"][0]["Sid"], "other");
  // only ours: nothing left
  EXPECT_EQ(*RemovePolicyStatement(*MergePolicyStatement("", Ours()), "photos"), "");
  // not there: unchanged
  EXPECT_EQ(*RemovePolicyStatement(*removed, "photos", &changed), *removed);
  EXPECT_FALSE(changed);
}

TEST(QueuePolicyTest, PolicyAllowsBucket) {
  const std::string ours = *MergePolicyStatement("", Ours());
  EXPECT_TRUE(PolicyAllowsBucket(ours, "photos"));
  EXPECT_FALSE(PolicyAllowsBucket(ours, "videos"));
  EXPECT_FALSE(PolicyAllowsBucket("", "photos"));
  EXPECT_FALSE(PolicyAllowsBucket("nonsense", "photos"));
  // the AWS console's shape: a list of services, no condition
  EXPECT_TRUE(PolicyAllowsBucket(
      R"({"Statement":[{"Effect":"Allow","Principal":{"Service":["s3.amazonaws.com"]},
          "Action":["sqs:SendMessage"],"Resource":"*"}]})",
      "photos"));
}

TEST(QueuePolicyTest, ATopicGetsSnsPublish) {
  S3Statement s = Ours();
  s.resource_arn = "arn:aws:sns:us-east-1:123456789012:photos";
  s.action = "SNS:Publish";
  // a new topic's default policy: the owner's statement stays
  const std::string fresh =
      R"({"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Effect":"Allow",)"
      R"("Sid":"__default_statement_ID","Principal":{"AWS":"*"},"Action":["SNS:Publish"],)"
      R"("Resource":"arn:aws:sns:us-east-1:123456789012:photos","Condition":{"StringEquals":)"
      R"({"AWS:SourceOwner":"123456789012"}}}]})";
  auto merged = MergePolicyStatement(fresh, s);
  ASSERT_TRUE(merged.ok());
  const json p = json::parse(*merged);
  EXPECT_EQ(p["Version"], "2008-10-17");
  ASSERT_EQ(p["Statement"].size(), 2u);
  EXPECT_EQ(p["Statement"][0]["Sid"], "__default_statement_ID");
  EXPECT_EQ(p["Statement"][1]["Action"], "SNS:Publish");
  EXPECT_EQ(p["Statement"][1]["Resource"], "arn:aws:sns:us-east-1:123456789012:photos");
  EXPECT_TRUE(PolicyAllowsBucket(*merged, "photos", "sns:publish"));
  EXPECT_FALSE(PolicyAllowsBucket(*merged, "photos", "sqs:SendMessage"));
  EXPECT_FALSE(PolicyAllowsBucket(fresh, "photos", "SNS:Publish"));  // no S3 principal
}

TEST(QueueInputTest, NamesUrlsAndAccounts) {
  EXPECT_EQ(*QueueNameOf("photos-events"), "photos-events");
  EXPECT_EQ(*QueueNameOf("https://sqs.eu-west-1.amazonaws.com/123456789012/photos-events"),
            "photos-events");
  EXPECT_EQ(*QueueNameOf("http://127.0.0.1:5000/123456789012/q_1/"), "q_1");
  const std::vector<std::string> bads = {"",           "a b",           "q.fifo",
                                         "ftp://h/1/q", "http://h/q",    "http://h/1/2/q",
                                         "http://h/1/q.fifo", std::string(81, 'a')};
  for (const std::string& bad : bads) {
    const Result<std::string> got = QueueNameOf(bad);
    EXPECT_EQ(got.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(got.status().message().find("--sqs-queue"), std::string::npos) << bad;
  }
  EXPECT_NE(QueueNameOf("events.fifo").status().message().find("FIFO"), std::string::npos);
  EXPECT_TRUE(ValidateAccountId("123456789012").ok());
  EXPECT_EQ(ValidateAccountId("12345").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ValidateAccountId("12345678901x").code(), ErrorCode::kInvalidArgument);
}

TEST(QueueInputTest, MinioWebhookCommandMasksTheToken) {
  EXPECT_EQ(MinioWebhookCommand("arn:minio:sqs::ferry:webhook", "http://10.0.0.5:9380/events",
                                "tok-0123456789abcdef"),
            "mc admin config set ALIAS notify_webhook:ferry "
            "endpoint=\"http://10.0.0.5:9380/events\" auth_token=\"tok***\"");
  EXPECT_EQ(MinioWebhookCommand("arn:minio:sqs:us-east-1:1:webhook", "", ""),
            "mc admin config set ALIAS notify_webhook:1 endpoint=\"URL_OF_FERRY_SERVE/events\" "
            "auth_token=\"TOKEN\"");
  EXPECT_EQ(MinioWebhookCommand("arn:minio:sqs::k:kafka", "", ""),
            "mc admin config set ALIAS notify_kafka:k ...");
}

}  // namespace
}  // namespace ferry::events::setup
