// SNS's query protocol (protocol.h) and SnsClient against FakeTransport.
#include "sns/protocol.h"

#include <gtest/gtest.h>

#include <memory>

#include "s3/uri.h"
#include "sns/client.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::sns {
namespace {

TEST(SnsProtocolTest, FormsAreEncoded) {
  EXPECT_EQ(BuildForm("Subscribe", {{"TopicArn", "arn:aws:sns:us-east-1:1:t"},
                                    {"Protocol", "https"},
                                    {"Endpoint", "https://f.example/events?a=1&b=2"}}),
            "Action=Subscribe&TopicArn=arn%3Aaws%3Asns%3Aus-east-1%3A1%3At&Protocol=https&"
            "Endpoint=https%3A%2F%2Ff.example%2Fevents%3Fa%3D1%26b%3D2&Version=2010-03-31");
}

TEST(SnsProtocolTest, RepliesAreRead) {
  auto attrs = ParseTopicAttributes(
      R"(<GetTopicAttributesResponse xmlns="https://sns.amazonaws.com/doc/2010-03-31/">)"
      "<GetTopicAttributesResult><Attributes>"
      "<entry><key>Policy</key><value>{&quot;Version&quot;:&quot;2012-10-17&quot;}</value></entry>"
      "<entry><key>Owner</key><value>123456789012</value></entry>"
      "</Attributes></GetTopicAttributesResult></GetTopicAttributesResponse>");
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  ASSERT_EQ(attrs->size(), 2u);
  EXPECT_EQ((*attrs)[0], (std::pair<std::string, std::string>{"Policy",
                                                              R"({"Version":"2012-10-17"})"}));
  EXPECT_EQ(*ParseSubscribe("<SubscribeResponse><SubscribeResult><SubscriptionArn>"
                            "arn:aws:sns:us-east-1:1:t:abc</SubscriptionArn></SubscribeResult>"
                            "</SubscribeResponse>"),
            "arn:aws:sns:us-east-1:1:t:abc");
  auto page = ParseListSubscriptionsByTopic(
      "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult><Subscriptions>"
      "<member><SubscriptionArn>PendingConfirmation</SubscriptionArn><Protocol>https</Protocol>"
      "<Endpoint>https://f.example/events</Endpoint><TopicArn>t</TopicArn></member>"
      "</Subscriptions><NextToken>n2</NextToken></ListSubscriptionsByTopicResult>"
      "</ListSubscriptionsByTopicResponse>");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->subscriptions.size(), 1u);
  EXPECT_EQ(page->subscriptions[0].arn, "PendingConfirmation");
  EXPECT_EQ(page->subscriptions[0].endpoint, "https://f.example/events");
  EXPECT_EQ(page->next_token, "n2");
  EXPECT_EQ(ParseSubscribe("<html/>").status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(ParseTopicAttributes("not xml").status().code(), ErrorCode::kUnavailable);
}

TEST(SnsProtocolTest, ErrorsAreMapped) {
  const std::string not_found =
      "<ErrorResponse><Error><Type>Sender</Type><Code>NotFound</Code>"
      "<Message>Topic does not exist</Message></Error></ErrorResponse>";
  const Status s = SnsError("GetTopicAttributes", "arn:aws:sns:us-east-1:1:t", 404, not_found);
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(),
            "SNS GetTopicAttributes arn:aws:sns:us-east-1:1:t: NotFound: Topic does not exist "
            "(HTTP 404)");
  EXPECT_EQ(SnsError("Subscribe", "t", 403,
                     "<ErrorResponse><Error><Code>AuthorizationError</Code></Error>"
                     "</ErrorResponse>")
                .code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(SnsError("Subscribe", "t", 400,
                     "<ErrorResponse><Error><Code>InvalidParameter</Code></Error>"
                     "</ErrorResponse>")
                .code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(SnsError("Subscribe", "t", 503, "<html>").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(SnsError("Subscribe", "t", 400,
                     "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>")
                .code(),
            ErrorCode::kUnavailable);
}

TEST(SnsClientTest, CallsArePostedToTheRootSignedForSns) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  SnsClient client({.url = "http://127.0.0.1:5000",
                    .region = "eu-west-1",
                    .credentials = std::make_shared<s3::StaticCredentials>(
                        s3::Credentials{"AKID", "secret", ""}),
                    .tls = {}},
                   http, clock);
  http.Push(testing::FakeReply::Ok(
      "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult><Subscriptions>"
      "<member><SubscriptionArn>s1</SubscriptionArn><Protocol>https</Protocol>"
      "<Endpoint>e1</Endpoint></member></Subscriptions><NextToken>n2</NextToken>"
      "</ListSubscriptionsByTopicResult></ListSubscriptionsByTopicResponse>"));
  http.Push(testing::FakeReply::Ok(
      "<ListSubscriptionsByTopicResponse><ListSubscriptionsByTopicResult><Subscriptions>"
      "<member><SubscriptionArn>s2</SubscriptionArn><Protocol>sqs</Protocol>"
      "<Endpoint>e2</Endpoint></member></Subscriptions>"
      "</ListSubscriptionsByTopicResult></ListSubscriptionsByTopicResponse>"));
  auto subs = client.ListSubscriptionsByTopic("arn:aws:sns:eu-west-1:1:t", {});
  ASSERT_TRUE(subs.ok()) << subs.status().ToString();
  ASSERT_EQ(subs->size(), 2u);
  EXPECT_EQ((*subs)[1].arn, "s2");
  const auto sent = http.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:5000/");
  EXPECT_EQ(sent[0].headers.Get("Content-Type"),
            "application/x-www-form-urlencoded; charset=utf-8");
  const std::string auth = sent[0].headers.Get("Authorization");
  EXPECT_NE(auth.find("Credential=AKID/20260101/eu-west-1/sns/aws4_request"), std::string::npos)
      << auth;
  EXPECT_EQ(auth.find("secret"), std::string::npos);
  EXPECT_NE(sent[1].body.find("NextToken=n2"), std::string::npos) << sent[1].body;
  // an error reply is mapped
  http.Push(testing::FakeReply{
      .status = 404,
      .headers = {},
      .body = "<ErrorResponse><Error><Code>NotFound</Code></Error></ErrorResponse>",
      .error = Status::Ok()});
  EXPECT_EQ(client.GetTopicAttributes("arn:aws:sns:eu-west-1:1:nope", {}).status().code(),
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace ferry::sns
