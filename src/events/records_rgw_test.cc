// Ceph RGW's records: eventSource "ceph:s3", keys raw, the size a string or a number,
// opaqueData, metadata and tags as key/val arrays, names with or without "s3:".
#include <gtest/gtest.h>

#include <chrono>

#include "events/events.h"
#include "events/records_test_util.h"

namespace ferry::events {
namespace {

using std::chrono::sys_days;
using namespace std::chrono_literals;

// A PUT on a versioned bucket as an RGW (Reef) HTTP endpoint receives it: size as a string.
constexpr std::string_view kRgwPut = R"({"Records":[{
  "eventVersion":"2.2","eventSource":"ceph:s3","awsRegion":"zg-east",
  "eventTime":"2024-03-09T08:15:42.318907Z","eventName":"ObjectCreated:Put",
  "userIdentity":{"principalId":"replicator"},
  "requestParameters":{"sourceIPAddress":""},
  "responseElements":{"x-amz-request-id":"c0ffee00-1111-4222-8333-444455556666.4137.77",
                      "x-amz-id-2":"5a1f-zone-a-zg-east"},
  "s3":{"s3SchemaVersion":"1.0","configurationId":"to-ferry",
        "bucket":{"name":"photos","ownerIdentity":{"principalId":"replicator"},
                  "arn":"arn:aws:s3:zg-east::photos","id":"c0ffee00.4137.9"},
        "object":{"key":"albums/été 2023/plage + soleil%.jpg","size":"48213",
                  "eTag":"9b2cf535f27731c974343645a3985328",
                  "versionId":"Kx3vTq0pS8bYd1uQe5wHnR7mJ2cLfA9",
                  "sequencer":"4E2D7A65A8C1B40F",
                  "metadata":[{"key":"x-amz-meta-camera","val":"x100v"}],
                  "tags":[{"key":"team","val":"media"},{"key":"keep","val":"yes"}]}},
  "eventId":"1710000000.318907.9b2cf535f27731c974343645a3985328",
  "opaqueData":"ferry-zone-a"}]})";

TEST(RgwRecordsTest, PutWithStringSizeRawKeyAndOpaqueData) {
  const auto parsed = ParseBody(kRgwPut);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->kind, BodyKind::kRecords);
  EXPECT_FALSE(parsed->sns.has_value());
  ASSERT_EQ(parsed->events.size(), 1u);
  const Event& e = parsed->events[0];
  EXPECT_EQ(e.source, SourceKind::kRgw);
  EXPECT_EQ(e.kind, EventKind::kCreated);
  EXPECT_EQ(e.name, "ObjectCreated:Put");
  EXPECT_EQ(e.event_version, "2.2");
  EXPECT_EQ(e.bucket, "photos");
  // Raw: the space, the '+', the '%' and the accent are the key's own bytes.
  EXPECT_EQ(e.key, "albums/été 2023/plage + soleil%.jpg");
  EXPECT_EQ(e.version_id, "Kx3vTq0pS8bYd1uQe5wHnR7mJ2cLfA9");
  EXPECT_EQ(e.sequencer, "4E2D7A65A8C1B40F");
  ASSERT_TRUE(e.size.has_value());
  EXPECT_EQ(*e.size, 48213u);
  EXPECT_EQ(e.etag, "9b2cf535f27731c974343645a3985328");
  ASSERT_TRUE(e.time.has_value());
  EXPECT_EQ(*e.time, sys_days{2024y / 3 / 9} + 8h + 15min + 42s + 318907us);
  EXPECT_EQ(e.region, "zg-east");
  EXPECT_EQ(e.configuration_id, "to-ferry");
  EXPECT_EQ(e.opaque_data, "ferry-zone-a");
  EXPECT_EQ(e.request_id, "c0ffee00-1111-4222-8333-444455556666.4137.77");
  EXPECT_EQ(e.host_id, "5a1f-zone-a-zg-east");
  ASSERT_EQ(e.metadata.size(), 1u);
  EXPECT_EQ(e.metadata[0], std::make_pair(std::string("x-amz-meta-camera"), std::string("x100v")));
  ASSERT_EQ(e.tags.size(), 2u);
  EXPECT_EQ(e.tags[1].first, "keep");
  EXPECT_EQ(e.tags[1].second, "yes");
}

// An older RGW (2.1): "s3:" in the name, size as a number, an unversioned delete.
TEST(RgwRecordsTest, DeleteWithPrefixedNameAndNumericSize) {
  constexpr std::string_view kBody = R"({"Records":[{
    "eventVersion":"2.1","eventSource":"ceph:s3","awsRegion":"default",
    "eventTime":"2021-11-02T17:04:09.004Z","eventName":"s3:ObjectRemoved:Delete",
    "userIdentity":{"principalId":"ops"},"requestParameters":{"sourceIPAddress":""},
    "responseElements":{"x-amz-request-id":"r-1","x-amz-id-2":"a1-default-default"},
    "s3":{"s3SchemaVersion":"1.0","configurationId":"n1",
          "bucket":{"name":"logs","ownerIdentity":{"principalId":"ops"},"arn":"arn:aws:s3:::logs","id":"b.1"},
          "object":{"key":"2021/11/02/app.log","size":0,"eTag":"","versionId":"",
                    "sequencer":"09C4816180C8A11A","metadata":[],"tags":[]}},
    "eventId":"","opaqueData":""}]})";
  const auto parsed = ParseBody(kBody);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const Event& e = parsed->events.at(0);
  EXPECT_EQ(e.kind, EventKind::kRemoved);
  EXPECT_EQ(e.name, "s3:ObjectRemoved:Delete");
  EXPECT_EQ(e.key, "2021/11/02/app.log");
  EXPECT_EQ(e.version_id, "");
  EXPECT_EQ(e.size, std::optional<uint64_t>(0));
  EXPECT_TRUE(e.metadata.empty());
  EXPECT_TRUE(e.tags.empty());
}

TEST(RgwRecordsTest, DeleteMarkerAndLifecycleAndSyncNames) {
  testing::ExpectKinds(
      [](std::string_view name) { return testing::MinimalRecord("ceph:s3", name); },
      {
          {"ObjectRemoved:DeleteMarkerCreated", EventKind::kDeleteMarkerCreated},
          {"ObjectLifecycle:Expiration:NonCurrent", EventKind::kLifecycleExpiration},
          {"ObjectLifecycle:Transition:Current", EventKind::kLifecycleTransition},
          {"ObjectSynced:Create", EventKind::kReplication},
          {"ObjectRestore:Complete", EventKind::kRestore},
          {"ObjectCreated:CompleteMultipartUpload", EventKind::kCreated},
      });
}

TEST(RgwRecordsTest, RawKeyIsNeverDecoded) {
  const auto parsed = ParseBody(R"({"Records":[{"eventVersion":"2.2","eventSource":"ceph:s3",
      "eventName":"ObjectCreated:Copy","s3":{"bucket":{"name":"b"},
      "object":{"key":"a%2Fb+c %ZZ 日本語.txt"}}}]})");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->events.at(0).key, "a%2Fb+c %ZZ 日本語.txt");
}

}  // namespace
}  // namespace ferry::events
