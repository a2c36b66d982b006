// S3Client's version operations (GetBucketVersioning, ListObjectVersions paging parameters,
// DeleteObject's reply, version ids of writes), against FakeTransport/FakeClock.
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

http::Headers MakeHeaders(std::initializer_list<std::pair<const char*, const char*>> list) {
  http::Headers h;
  for (const auto& [k, v] : list) h.Add(k, v);
  return h;
}

class VersionsClientTest : public ::testing::Test {
 protected:
  VersionsClientTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    client_ = std::make_unique<S3Client>(o, transport_, creds_, clock_);
  }

  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  std::unique_ptr<S3Client> client_;
};

TEST_F(VersionsClientTest, GetBucketVersioningReadsTheStatus) {
  transport_.Push(
      FakeReply::Ok("<VersioningConfiguration><Status>Enabled</Status></VersioningConfiguration>"));
  transport_.Push(FakeReply::Ok(
      "<VersioningConfiguration><Status>Suspended</Status></VersioningConfiguration>"));
  transport_.Push(FakeReply::Ok("<VersioningConfiguration/>"));  // never enabled
  EXPECT_EQ(client_->GetBucketVersioning("b").value(), BucketVersioning::kEnabled);
  EXPECT_EQ(client_->GetBucketVersioning("b").value(), BucketVersioning::kSuspended);
  EXPECT_EQ(client_->GetBucketVersioning("b").value(), BucketVersioning::kOff);
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.method, "GET");
  EXPECT_EQ(r.url, "http://127.0.0.1:7480/b?versioning");
}

TEST_F(VersionsClientTest, ListObjectVersionsSendsMarkersAndPageSize) {
  transport_.Push(FakeReply::Ok("<ListVersionsResult/>"));
  transport_.Push(FakeReply::Ok("<ListVersionsResult/>"));
  ListVersionsRequest request;
  request.bucket = "b";
  request.prefix = "p/";
  request.key_marker = "p/k 1";
  request.version_id_marker = "v1";
  request.max_keys = 2;
  ASSERT_TRUE(client_->ListObjectVersions(request).ok());
  EXPECT_EQ(transport_.requests().at(0).url,
            "http://127.0.0.1:7480/b?encoding-type=url&key-marker=p%2Fk%201&max-keys=2&"
            "prefix=p%2F&version-id-marker=v1&versions");
  // The default page size is S3's own: not sent.
  ASSERT_TRUE(client_->ListObjectVersions(ListVersionsRequest{"b", "", "", "", 1000}).ok());
  EXPECT_EQ(transport_.requests().at(1).url, "http://127.0.0.1:7480/b?encoding-type=url&versions");
}

TEST_F(VersionsClientTest, DeleteObjectReportsTheMarkerOrTheVersionRemoved) {
  transport_.Push(FakeReply::Ok(
      "", MakeHeaders({{"x-amz-version-id", "dm1"}, {"x-amz-delete-marker", "true"}})));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"x-amz-version-id", "v1"}})));
  transport_.Push(FakeReply::Ok());  // unversioned bucket: no headers
  auto marker = client_->DeleteObject("b", "k");
  ASSERT_TRUE(marker.ok()) << marker.status().ToString();
  EXPECT_EQ(marker->version_id, "dm1");
  EXPECT_TRUE(marker->delete_marker);
  auto removed = client_->DeleteObject("b", "k", "v1");
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->version_id, "v1");
  EXPECT_FALSE(removed->delete_marker);
  EXPECT_EQ(transport_.requests().at(1).url, "http://127.0.0.1:7480/b/k?versionId=v1");
  auto plain = client_->DeleteObject("b", "k");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->version_id, "");
  EXPECT_FALSE(plain->delete_marker);
}

TEST_F(VersionsClientTest, PutObjectReplyCarriesTheVersionId) {
  transport_.Push(
      FakeReply::Ok("", MakeHeaders({{"ETag", "\"abc\""}, {"x-amz-version-id", "v7"}})));
  ObjectHead reply;
  WriteOptions options;
  auto etag = client_->PutObject("b", "k", {}, options, {}, &reply);
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(*etag, "abc");
  EXPECT_EQ(reply.version_id, "v7");
}

}  // namespace
}  // namespace ferry::s3
