// Every refusal of the parsers, by reason: each bad body gives kInvalidArgument and the reason
// word a metric label uses.
#include <gtest/gtest.h>

#include <string>

#include "events/events.h"

namespace ferry::events {
namespace {

// A one-record body whose record is `fields` plus an s3 member of `object` fields.
std::string Record(std::string_view fields, std::string_view object = R"("key":"k")",
                   std::string_view bucket = R"({"name":"b"})") {
  return R"({"Records":[{)" + std::string(fields) + R"(,"s3":{"bucket":)" + std::string(bucket) +
         R"(,"object":{)" + std::string(object) + "}}}]}";
}
constexpr std::string_view kHead =
    R"("eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put")";

std::string ReasonFor(std::string_view body, const ParseOptions& options = {}) {
  const auto parsed = ParseBody(body, options);
  if (parsed.ok()) return "accepted";
  EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument) << parsed.status().ToString();
  return std::string(ReasonOf(parsed.status()));
}

TEST(ParseErrorsTest, TheBaselineRecordIsAccepted) {
  EXPECT_EQ(ReasonFor(Record(kHead)), "accepted");
}

TEST(ParseErrorsTest, TooLarge) {
  ParseOptions small;
  small.max_body_bytes = 64;
  const std::string body = Record(kHead);
  ASSERT_GT(body.size(), 64u);
  EXPECT_EQ(ReasonFor(body, small), "too_large");
  small.max_body_bytes = body.size();
  EXPECT_EQ(ReasonFor(body, small), "accepted");
}

TEST(ParseErrorsTest, MalformedJson) {
  EXPECT_EQ(ReasonFor(""), "malformed_json");
  EXPECT_EQ(ReasonFor("{\"Records\":["), "malformed_json");
  EXPECT_EQ(ReasonFor("[1,2,3]"), "malformed_json");
  EXPECT_EQ(ReasonFor("\"Records\""), "malformed_json");
  EXPECT_EQ(ReasonFor("{\"a\":\"\xff\xfe\"}"), "malformed_json");  // not UTF-8
  EXPECT_EQ(ReasonFor(std::string(100, '[') + std::string(100, ']')), "malformed_json");
  std::string deep = "{\"Records\":[{\"x\":";
  for (int i = 0; i < 40; ++i) deep += "{\"y\":";
  deep += "1" + std::string(40, '}') + "}]}";
  EXPECT_EQ(ReasonFor(deep), "malformed_json");
}

TEST(ParseErrorsTest, UnknownBody) {
  EXPECT_EQ(ReasonFor("{}"), "unknown_body");
  EXPECT_EQ(ReasonFor(R"({"Service":"Amazon S3","Event":"s3:SomethingElse"})"), "unknown_body");
}

TEST(ParseErrorsTest, UnknownVersion) {
  for (std::string_view version : {"3.0", "1.0", "2", "2.", "2.x", "12.1", "v2.1"}) {
    const std::string fields = R"("eventVersion":")" + std::string(version) +
                               R"(","eventSource":"aws:s3","eventName":"ObjectCreated:Put")";
    const std::string expected = version == "2" ? "accepted" : "unknown_version";
    EXPECT_EQ(ReasonFor(Record(fields)), expected) << "eventVersion " << version;
  }
}

TEST(ParseErrorsTest, UnknownSource) {
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":"2.1","eventSource":"garage:s3","eventName":"x")")),
            "unknown_source");
  ParseOptions minio;
  minio.source_override = SourceKind::kMinio;
  EXPECT_EQ(
      ReasonFor(Record(R"("eventVersion":"2.1","eventSource":"garage:s3","eventName":"x")"), minio),
      "accepted");
}

TEST(ParseErrorsTest, MissingField) {
  EXPECT_EQ(ReasonFor(R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
                          "eventName":"ObjectCreated:Put"}]})"),
            "missing_field");  // no s3
  EXPECT_EQ(ReasonFor(Record(R"("eventSource":"aws:s3","eventName":"ObjectCreated:Put")")),
            "missing_field");  // no eventVersion
  EXPECT_EQ(ReasonFor(Record(
                R"("eventVersion":"","eventSource":"aws:s3","eventName":"ObjectCreated:Put")")),
            "missing_field");
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":"2.1","eventName":"ObjectCreated:Put")")),
            "missing_field");  // no eventSource
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":"2.1","eventSource":"aws:s3")")), "missing_field");
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":"2.1","eventSource":"aws:s3","eventName":"")")),
            "missing_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k")", "{}")), "missing_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k")", R"({"name":""})")), "missing_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("size":3)")), "missing_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":null)")), "missing_field");
  EXPECT_EQ(ReasonFor(R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
                          "eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"}}}]})"),
            "missing_field");  // no s3.object
}

TEST(ParseErrorsTest, InvalidField) {
  EXPECT_EQ(ReasonFor(R"({"Records":{}})"), "invalid_field");
  EXPECT_EQ(ReasonFor(R"({"Records":[7]})"), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","size":"12x")")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","size":"")")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","size":"-1")")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","size":"99999999999999999999999")")),
            "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","size":-5)")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","size":1.5)")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","size":true)")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","versionId":12)")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k","sequencer":["A"])")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":7)")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":2.1,"eventSource":"aws:s3","eventName":"x")")),
            "invalid_field");
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":"2.1","eventSource":["aws:s3"],"eventName":"x")")),
            "invalid_field");
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":"2.1","eventSource":"aws:s3","eventName":{})")),
            "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k")", R"({"name":5})")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"k")", R"({"name":"a/b"})")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(std::string(kHead) + R"(,"eventTime":"yesterday")")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(std::string(kHead) + R"(,"eventTime":"2024-02-30T00:00:00Z")")),
            "invalid_field");
  EXPECT_EQ(ReasonFor(Record(std::string(kHead) + R"(,"eventTime":17)")), "invalid_field");
  EXPECT_EQ(ReasonFor(Record(R"("eventVersion":"2.1","eventSource":"aws:s3","eventName":"a b")")),
            "invalid_field");
  EXPECT_EQ(ReasonFor(R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"noon"})"),
            "invalid_field");
  EXPECT_EQ(ReasonFor(R"({"Type":"Gossip","MessageId":"m","TopicArn":"t"})"), "invalid_field");
  EXPECT_EQ(ReasonFor(R"({"Type":"Notification","MessageId":"m","TopicArn":"t","Message":"{}",
                          "Subject":5})"),
            "invalid_field");
}

TEST(ParseErrorsTest, InvalidKey) {
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"")")), "invalid_key");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"bad%2")")), "invalid_key");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"bad%G0")")), "invalid_key");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"%C3%28")")), "invalid_key");     // not UTF-8
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"%ED%A0%80")")), "invalid_key");  // a surrogate
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"a%00b")")), "invalid_key");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":"\u0000")")), "invalid_key");
  const std::string longest = std::string(1024, 'k');
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":")" + longest + "\"")), "accepted");
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":")" + longest + "k\"")), "invalid_key");
  // The limit is on the decoded key: 342 escaped euro signs are 1026 bytes.
  std::string euros;
  for (int i = 0; i < 342; ++i) euros += "%E2%82%AC";
  EXPECT_EQ(ReasonFor(Record(kHead, R"("key":")" + euros + "\"")), "invalid_key");
}

TEST(ParseErrorsTest, SnsMissingFields) {
  EXPECT_EQ(ReasonFor(R"({"Type":"Notification","TopicArn":"t","Message":"{}"})"), "missing_field");
  EXPECT_EQ(ReasonFor(R"({"Type":"Notification","MessageId":"m","Message":"{}"})"),
            "missing_field");
  EXPECT_EQ(ReasonFor(R"({"Type":"Notification","MessageId":"m","TopicArn":"t"})"),
            "missing_field");
  EXPECT_EQ(ReasonFor(R"({"Type":"SubscriptionConfirmation","MessageId":"m","TopicArn":"t",
                          "Token":"x"})"),
            "missing_field");
  EXPECT_EQ(ReasonFor(R"({"Type":"UnsubscribeConfirmation","MessageId":"m","TopicArn":"t",
                          "SubscribeURL":"https://x"})"),
            "missing_field");
  EXPECT_EQ(ReasonFor(R"({"Type":7,"MessageId":"m","TopicArn":"t"})"), "missing_field");
}

TEST(ParseErrorsTest, OneBadRecordRefusesTheBodyAndIsNamed) {
  const std::string body = R"({"Records":[
    {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
     "s3":{"bucket":{"name":"b"},"object":{"key":"good"}}},
    {"eventVersion":"2.1","eventSource":"aws:s3","eventName":"ObjectCreated:Put",
     "s3":{"bucket":{"name":"b"},"object":{}}}]})";
  const auto parsed = ParseBody(body);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.status().message(), "missing_field: record 1: no s3.object.key");
}

TEST(ReasonTest, ReasonOfReadsOnlyOurWords) {
  EXPECT_EQ(ReasonOf(Status::Ok()), "");
  EXPECT_EQ(ReasonOf(Refuse(Reason::kInvalidKey, "x")), "invalid_key");
  EXPECT_EQ(ReasonOf(Status::InvalidArgument("no colon")), "other");
  EXPECT_EQ(ReasonOf(Status::InvalidArgument("bucket: not ours")), "other");
  EXPECT_EQ(Refuse(Reason::kBadSignature, "x").code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(Refuse(Reason::kTooLarge, "x").code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ReasonName(Reason::kUnsupportedSignatureVersion), "unsupported_signature_version");
  EXPECT_EQ(ReasonOf(Refuse(Reason::kBadSubscribeUrl, "x")), "bad_subscribe_url");
  EXPECT_EQ(Refuse(Reason::kBadSubscribeUrl, "x").code(), ErrorCode::kUnauthenticated);
}

}  // namespace
}  // namespace ferry::events
