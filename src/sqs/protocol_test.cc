// SQS's JSON protocol as the SQS intake speaks it: the requests built, the replies read (as
// SQS and moto send them), the errors mapped, and one call signed and sent through a fake
// transport.
#include "sqs/protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sqs/client.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::sqs {
namespace {

using nlohmann::json;

TEST(SqsProtocolTest, ReceiveAsksForALongPollAndTheReceiveCount) {
  const Call c = BuildReceive({.queue_url = "https://sqs.eu-west-1.amazonaws.com/1/q",
                               .max_messages = 10,
                               .wait_seconds = 20});
  EXPECT_EQ(c.action, "ReceiveMessage");
  const json j = json::parse(c.body);
  EXPECT_EQ(j["QueueUrl"], "https://sqs.eu-west-1.amazonaws.com/1/q");
  EXPECT_EQ(j["MaxNumberOfMessages"], 10);
  EXPECT_EQ(j["WaitTimeSeconds"], 20);
  EXPECT_EQ(j["AttributeNames"], json::array({"ApproximateReceiveCount"}));
}

TEST(SqsProtocolTest, ReceiveRepliesAreRead) {
  // moto 5.2's reply, shortened
  auto got = ParseReceive(
      R"({"Messages": [{"MessageId": "m1", "ReceiptHandle": "h1", "MD5OfBody": "x",)"
      R"( "Body": "{\"Records\": []}", "Attributes": {"ApproximateReceiveCount": "3"}},)"
      R"( {"MessageId": "m2", "ReceiptHandle": "h2", "Body": ""}]})");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].message_id, "m1");
  EXPECT_EQ((*got)[0].receipt_handle, "h1");
  EXPECT_EQ((*got)[0].body, R"({"Records": []})");
  EXPECT_EQ((*got)[0].receive_count, 3);
  EXPECT_EQ((*got)[1].receive_count, 0) << "no attribute: unknown";
  // nothing came
  auto none = ParseReceive("{}");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
  // not what SQS sends: worth another try
  for (std::string_view bad :
       {"", "<html>", "[]", R"({"Messages": {}})", R"({"Messages": [{"MessageId": "m"}]})"}) {
    auto r = ParseReceive(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable) << bad;
  }
}

TEST(SqsProtocolTest, DeleteBatchAndItsFailures) {
  const Call c = BuildDeleteBatch("u", {{.id = "0", .receipt_handle = "h0"},
                                        {.id = "1", .receipt_handle = "h1"}});
  EXPECT_EQ(c.action, "DeleteMessageBatch");
  EXPECT_EQ(json::parse(c.body),
            json::parse(R"({"QueueUrl":"u","Entries":[{"Id":"0","ReceiptHandle":"h0"},)"
                        R"({"Id":"1","ReceiptHandle":"h1"}]})"));
  auto failed = ParseDeleteBatch(
      R"({"Successful":[{"Id":"0"}],"Failed":[{"Id":"1","SenderFault":true,)"
      R"("Code":"ReceiptHandleIsInvalid","Message":"gone"}]})");
  ASSERT_TRUE(failed.ok());
  ASSERT_EQ(failed->size(), 1u);
  EXPECT_EQ((*failed)[0].id, "1");
  EXPECT_EQ((*failed)[0].code, "ReceiptHandleIsInvalid");
  auto all = ParseDeleteBatch(R"({"Successful":[{"Id":"0"}],"Failed":[]})");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST(SqsProtocolTest, SendCarriesStringAttributes) {
  const Call c = BuildSend("dlq", "{bad", {{"ferry-refused", "malformed_json: x"}});
  EXPECT_EQ(c.action, "SendMessage");
  EXPECT_EQ(json::parse(c.body),
            json::parse(R"({"QueueUrl":"dlq","MessageBody":"{bad","MessageAttributes":)"
                        R"({"ferry-refused":{"DataType":"String",)"
                        R"("StringValue":"malformed_json: x"}}})"));
}

TEST(SqsProtocolTest, AttributesAndRedrivePolicies) {
  auto attrs = ParseGetAttributes(
      R"({"Attributes":{"RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:r:1:dlq\",)"
      R"(\"maxReceiveCount\":\"5\"}"}})");
  ASSERT_TRUE(attrs.ok());
  ASSERT_EQ(attrs->size(), 1u);
  EXPECT_EQ((*attrs)[0].first, "RedrivePolicy");
  auto policy = ParseRedrivePolicy((*attrs)[0].second);
  ASSERT_TRUE(policy.ok()) << policy.status().ToString();
  EXPECT_EQ(policy->dead_letter_target_arn, "arn:aws:sqs:r:1:dlq");
  EXPECT_EQ(policy->max_receive_count, 5);
  // moto writes the count as a number
  policy = ParseRedrivePolicy(R"({"deadLetterTargetArn":"arn:a","maxReceiveCount":2})");
  ASSERT_TRUE(policy.ok());
  EXPECT_EQ(policy->max_receive_count, 2);
  for (std::string_view bad : {"", "{}", R"({"deadLetterTargetArn":"a"})",
                               R"({"deadLetterTargetArn":"a","maxReceiveCount":"x"})",
                               R"({"deadLetterTargetArn":"a","maxReceiveCount":0})"}) {
    EXPECT_FALSE(ParseRedrivePolicy(bad).ok()) << bad;
  }
  auto none = ParseGetAttributes("{}");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

TEST(SqsProtocolTest, ErrorsAreMapped) {
  const http::Headers none;
  Status s = SqsError("ReceiveMessage", "http://h/1/q", 400, none,
                      R"({"__type": "com.amazonaws.sqs#QueueDoesNotExist", )"
                      R"("message": "The specified queue does not exist."})");
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(), "SQS ReceiveMessage http://h/1/q: QueueDoesNotExist: The specified "
                         "queue does not exist. (HTTP 400)");
  http::Headers query;
  query.Set("x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender");
  EXPECT_EQ(SqsError("ReceiveMessage", "q", 400, query, "").code(), ErrorCode::kNotFound);
  EXPECT_EQ(SqsError("ReceiveMessage", "q", 400, none,
                     R"({"__type":"com.amazon.coral.service#UnrecognizedClientException"})")
                .code(),
            ErrorCode::kPermissionDenied);
  EXPECT_EQ(SqsError("ReceiveMessage", "q", 403, none, "").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(SqsError("ReceiveMessage", "q", 503, none, "<html>").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(SqsError("ReceiveMessage", "q", 400, none,
                     R"({"__type":"com.amazonaws.sqs#RequestThrottled"})")
                .code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(SqsError("SendMessage", "q", 400, none,
                     R"({"__type":"com.amazonaws.sqs#InvalidMessageContents"})")
                .code(),
            ErrorCode::kInvalidArgument);
}

// AWS's InvalidSignatureException quotes the canonical request it computed, with the value of
// every signed header: x-amz-security-token's among them. The message keeps what comes before.
TEST(SqsProtocolTest, ErrorsQuoteNoCredentials) {
  const http::Headers none;
  const nlohmann::json reply = {
      {"__type", "com.amazon.coral.service#InvalidSignatureException"},
      {"message",
       "Signature mismatch.\n\nThe Canonical String for this request should have been\n"
       "'POST\n/\n\nhost:h\nx-amz-security-token:IQoJSECRETtoken\n\nhost;"
       "x-amz-security-token\nabc'\n"}};
  const Status s = SqsError("GetQueueAttributes", "http://h/1/q", 400, none, reply.dump());
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "SQS GetQueueAttributes http://h/1/q: InvalidSignatureException: "
                         "Signature mismatch. (HTTP 400)");
}

TEST(SqsProtocolTest, QueueUrls) {
  EXPECT_EQ(QueueName("https://sqs.eu-west-1.amazonaws.com/123/photos-events"), "photos-events");
  EXPECT_EQ(QueueName("http://127.0.0.1:5000/123456789012/q/"), "q");
  EXPECT_EQ(UrlOrigin("http://127.0.0.1:5000/123456789012/q"), "http://127.0.0.1:5000");
  EXPECT_EQ(RegionOfQueueUrl("https://sqs.eu-west-1.amazonaws.com/123/q"), "eu-west-1");
  EXPECT_EQ(RegionOfQueueUrl("https://sqs.cn-north-1.amazonaws.com.cn/123/q"), "cn-north-1");
  EXPECT_EQ(RegionOfQueueUrl("https://us-east-2.queue.amazonaws.com/123/q"), "us-east-2");
  EXPECT_EQ(RegionOfQueueUrl("http://127.0.0.1:5000/123456789012/q"), "");
  EXPECT_EQ(RegionOfQueueUrl("https://sqs.amazonaws.com/123/q"), "");
}

TEST(SqsClientTest, CallsArePostedToTheRootSignedForSqs) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  SqsClient client({.url = "http://127.0.0.1:5000",
                    .region = "eu-west-1",
                    .credentials = std::make_shared<s3::StaticCredentials>(s3::Credentials{"AKID", "secret", ""}),
                    .tls = {}},
                   http, clock);
  http.Push(testing::FakeReply::Ok(R"({"Messages":[{"MessageId":"m","ReceiptHandle":"h",)"
                                   R"("Body":"b","Attributes":{"ApproximateReceiveCount":"1"}}]})"));
  auto got = client.Receive({.queue_url = "http://127.0.0.1:5000/1/q", .max_messages = 10,
                             .wait_seconds = 20},
                            {});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u);
  const auto sent = http.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method, "POST");
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:5000/");
  EXPECT_EQ(sent[0].headers.Get("X-Amz-Target"), "AmazonSQS.ReceiveMessage");
  EXPECT_EQ(sent[0].headers.Get("Content-Type"), "application/x-amz-json-1.0");
  const std::string auth = sent[0].headers.Get("Authorization");
  EXPECT_NE(auth.find("Credential=AKID/20260101/eu-west-1/sqs/aws4_request"), std::string::npos)
      << auth;
  EXPECT_NE(auth.find("x-amz-target"), std::string::npos) << "the target is signed: " << auth;
  EXPECT_EQ(auth.find("secret"), std::string::npos);
  EXPECT_EQ(json::parse(sent[0].body)["QueueUrl"], "http://127.0.0.1:5000/1/q");
  // an error reply is mapped
  http.Push(testing::FakeReply{.status = 400,
                               .headers = {},
                               .body = R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist"})",
                               .error = Status::Ok()});
  EXPECT_EQ(client.GetAttributes("http://127.0.0.1:5000/1/nope", {"RedrivePolicy"}, {})
                .status()
                .code(),
            ErrorCode::kNotFound);
  // the transport's failure is returned as is
  http.Push(testing::FakeReply::NetworkError(Status::Unavailable("connection reset")));
  EXPECT_EQ(client.Send("http://127.0.0.1:5000/1/dlq", "x", {}, {}).code(),
            ErrorCode::kUnavailable);
}

TEST(SqsProtocolTest, QueueCalls) {
  Call get = BuildGetQueueUrl("photos-events", "");
  EXPECT_EQ(get.action, "GetQueueUrl");
  EXPECT_EQ(json::parse(get.body), json({{"QueueName", "photos-events"}}));
  get = BuildGetQueueUrl("q", "123456789012");
  EXPECT_EQ(json::parse(get.body)["QueueOwnerAWSAccountId"], "123456789012");
  const Call create = BuildCreateQueue("q", {{"VisibilityTimeout", "30"}});
  EXPECT_EQ(create.action, "CreateQueue");
  EXPECT_EQ(json::parse(create.body),
            json({{"QueueName", "q"}, {"Attributes", {{"VisibilityTimeout", "30"}}}}));
  EXPECT_FALSE(json::parse(BuildCreateQueue("q", {}).body).contains("Attributes"));
  const Call set = BuildSetAttributes("http://h/1/q", {{"Policy", R"({"Statement":[]})"}});
  EXPECT_EQ(set.action, "SetQueueAttributes");
  EXPECT_EQ(json::parse(set.body)["Attributes"]["Policy"], R"({"Statement":[]})");
  EXPECT_EQ(json::parse(BuildDeleteQueue("http://h/1/q").body)["QueueUrl"], "http://h/1/q");
  EXPECT_EQ(*ParseQueueUrl(R"({"QueueUrl":"http://h/1/q"})", "CreateQueue"), "http://h/1/q");
  EXPECT_EQ(ParseQueueUrl("{}", "CreateQueue").status().code(), ErrorCode::kUnavailable);
}

TEST(SqsProtocolTest, QueueArns) {
  auto aws = ParseQueueArn("arn:aws:sqs:eu-west-1:123456789012:photos-events");
  ASSERT_TRUE(aws.ok());
  EXPECT_EQ(aws->partition, "aws");
  EXPECT_EQ(aws->region, "eu-west-1");
  EXPECT_EQ(aws->account, "123456789012");
  EXPECT_EQ(aws->name, "photos-events");
  auto minio = ParseQueueArn("arn:minio:sqs::ferry:webhook");
  ASSERT_TRUE(minio.ok());
  EXPECT_EQ(minio->partition, "minio");
  EXPECT_EQ(minio->region, "");
  EXPECT_EQ(minio->account, "ferry");
  EXPECT_EQ(minio->name, "webhook");
  for (const char* bad : {"", "arn:aws:sns:eu-west-1:1:t", "arn:aws:sqs:eu-west-1:1:",
                          "arn:aws:sqs:r:1:q:extra", "arn::sqs:r:1:q", "aws:sqs:r:1:q",
                          "arn:aws:sqs:r:1:a b", "https://sqs.eu-west-1.amazonaws.com/1/q"}) {
    const auto got = ParseQueueArn(bad);
    EXPECT_EQ(got.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ferry::sqs
