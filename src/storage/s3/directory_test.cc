// S3Backend on an S3 Express directory bucket, against FakeTransport: what features() say,
// LearnVersions asking nothing, listings that send neither start-after nor a partial prefix
// (both applied on the client) and keep the store's order, FirstKeyAfter answering the
// smallest key of a whole listing, every request on the zonal virtual host with the session.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "storage/s3/s3_backend.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

constexpr const char* kHost = "https://cache--usw2-az1--x-s3.s3express-usw2-az1.us-west-2.amazonaws.com";

// A ListObjectsV2 page with `keys` in the given (store's) order.
FakeReply Page(const std::vector<std::string>& keys, const std::string& token = "") {
  std::string xml = "<ListBucketResult><IsTruncated>" + std::string(token.empty() ? "false" : "true") +
                    "</IsTruncated>";
  if (!token.empty()) xml += "<NextContinuationToken>" + token + "</NextContinuationToken>";
  for (const std::string& k : keys) {
    xml += "<Contents><Key>" + k + "</Key><Size>1</Size><ETag>\"e\"</ETag>"
           "<LastModified>2026-01-01T00:00:00.000Z</LastModified>"
           "<StorageClass>EXPRESS_ONEZONE</StorageClass></Contents>";
  }
  return FakeReply::Ok(xml + "</ListBucketResult>");
}

FakeReply Session() {
  return FakeReply::Ok(
      "<CreateSessionResult><Credentials><SessionToken>T</SessionToken><SecretAccessKey>S"
      "</SecretAccessKey><AccessKeyId>K</AccessKeyId><Expiration>2026-01-01T00:05:00Z"
      "</Expiration></Credentials></CreateSessionResult>");
}

class S3DirectoryTest : public ::testing::Test {
 protected:
  S3DirectoryTest() : creds_(s3::Credentials{"AK", "SK", ""}) {
    s3::S3Options o;
    o.endpoint = "https://s3express-usw2-az1.us-west-2.amazonaws.com";
    o.region = "us-west-2";
    o.retry.max_attempts = 1;
    client_ = std::make_unique<s3::S3Client>(o, transport_, creds_, clock_);
    backend_ = std::make_unique<S3Backend>(*client_, "cache--usw2-az1--x-s3", "root/");
  }

  std::vector<std::string> Keys(ListingCursor& cursor) {
    std::vector<std::string> out;
    for (;;) {
      auto next = cursor.Next();
      EXPECT_TRUE(next.ok()) << next.status().ToString();
      if (!next.ok() || *next == nullptr) return out;
      out.push_back((*next)->key);
    }
  }

  FakeTransport transport_;
  FakeClock clock_;
  s3::StaticCredentials creds_;
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<S3Backend> backend_;
};

TEST_F(S3DirectoryTest, FeaturesSayWhatADirectoryBucketLacks) {
  const Features& f = backend_->features();
  EXPECT_TRUE(backend_->directory());
  EXPECT_FALSE(f.sorted_listing);
  EXPECT_FALSE(f.start_after);
  EXPECT_FALSE(f.tags);
  EXPECT_FALSE(f.storage_class);
  EXPECT_TRUE(f.chunked_write);
  ASSERT_TRUE(backend_->LearnVersions({}).ok());
  EXPECT_FALSE(backend_->features().versions);
  EXPECT_EQ(transport_.request_count(), 0u) << "no versioning question";
  EXPECT_EQ(backend_->ListVersions("", "", "").status().code(), ErrorCode::kNotSupported);
}

TEST_F(S3DirectoryTest, ListingFiltersOnTheClientAndKeepsTheStoresOrder) {
  transport_.Push(Session());
  transport_.Push(Page({"root/a/z", "root/b/1", "root/a/b", "root/ab"}, "tok"));
  transport_.Push(Page({"root/a/m", "root/a/a"}));
  auto cursor = backend_->ListFrom("a/", "a/b");
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(Keys(**cursor), (std::vector<std::string>{"a/z", "a/m"}));
  const auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[1].url, std::string(kHost) +
                                 "/?encoding-type=url&list-type=2&max-keys=1000&prefix=root%2Fa%2F");
  EXPECT_EQ(requests[2].url,
            std::string(kHost) + "/?continuation-token=tok&encoding-type=url&list-type=2&"
                                 "max-keys=1000&prefix=root%2Fa%2F");
  for (size_t i = 1; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].headers.Get("x-amz-s3session-token"), "T");
    EXPECT_EQ(requests[i].url.find("start-after"), std::string::npos);
  }

  // A prefix that does not end in '/' is sent cut back to its last '/'.
  transport_.Push(Page({"root/a/b", "root/ab", "root/a-c", "root/ax"}));
  auto partial = backend_->List("a");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(Keys(**partial), (std::vector<std::string>{"a/b", "ab", "a-c", "ax"}));
  EXPECT_NE(transport_.requests().back().url.find("&prefix=root%2F"), std::string::npos);
  EXPECT_EQ(transport_.requests().back().url.find("prefix=root%2Fa"), std::string::npos);
}

TEST_F(S3DirectoryTest, FirstKeyAfterIsTheSmallestOfTheWholeListing) {
  transport_.Push(Session());
  transport_.Push(Page({"root/q", "root/c", "root/x", "root/d", "root/a"}));
  auto first = backend_->FirstKeyAfter("b");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, std::optional<std::string>("c"));
}

TEST_F(S3DirectoryTest, TagsAreRefusedWithoutARequestOrLeftOutOfChunkedWrites) {
  WriteSpec spec;
  spec.size = 1;
  spec.tags = Tags{{"team", "x"}};
  const std::string one = "x";
  EXPECT_EQ(backend_->Put("k", std::as_bytes(std::span(one.data(), 1)), spec, {}).status().code(),
            ErrorCode::kNotSupported);
  EXPECT_EQ(backend_->PutTags("k", *spec.tags, {}).code(), ErrorCode::kNotSupported);
  EXPECT_EQ(transport_.request_count(), 0u);

  // A chunked write sends no x-amz-tagging and reports the tags as not kept.
  transport_.Push(Session());
  transport_.Push(FakeReply::Ok(
      "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"));
  spec.size = 0;
  auto writer = backend_->OpenChunkWriter("big", spec, 5u << 20, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const auto create = transport_.requests().back();
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.headers.Find("x-amz-tagging"), nullptr);
  http::Headers etag;
  etag.Set("ETag", "\"d41d8cd98f00b204e9800998ecf8427e\"");
  transport_.Push(FakeReply::Ok("", etag));  // UploadPart
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, {}, {}).ok());
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"e-1\"</ETag></CompleteMultipartUploadResult>"));
  auto done = (*writer)->Commit({});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_TRUE((*writer)->tags_not_kept());
  for (const auto& r : transport_.requests()) {
    EXPECT_EQ(r.url.find("tagging"), std::string::npos) << r.url;
  }
}

}  // namespace
}  // namespace ferry::storage
