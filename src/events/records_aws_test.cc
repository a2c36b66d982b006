// AWS S3's records, sent directly (an SQS message with raw delivery, EventBridge aside):
// eventSource "aws:s3", keys form-encoded ('+' for a space), several records in one body.
#include <gtest/gtest.h>

#include <chrono>

#include "events/events.h"
#include "events/records_test_util.h"

namespace ferry::events {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

constexpr std::string_view kAwsTwoRecords = R"({"Records":[
  {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-3",
   "eventTime":"2024-07-14T22:10:05.120Z","eventName":"ObjectCreated:CompleteMultipartUpload",
   "userIdentity":{"principalId":"AWS:AIDAEXAMPLEUSERID01"},
   "requestParameters":{"sourceIPAddress":"198.51.100.23"},
   "responseElements":{"x-amz-request-id":"Q4W7E2R9T1Y6U3I8",
     "x-amz-id-2":"hT7b2kQ9mZ1xV4cN8rL0pS6wY3eD5fG2aJ8uI1oK4nB7vC0xZ9qW6eR3tY5uI8oP"},
   "s3":{"s3SchemaVersion":"1.0","configurationId":"ferry-replication",
     "bucket":{"name":"ledger-eu","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},
               "arn":"arn:aws:s3:::ledger-eu"},
     "object":{"key":"exports/2024-07-14/daily+report+%28final%29.csv","size":73400320,
               "eTag":"d41d8cd98f00b204e9800998ecf8427e-14",
               "versionId":"3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY","sequencer":"0066944A3D1C5F0A21"}}},
  {"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-3",
   "eventTime":"2024-07-14T22:10:06.002Z","eventName":"ObjectRemoved:DeleteMarkerCreated",
   "userIdentity":{"principalId":"AWS:AIDAEXAMPLEUSERID01"},
   "requestParameters":{"sourceIPAddress":"198.51.100.23"},
   "responseElements":{"x-amz-request-id":"Z8X7C6V5B4N3M2L1","x-amz-id-2":"aGVsbG8="},
   "s3":{"s3SchemaVersion":"1.0","configurationId":"ferry-replication",
     "bucket":{"name":"ledger-eu","ownerIdentity":{"principalId":"A3NL1KOZZKExample"},
               "arn":"arn:aws:s3:::ledger-eu"},
     "object":{"key":"tmp/scratch%3D1.bin","versionId":"null","sequencer":"0066944A3E"}}}
]})";

TEST(AwsRecordsTest, TwoRecordsInOrderWithFormEncodedKeys) {
  const auto parsed = ParseBody(kAwsTwoRecords);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->events.size(), 2u);
  const Event& put = parsed->events[0];
  EXPECT_EQ(put.source, SourceKind::kAws);
  EXPECT_EQ(put.kind, EventKind::kCreated);
  EXPECT_EQ(put.bucket, "ledger-eu");
  EXPECT_EQ(put.key, "exports/2024-07-14/daily report (final).csv");
  EXPECT_EQ(put.version_id, "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY");  // version ids are not encoded
  EXPECT_EQ(put.size, std::optional<uint64_t>(73400320));
  EXPECT_EQ(put.etag, "d41d8cd98f00b204e9800998ecf8427e-14");
  EXPECT_EQ(put.region, "eu-west-3");
  EXPECT_EQ(put.configuration_id, "ferry-replication");
  EXPECT_EQ(put.opaque_data, "");
  EXPECT_EQ(put.time, sys_days{2024y / 7 / 14} + 22h + 10min + 5s + 120ms);

  const Event& marker = parsed->events[1];
  EXPECT_EQ(marker.kind, EventKind::kDeleteMarkerCreated);
  EXPECT_EQ(marker.key, "tmp/scratch=1.bin");
  EXPECT_EQ(marker.version_id, "null");
  EXPECT_FALSE(marker.size.has_value());
  EXPECT_EQ(marker.sequencer, "0066944A3E");
  EXPECT_TRUE(SequencerLess(put.sequencer, marker.sequencer) ||
              SequencerLess(marker.sequencer, put.sequencer));
}

TEST(AwsRecordsTest, TaggingAclAndLifecycleNames) {
  testing::ExpectKinds([](std::string_view name) { return testing::MinimalRecord("aws:s3", name); },
                       {
                           {"ObjectTagging:Put", EventKind::kTagging},
                           {"ObjectTagging:Delete", EventKind::kTagging},
                           {"ObjectAcl:Put", EventKind::kAcl},
                           {"LifecycleExpiration:Delete", EventKind::kLifecycleExpiration},
                           {"LifecycleTransition", EventKind::kLifecycleTransition},
                           {"IntelligentTiering", EventKind::kLifecycleTransition},
                           {"ObjectRestore:Completed", EventKind::kRestore},
                           {"Replication:OperationFailedReplication", EventKind::kReplication},
                           {"ObjectCreated:Post", EventKind::kCreated},
                           {"ReducedRedundancyLostObject", EventKind::kOther},
                       });
}

TEST(AwsRecordsTest, LaterMinorVersionsAndNullFieldsAreAccepted) {
  const auto parsed = ParseBody(R"({"Records":[{"eventVersion":"2.10","eventSource":"aws:s3",
      "eventName":"ObjectCreated:Put","eventTime":null,"newField":{"x":[1,2,3]},
      "s3":{"bucket":{"name":"b"},"object":{"key":"k","size":null,"versionId":null,
      "sequencer":null,"eTag":7}}}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Event& e = parsed->events.at(0);
  EXPECT_EQ(e.event_version, "2.10");
  EXPECT_FALSE(e.time.has_value());
  EXPECT_FALSE(e.size.has_value());
  EXPECT_EQ(e.version_id, "");
  EXPECT_EQ(e.etag, "");  // informational, of the wrong type: left empty
}

TEST(AwsRecordsTest, EmptyRecordsIsNoEvents) {
  const auto parsed = ParseBody(R"({"Records":[]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, BodyKind::kRecords);
  EXPECT_TRUE(parsed->events.empty());
}

TEST(AwsRecordsTest, SourceOverrideDecidesTheKeyEncoding) {
  // An RGW older than Octopus said "aws:s3" but sent raw keys.
  constexpr std::string_view kBody = R"({"Records":[{"eventVersion":"2.1","eventSource":"aws:s3",
      "eventName":"s3:ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"a+b%20c"}}}]})";
  ParseOptions rgw;
  rgw.source_override = SourceKind::kRgw;
  const auto raw = ParseBody(kBody, rgw);
  ASSERT_TRUE(raw.ok()) << raw.status().ToString();
  EXPECT_EQ(raw->events.at(0).key, "a+b%20c");
  EXPECT_EQ(raw->events.at(0).source, SourceKind::kRgw);
  const auto decoded = ParseBody(kBody);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->events.at(0).key, "a b c");
}

}  // namespace
}  // namespace ferry::events
