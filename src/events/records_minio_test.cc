// MinIO's records: eventSource "minio:s3", eventVersion "2.0", keys URL-encoded (%2F), top-level
// EventName and Key, userMetadata as an object, tag and retention changes named ObjectCreated.
#include <gtest/gtest.h>

#include <string>

#include "events/events.h"
#include "events/records_test_util.h"

namespace ferry::events {
namespace {

// A webhook body: the record's key escaped (Go's url.QueryEscape), the top-level Key the bucket
// and the key unescaped (ignored by the parser).
std::string MinioBody(std::string_view name, std::string_view encoded_key,
                      std::string_view plain_key = "k") {
  return R"({"EventName":")" + std::string(name) + R"(","Key":"media/)" + std::string(plain_key) +
         R"(","Records":[{
    "eventVersion":"2.0","eventSource":"minio:s3","awsRegion":"",
    "eventTime":"2025-01-20T11:02:33.761Z","eventName":")" +
         std::string(name) + R"(",
    "userIdentity":{"principalId":"svc-upload"},
    "requestParameters":{"principalId":"svc-upload","region":"","sourceIPAddress":"10.1.2.3"},
    "responseElements":{"content-length":"0","x-amz-id-2":"7d3e1f",
                        "x-amz-request-id":"17AB34CD56EF7890",
                        "x-minio-deployment-id":"0a1b2c3d","x-minio-origin-endpoint":"http://10.1.2.4:9000"},
    "s3":{"s3SchemaVersion":"1.0","configurationId":"Config",
          "bucket":{"name":"media","ownerIdentity":{"principalId":"svc-upload"},"arn":"arn:aws:s3:::media"},
          "object":{"key":")" +
         std::string(encoded_key) + R"(","size":1048576,
                    "eTag":"5f363e0e58a95f06cbe9bbc662c5dfb6","contentType":"video/mp4",
                    "userMetadata":{"content-type":"video/mp4","X-Amz-Meta-Origin":"cam-7"},
                    "versionId":"0e1d2c3b-4a59-6877-8695-a4b3c2d1e0f9",
                    "sequencer":"17AB34CD57A1B2C3"}},
    "source":{"host":"10.1.2.3","port":"","userAgent":"MinIO (linux; amd64) minio-go/v7.0.66"}}]})";
}

TEST(MinioRecordsTest, PutWithEncodedSlashesAndSpaces) {
  const auto parsed =
      ParseBody(MinioBody("s3:ObjectCreated:Put", "clips%2F2025%2Fday+one%2Bextra.mp4",
                          "clips/2025/day one+extra.mp4"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->events.size(), 1u);
  const Event& e = parsed->events[0];
  EXPECT_EQ(e.source, SourceKind::kMinio);
  EXPECT_EQ(e.kind, EventKind::kCreated);
  EXPECT_EQ(e.name, "s3:ObjectCreated:Put");
  EXPECT_EQ(e.event_version, "2.0");
  EXPECT_EQ(e.bucket, "media");
  EXPECT_EQ(e.key, "clips/2025/day one+extra.mp4");
  EXPECT_EQ(e.version_id, "0e1d2c3b-4a59-6877-8695-a4b3c2d1e0f9");
  EXPECT_EQ(e.sequencer, "17AB34CD57A1B2C3");
  EXPECT_EQ(e.size, std::optional<uint64_t>(1048576));
  EXPECT_EQ(e.region, "");
  EXPECT_EQ(e.request_id, "17AB34CD56EF7890");
  ASSERT_EQ(e.metadata.size(), 2u);  // userMetadata, in the order of the object (sorted keys)
  EXPECT_EQ(e.metadata[0].first, "X-Amz-Meta-Origin");
  EXPECT_EQ(e.metadata[0].second, "cam-7");
}

TEST(MinioRecordsTest, TaggingAndRetentionAreNotCreations) {
  testing::ExpectKinds(
      [](std::string_view name) { return MinioBody(name, "a%2Fb.txt"); },
      {
          {"s3:ObjectCreated:PutTagging", EventKind::kTagging},
          {"s3:ObjectCreated:DeleteTagging", EventKind::kTagging},
          {"s3:ObjectCreated:PutRetention", EventKind::kRetention},
          {"s3:ObjectCreated:PutLegalHold", EventKind::kRetention},
          {"s3:ObjectRemoved:DeleteMarkerCreated", EventKind::kDeleteMarkerCreated},
          {"s3:ObjectAccessed:Get", EventKind::kAccessed},
          {"s3:ObjectCreated:Copy", EventKind::kCreated},
      });
  EXPECT_EQ(ParseBody(MinioBody("s3:ObjectCreated:PutTagging", "a%2Fb.txt"))->events.at(0).key,
            "a/b.txt");
}

TEST(MinioRecordsTest, UnicodeKeyEncodedAsUtf8Bytes) {
  // "報告/q1 résumé.pdf" as MinIO escapes it.
  const auto parsed =
      ParseBody(MinioBody("s3:ObjectCreated:Put", "%E5%A0%B1%E5%91%8A%2Fq1+r%C3%A9sum%C3%A9.pdf"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->events.at(0).key, "報告/q1 résumé.pdf");
}

TEST(MinioRecordsTest, UnknownButWellFormedNameIsOther) {
  const auto parsed = ParseBody(MinioBody("s3:Scanner:ManyVersions", "k"));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->events.at(0).kind, EventKind::kOther);
  EXPECT_EQ(parsed->events.at(0).name, "s3:Scanner:ManyVersions");
}

}  // namespace
}  // namespace ferry::events
