// The S3 event records of replication events (event_record.h): shape, fields, key encoding.
#include "replicate/event_record.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace ferry::replicate {
namespace {

OutboxEvent Failed() {
  OutboxEvent e;
  e.id = 26;
  e.event = ReplicationEvent::kFailed;
  e.source = "ra:photos/2026/";
  e.rule = "to-west";
  e.destination = "rb:west-bucket/";
  e.key = "2026/a b+c\"é?.jpg";
  e.source_version = "3sL4kqtJlcpXroDTDmJ";
  e.source_etag = "\"d41d8cd98f00b204e9800998ecf8427e\"";
  e.size = 1024;
  e.error_code = "kNotFound";
  e.http_status = 404;
  e.message = "PUT rb:west-bucket/x: NoSuchBucket: The specified bucket does not exist";
  e.event_ns = 1'795'000'000'123'000'000;  // 2026-11-18T11:06:40.123Z
  e.pending_since_ns = 1'795'000'000'000'000'000;
  return e;
}

nlohmann::json Parse(const std::string& text) { return nlohmann::json::parse(text); }

TEST(EventRecordTest, FailedRecordHasS3sShape) {
  EventRecordContext context;
  context.region_of = [](std::string_view source) {
    return source == "ra:photos/2026/" ? std::string("eu-west-3") : std::string();
  };
  const nlohmann::json r = Parse(EventRecordJson(Failed(), context));
  EXPECT_EQ(r["eventVersion"], "2.2");
  EXPECT_EQ(r["eventSource"], "aws:s3");
  EXPECT_EQ(r["awsRegion"], "eu-west-3");
  EXPECT_EQ(r["eventTime"], "2026-11-18T11:06:40.123Z");
  EXPECT_EQ(r["eventName"], "Replication:OperationFailedReplication");
  EXPECT_EQ(r["s3"]["s3SchemaVersion"], "1.0");
  EXPECT_EQ(r["s3"]["bucket"]["name"], "photos");
  EXPECT_EQ(r["s3"]["bucket"]["arn"], "arn:aws:s3:::photos");
  EXPECT_EQ(r["s3"]["object"]["key"], "2026/a+b%2Bc%22%C3%A9%3F.jpg");
  EXPECT_EQ(r["s3"]["object"]["size"], 1024);
  EXPECT_EQ(r["s3"]["object"]["eTag"], "\"d41d8cd98f00b204e9800998ecf8427e\"");
  EXPECT_EQ(r["s3"]["object"]["versionId"], "3sL4kqtJlcpXroDTDmJ");
  EXPECT_EQ(r["s3"]["object"]["sequencer"], "000000000000001A");
  const nlohmann::json& d = r["replicationEventData"];
  EXPECT_EQ(d["replicationRuleId"], "to-west");
  EXPECT_EQ(d["destinationBucket"], "arn:aws:s3:::west-bucket");
  EXPECT_EQ(d["s3Operation"], "OBJECT_PUT");
  EXPECT_EQ(d["requestTime"], "2026-11-18T11:06:40.000Z");
  EXPECT_EQ(d["failureReason"], "DstBucketNotFound");
  OutboxEvent gone = Failed();
  gone.message = "PUT rb:west-bucket/x: bucket not found: west-bucket";
  EXPECT_EQ(FailureReasonOf(gone), "DstBucketNotFound");
  gone.message = "GET ra:photos/x: bucket not found: photos";  // the source's: no S3 reason
  EXPECT_EQ(FailureReasonOf(gone), "not_found");
  EXPECT_FALSE(d.contains("threshold"));
}

TEST(EventRecordTest, FailureReasonsMapToS3sWhereOneExists) {
  OutboxEvent e = Failed();
  e.message = "PUT: AccessDenied";
  e.error_code = "kPermissionDenied";
  EXPECT_EQ(FailureReasonOf(e), "DstPutObjectNotPermitted");
  e.delete_marker = true;
  EXPECT_EQ(FailureReasonOf(e), "DstDelObjNotPermitted");
  e.error_code = "kUnavailable";
  e.message = "connection reset";
  EXPECT_EQ(FailureReasonOf(e), "unavailable");
  e.error_code = "";
  EXPECT_EQ(FailureReasonOf(e), "unknown");
}

TEST(EventRecordTest, ThresholdRecordsCarryThresholdAndReplicationTime) {
  OutboxEvent e = Failed();
  e.event = ReplicationEvent::kAfterThreshold;
  e.threshold_ns = 900'000'000'000;
  e.event_ns = e.pending_since_ns + 912'500'000'000;
  const nlohmann::json r = Parse(EventRecordJson(e, {}));
  EXPECT_EQ(r["awsRegion"], "us-east-1");  // no region known
  EXPECT_EQ(r["eventName"], "Replication:OperationReplicatedAfterThreshold");
  EXPECT_EQ(r["replicationEventData"]["threshold"], "900");
  EXPECT_EQ(r["replicationEventData"]["replicationTime"], "912");
  EXPECT_FALSE(r["replicationEventData"].contains("failureReason"));
  e.event = ReplicationEvent::kMissedThreshold;
  const nlohmann::json m = Parse(EventRecordJson(e, {}));
  EXPECT_EQ(m["eventName"], "Replication:OperationMissedThreshold");
  EXPECT_EQ(m["replicationEventData"]["threshold"], "900");
  EXPECT_FALSE(m["replicationEventData"].contains("replicationTime"));
}

TEST(EventRecordTest, UnversionedSourceAndDeleteMarker) {
  OutboxEvent e = Failed();
  e.source_version = "null";
  e.delete_marker = true;
  e.source = "s3://plain/";
  e.destination = "s3://other/p/";
  const nlohmann::json r = Parse(EventRecordJson(e, {}));
  EXPECT_FALSE(r["s3"]["object"].contains("versionId"));
  EXPECT_FALSE(r["s3"]["object"].contains("eTag"));
  EXPECT_EQ(r["s3"]["bucket"]["name"], "plain");
  EXPECT_EQ(r["replicationEventData"]["destinationBucket"], "arn:aws:s3:::other");
  EXPECT_EQ(r["replicationEventData"]["s3Operation"], "OBJECT_DELETE");
}

TEST(EventRecordTest, KeysAndMessagesAreEscaped) {
  EXPECT_EQ(EventKeyEncode("a/b c"), "a/b+c");
  EXPECT_EQ(EventKeyEncode("x\n\"\\\x01~_.-"), "x%0A%22%5C%01~_.-");
  OutboxEvent e = Failed();
  e.key = std::string("bad\xff\"}]key", 10);
  e.rule = "r\"1\n";
  const std::string text = EventRecordJson(e, {});
  const nlohmann::json r = Parse(text);  // parses: nothing breaks out of its string
  EXPECT_EQ(r["s3"]["object"]["key"], "bad%FF%22%7D%5Dkey");
  EXPECT_EQ(r["replicationEventData"]["replicationRuleId"], "r\"1\n");
}

TEST(EventRecordTest, BodyListsRecordsInOrder) {
  OutboxEvent a = Failed();
  OutboxEvent b = Failed();
  b.id = 27;
  b.key = "second";
  std::vector<OutboxEvent> events{a, b};
  const nlohmann::json body = Parse(EventRecordsBody(events, {}));
  ASSERT_EQ(body["Records"].size(), 2u);
  EXPECT_EQ(body["Records"][1]["s3"]["object"]["key"], "second");
  EXPECT_EQ(Parse(EventRecordsBody({}, {}))["Records"].size(), 0u);
}

TEST(EventRecordTest, BucketOfLocation) {
  EXPECT_EQ(BucketOfLocation("ra:photos/a/"), "photos");
  EXPECT_EQ(BucketOfLocation("ra:photos"), "photos");
  EXPECT_EQ(BucketOfLocation("s3://b/p/"), "b");
  EXPECT_EQ(BucketOfLocation("/data/x/"), "/data/x/");
}

}  // namespace
}  // namespace ferry::replicate
