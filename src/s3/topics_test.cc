// The topic API's bodies and replies (pure), and how S3Client sends topic and notification
// requests (against FakeTransport).
#include "s3/topics.h"

#include <gtest/gtest.h>

#include <string>

#include "s3/client.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

// RGW 16.2's reply, as seen (the token is in OpaqueData and again in EndpointArgs).
constexpr const char* kAttributes =
    "<GetTopicAttributesResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\">"
    "<GetTopicAttributesResult><Attributes><entry><key>User</key><value></value></entry>"
    "<entry><key>Name</key><value>t</value></entry><entry><key>EndPoint</key><value>"
    "{&quot;EndpointAddress&quot;:&quot;http://127.0.0.1:1/events&quot;,&quot;EndpointArgs&quot;:"
    "&quot;Attributes.entry.1.key=push-endpoint&amp;OpaqueData=secret-token-abc&quot;,"
    "&quot;EndpointTopic&quot;:&quot;t&quot;,&quot;HasStoredSecret&quot;:&quot;false&quot;,"
    "&quot;Persistent&quot;:&quot;false&quot;}</value></entry><entry><key>TopicArn</key>"
    "<value>arn:aws:sns:region-a::t</value></entry><entry><key>OpaqueData</key>"
    "<value>secret-token-abc</value></entry></Attributes></GetTopicAttributesResult>"
    "<ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></GetTopicAttributesResponse>";

TEST(TopicsTest, BuildsFormBodies) {
  CreateTopicRequest r;
  r.name = "ferry-b";
  r.attributes = {{"push-endpoint", "http://h:9380/events?a=b&c"}, {"OpaqueData", "t k+n"}};
  EXPECT_EQ(BuildCreateTopicForm(r),
            "Action=CreateTopic&Name=ferry-b&Attributes.entry.1.key=push-endpoint&"
            "Attributes.entry.1.value=http%3A%2F%2Fh%3A9380%2Fevents%3Fa%3Db%26c&"
            "Attributes.entry.2.key=OpaqueData&Attributes.entry.2.value=t%20k%2Bn&"
            "Version=2010-03-31");
  EXPECT_EQ(BuildTopicArnForm("DeleteTopic", "arn:aws:sns:zg::t"),
            "Action=DeleteTopic&TopicArn=arn%3Aaws%3Asns%3Azg%3A%3At&Version=2010-03-31");
}

TEST(TopicsTest, ParsesReplies) {
  auto arn = ParseCreateTopic(
      "<CreateTopicResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\">"
      "<CreateTopicResult><TopicArn>arn:aws:sns:region-a::t</TopicArn></CreateTopicResult>"
      "</CreateTopicResponse>");
  ASSERT_TRUE(arn.ok());
  EXPECT_EQ(*arn, "arn:aws:sns:region-a::t");
  EXPECT_EQ(ParseCreateTopic("<CreateTopicResponse/>").status().code(), ErrorCode::kInternal);
  EXPECT_EQ(ParseCreateTopic("<Error/>").status().code(), ErrorCode::kInternal);

  auto a = ParseGetTopicAttributes(kAttributes);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->arn, "arn:aws:sns:region-a::t");
  EXPECT_EQ(a->name, "t");
  EXPECT_EQ(a->push_endpoint, "http://127.0.0.1:1/events");
  EXPECT_EQ(a->persistent, false);
  EXPECT_EQ(a->opaque_data, "secret-token-abc");
  // AWS SNS: no EndPoint; the name from the ARN.
  auto aws = ParseGetTopicAttributes(
      "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes><entry><key>TopicArn"
      "</key><value>arn:aws:sns:us-east-1:123:n</value></entry></Attributes>"
      "</GetTopicAttributesResult></GetTopicAttributesResponse>");
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->name, "n");
  EXPECT_EQ(aws->persistent, std::nullopt);
  EXPECT_EQ(aws->push_endpoint, "");
  // An EndPoint that is not JSON is left out, not an error.
  auto odd = ParseGetTopicAttributes(
      "<GetTopicAttributesResponse><GetTopicAttributesResult><Attributes><entry><key>EndPoint"
      "</key><value>{nope</value></entry></Attributes></GetTopicAttributesResult>"
      "</GetTopicAttributesResponse>");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->push_endpoint, "");
  EXPECT_EQ(TopicNameOfArn("arn:aws:sns:region-a::ferry-x"), "ferry-x");
  EXPECT_EQ(TopicNameOfArn("plain"), "plain");
}

class TopicClientTest : public ::testing::Test {
 protected:
  TopicClientTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {}
  S3Client MakeClient() {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 3;
    o.metrics = &metrics_;
    return S3Client(o, transport_, creds_, clock_);
  }
  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  obs::Registry metrics_;
};

TEST_F(TopicClientTest, TopicActionsArePostsToTheEndpointSignedForSns) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok(
      "<CreateTopicResponse><CreateTopicResult><TopicArn>arn:aws:sns:region-a::t</TopicArn>"
      "</CreateTopicResult></CreateTopicResponse>"));
  CreateTopicRequest r{.name = "t", .attributes = {{"persistent", "false"}}};
  auto arn = client.CreateTopic(r);
  ASSERT_TRUE(arn.ok()) << arn.status().ToString();
  EXPECT_EQ(*arn, "arn:aws:sns:region-a::t");
  const auto sent = transport_.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:7480/");
  EXPECT_EQ(sent[0].body, BuildCreateTopicForm(r));
  EXPECT_EQ(sent[0].headers.Get("Content-Type"),
            "application/x-www-form-urlencoded; charset=utf-8");
  EXPECT_NE(sent[0].headers.Get("Authorization").find("/region-a/sns/aws4_request"),
            std::string::npos);
}

TEST_F(TopicClientTest, AnUnknownTopicIsNotFoundAndNamed) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(404, "NoSuchEntity"));
  auto a = client.GetTopicAttributes("arn:aws:sns:region-a::gone");
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(a.status().message().find("arn:aws:sns:region-a::gone"), std::string::npos);
}

TEST_F(TopicClientTest, NotificationRequests) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("<NotificationConfiguration/>"));
  transport_.Push(FakeReply::Ok());
  transport_.Push(FakeReply::Ok());
  transport_.Push(FakeReply::S3Error(404, "NoSuchBucket"));
  auto got = client.GetBucketNotificationConfiguration("b");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, "<NotificationConfiguration/>");
  ASSERT_TRUE(client.PutBucketNotificationConfiguration("b", "<NotificationConfiguration/>").ok());
  ASSERT_TRUE(client.DeleteBucketNotification("b", "ferry-t").ok());
  auto missing = client.GetBucketNotificationConfiguration("nope");
  EXPECT_EQ(missing.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(missing.status().message().find("bucket not found"), std::string::npos);
  const auto sent = transport_.requests();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:7480/b?notification");
  EXPECT_EQ(sent[1].method, "PUT");
  EXPECT_EQ(sent[1].body, "<NotificationConfiguration/>");
  EXPECT_FALSE(sent[1].headers.Get("Content-MD5").empty());
  EXPECT_NE(sent[1].headers.Get("Authorization").find("/region-a/s3/aws4_request"),
            std::string::npos);
  EXPECT_EQ(sent[2].method, "DELETE");
  EXPECT_EQ(sent[2].url, "http://127.0.0.1:7480/b?notification=ferry-t");
}

}  // namespace
}  // namespace ferry::s3
