// S3Backend's versions against FakeTransport, with a key prefix: what Check learns, the
// requests a version listing sends, the keys it returns, and what a versioned write reports;
// a chunked write is one upload (no copy onto itself), its CRC32C the store's full-object
// checksum where the store keeps one.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "checksum/additional.h"
#include "checksum/checksum.h"
#include "storage/s3/s3_backend.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

FakeReply Versioning(const char* status) {
  return FakeReply::Ok(std::string("<VersioningConfiguration><Status>") + status +
                       "</Status></VersioningConfiguration>");
}

class S3VersionsTest : public ::testing::Test {
 protected:
  S3VersionsTest() : creds_(s3::Credentials{"AK", "SK", ""}) {
    s3::S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 1;
    client_ = std::make_unique<s3::S3Client>(o, transport_, creds_, clock_);
    backend_ = std::make_unique<S3Backend>(*client_, "b", "root/");
  }

  // Request `i` since the last CheckVersioned (or the start).
  std::string Request(size_t i) const {
    const auto r = transport_.requests().at(base_ + i);
    return r.method + " " + r.url;
  }

  // LearnVersions() against a versioned bucket.
  void CheckVersioned() {
    transport_.Push(Versioning("Enabled"));
    ASSERT_TRUE(backend_->LearnVersions({}).ok());
    ASSERT_TRUE(backend_->features().versions);
    base_ = transport_.request_count();
  }

  FakeTransport transport_;
  FakeClock clock_;
  s3::StaticCredentials creds_;
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<S3Backend> backend_;
  size_t base_ = 0;
};

TEST_F(S3VersionsTest, CheckAsksNothingAboutVersions) {
  // A sync never needs versions: Check is one HEAD of the bucket, and a server-side copy onto
  // a bucket whose versioning was not asked costs no HEAD for its version id.
  transport_.Push(FakeReply::Ok());
  ASSERT_TRUE(backend_->Check({}).ok());
  EXPECT_EQ(transport_.request_count(), base_ + 1);
  EXPECT_EQ(Request(0), "HEAD http://127.0.0.1:7480/b");
  EXPECT_FALSE(backend_->features().versions) << "not known before LearnVersions";
}

TEST_F(S3VersionsTest, LearnVersionsAsksWhetherTheBucketKeepsVersions) {
  EXPECT_FALSE(backend_->features().versions) << "unknown before LearnVersions";
  transport_.Push(Versioning("Enabled"));
  ASSERT_TRUE(backend_->LearnVersions({}).ok());
  EXPECT_TRUE(backend_->features().versions);
  EXPECT_EQ(Request(0), "GET http://127.0.0.1:7480/b?versioning");
  transport_.Push(Versioning("Suspended"));
  ASSERT_TRUE(backend_->LearnVersions({}).ok());
  EXPECT_FALSE(backend_->features().versions);
  // Not allowed to ask: unversioned, not a failure. Unreachable: a failure.
  transport_.Push(FakeReply::S3Error(403, "AccessDenied"));
  EXPECT_TRUE(backend_->LearnVersions({}).ok());
  EXPECT_FALSE(backend_->features().versions);
  transport_.Push(FakeReply::S3Error(503, "ServiceUnavailable"));
  EXPECT_EQ(backend_->LearnVersions({}).code(), ErrorCode::kUnavailable);
}

TEST_F(S3VersionsTest, ListVersionsPagesWithTheServersMarkersAndStripsThePrefix) {
  transport_.Push(FakeReply::Ok(
      "<ListVersionsResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
      "<NextKeyMarker>root%2Fa</NextKeyMarker><NextVersionIdMarker>v2</NextVersionIdMarker>"
      "<DeleteMarker><Key>root%2Fa</Key><VersionId>v3</VersionId><IsLatest>true</IsLatest>"
      "</DeleteMarker><Version><Key>root%2Fa</Key><VersionId>v2</VersionId>"
      "<IsLatest>false</IsLatest><ETag>\"e2\"</ETag><Size>4</Size>"
      "<StorageClass>STANDARD</StorageClass></Version></ListVersionsResult>"));
  transport_.Push(FakeReply::Ok(
      "<ListVersionsResult><IsTruncated>false</IsTruncated><Version><Key>root/b c</Key>"
      "<VersionId>v1</VersionId><IsLatest>true</IsLatest><ETag>e1</ETag><Size>1</Size>"
      "</Version></ListVersionsResult>"));
  backend_->set_list_page_size(2);
  auto cursor = backend_->ListVersions("", "", "");
  ASSERT_TRUE(cursor.ok());
  std::vector<std::string> seen;
  for (;;) {
    auto next = (*cursor)->Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (*next == nullptr) break;
    const ObjectInfo& e = **next;
    seen.push_back(e.key + "@" + e.version_id + (e.delete_marker ? "*" : "") +
                   (e.is_latest ? "!" : "") + "/" + e.etag);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"a@v3*!/", "a@v2/e2", "b c@v1!/e1"}));
  EXPECT_EQ(Request(0),
            "GET http://127.0.0.1:7480/b?encoding-type=url&max-keys=2&prefix=root%2F&versions");
  EXPECT_EQ(Request(1),
            "GET http://127.0.0.1:7480/b?encoding-type=url&key-marker=root%2Fa&max-keys=2&"
            "prefix=root%2F&version-id-marker=v2&versions");
}

TEST_F(S3VersionsTest, AKeyMarkerAloneSkipsThatKeyEvenWhenTheServerListsIt) {
  // RGW 16 answers key-marker=k with k's own versions.
  transport_.Push(FakeReply::Ok(
      "<ListVersionsResult><Version><Key>root/k</Key><VersionId>v1</VersionId></Version>"
      "<Version><Key>root/l</Key><VersionId>v2</VersionId></Version></ListVersionsResult>"));
  auto cursor = backend_->ListVersions("", "k", "");
  ASSERT_TRUE(cursor.ok());
  auto first = (*cursor)->Next();
  ASSERT_TRUE(first.ok() && *first != nullptr);
  EXPECT_EQ((*first)->key, "l");
  EXPECT_EQ(Request(0),
            "GET http://127.0.0.1:7480/b?encoding-type=url&key-marker=root%2Fk&prefix=root%2F&"
            "versions");
}

TEST_F(S3VersionsTest, VersionCallsSendTheVersionId) {
  CheckVersioned();
  transport_.Push(FakeReply::Ok("", [] {
    http::Headers h;
    h.Add("Content-Length", "3");
    h.Add("ETag", "\"e\"");
    h.Add("x-amz-version-id", "v1");
    return h;
  }()));
  auto info = backend_->StatVersion("k", "v1", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->version_id, "v1");
  EXPECT_EQ(Request(0), "HEAD http://127.0.0.1:7480/b/root/k?versionId=v1");
  transport_.Push(FakeReply::S3Error(404, "NoSuchVersion"));
  EXPECT_TRUE(backend_->DeleteVersion("k", "v0", {}).ok()) << "absent is OK";
  EXPECT_EQ(Request(1), "DELETE http://127.0.0.1:7480/b/root/k?versionId=v0");
  http::Headers marker;
  marker.Add("x-amz-delete-marker", "true");
  marker.Add("x-amz-version-id", "dm");
  transport_.Push(FakeReply::Ok("", marker));
  auto added = backend_->AddDeleteMarker("k", {});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->version_id, "dm");
  EXPECT_EQ(Request(2), "DELETE http://127.0.0.1:7480/b/root/k");
  EXPECT_EQ(backend_->StatVersion("k", "", false, {}).status().code(), ErrorCode::kInvalidArgument);
}

// RGW adds no marker over a current one: the DELETE answers without one, and the marker
// current at the key is the one asked for (before, it was taken for a bucket without versions:
// a replication recorded a DELETE, and an undelete at the source wrote an old version again).
// With a version current, no marker made means versioning is off.
TEST_F(S3VersionsTest, AMarkerOverAMarkerIsTheCurrentOne) {
  CheckVersioned();
  transport_.Push(FakeReply::Ok("", http::Headers{}));  // 204, no marker, no version id
  transport_.Push(FakeReply::Ok(
      "<ListVersionsResult><IsTruncated>false</IsTruncated>"
      "<DeleteMarker><Key>root/k</Key><VersionId>m1</VersionId><IsLatest>true</IsLatest>"
      "<LastModified>2026-11-25T00:00:00.000Z</LastModified></DeleteMarker>"
      "<Version><Key>root/k</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>"
      "<LastModified>2026-11-24T00:00:00.000Z</LastModified><ETag>\"e\"</ETag><Size>1</Size>"
      "</Version></ListVersionsResult>"));
  auto added = backend_->AddDeleteMarker("k", {});
  ASSERT_TRUE(added.ok()) << added.status().ToString();
  EXPECT_EQ(added->version_id, "m1");
  transport_.Push(FakeReply::Ok("", http::Headers{}));
  transport_.Push(FakeReply::Ok(
      "<ListVersionsResult><IsTruncated>false</IsTruncated>"
      "<Version><Key>root/k</Key><VersionId>null</VersionId><IsLatest>true</IsLatest>"
      "<LastModified>2026-11-24T00:00:00.000Z</LastModified><ETag>\"e\"</ETag><Size>1</Size>"
      "</Version></ListVersionsResult>"));
  EXPECT_EQ(backend_->AddDeleteMarker("k", {}).status().code(), ErrorCode::kFailedPrecondition);
}

// A chunked write whose CRC32C was learnt while streaming (AddMetadataOnCommit), on a store
// that keeps no full-object checksum (RGW): the upload, its part and its completion, nothing
// more. It used to copy the object onto itself to stamp x-amz-meta-ferry-crc32c and delete the
// completed version: every large write written twice, two versions listed for a while.
void ExpectLearntCrcCommitIsOneUpload(FakeTransport& transport_, S3Backend& backend,
                                      size_t base_) {
  transport_.Push(FakeReply::Ok(
      "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"));
  WriteSpec spec;
  spec.size = 3;
  auto writer = backend.OpenChunkWriter("k", spec, 5, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  transport_.Push(FakeReply::Ok("", [] {
    http::Headers h;
    h.Add("ETag", "\"" + checksum::Hex(checksum::Md5(checksum::AsBytes("abc"))) + "\"");
    return h;
  }()));
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("abc"), {}).ok());
  (*writer)->AddMetadataOnCommit({{"ferry-crc32c", "00000001"}});
  http::Headers completed;
  completed.Add("x-amz-version-id", "v1");
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"x-1\"</ETag></CompleteMultipartUploadResult>",
      completed));
  auto committed = (*writer)->Commit({});
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->version_id, "v1");
  EXPECT_EQ(committed->etag, "x-1");
  const auto requests = transport_.requests();
  ASSERT_EQ(requests.size() - base_, 3u) << "no copy onto itself, no HEAD, no delete";
  for (size_t i = base_; i < requests.size(); ++i) {
    EXPECT_EQ(requests[i].headers.Find("x-amz-copy-source"), nullptr);
    EXPECT_NE(requests[i].method, "DELETE");
    EXPECT_EQ(requests[i].headers.Find("x-amz-checksum-type"), nullptr) << "RGW keeps none";
    EXPECT_EQ(requests[i].headers.Find("x-amz-checksum-crc32c"), nullptr);
  }
}

TEST_F(S3VersionsTest, ChunkedCommitWithALearntCrcIsOneUploadOnAVersionedBucket) {
  CheckVersioned();
  ExpectLearntCrcCommitIsOneUpload(transport_, *backend_, base_);
}

TEST_F(S3VersionsTest, ChunkedCommitWithALearntCrcIsOneUploadWithoutLearningVersions) {
  ExpectLearntCrcCommitIsOneUpload(transport_, *backend_, base_);
}

// Where the store keeps a full-object checksum (S3Options::full_object_checksums: AWS), the
// CRC32C goes with the upload: CreateMultipartUpload asks CRC32C of type FULL_OBJECT, each
// part carries its CRC32C, and the completion names the whole object's (learnt while streaming,
// else the spec's ferry-crc32c), which the store checks and keeps. Still no copy.
class S3FullObjectChecksumTest : public ::testing::Test {
 protected:
  S3FullObjectChecksumTest() : creds_(s3::Credentials{"AK", "SK", ""}) {
    s3::S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "us-east-1";
    o.retry.max_attempts = 1;
    o.full_object_checksums = true;
    client_ = std::make_unique<s3::S3Client>(o, transport_, creds_, clock_);
    backend_ = std::make_unique<S3Backend>(*client_, "b", "");
    transport_.SetHandler([](const http::HttpRequest& r) {
      if (r.method == "POST" && r.url.ends_with("?uploads")) {
        return FakeReply::Ok(
            "<InitiateMultipartUploadResult><UploadId>u1</UploadId>"
            "</InitiateMultipartUploadResult>");
      }
      if (r.method == "PUT") {
        http::Headers h;
        h.Add("ETag", "\"0123456789abcdef0123456789abcdef\"");
        return FakeReply::Ok(r.headers.Get("x-amz-copy-source").empty()
                                 ? ""
                                 : "<CopyPartResult><ETag>\"0123456789abcdef0123456789abcdef"
                                   "\"</ETag></CopyPartResult>",
                             h);
      }
      if (r.method == "GET") {  // ListParts: the part copied on the server, checksummed there
        return FakeReply::Ok(
            "<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
            "<ETag>\"0123456789abcdef0123456789abcdef\"</ETag><Size>3</Size>"
            "<ChecksumCRC32C>AAAAAA==</ChecksumCRC32C></Part></ListPartsResult>");
      }
      return FakeReply::Ok(
          "<CompleteMultipartUploadResult><ETag>\"x-1\"</ETag></CompleteMultipartUploadResult>");
    });
  }

  // The request of `method` whose URL has `url_part`, the last one sent.
  ferry::testing::RecordedRequest Last(const std::string& method,
                                       const std::string& url_part) const {
    const auto requests = transport_.requests();
    for (auto it = requests.rbegin(); it != requests.rend(); ++it) {
      if (it->method == method && it->url.find(url_part) != std::string::npos) return *it;
    }
    ADD_FAILURE() << "no " << method << " " << url_part;
    return {};
  }

  FakeTransport transport_;
  FakeClock clock_;
  s3::StaticCredentials creds_;
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<S3Backend> backend_;
};

TEST_F(S3FullObjectChecksumTest, ALearntCrcIsTheStoresFullObjectChecksum) {
  WriteSpec spec;
  spec.size = 6;
  auto writer = backend_->OpenChunkWriter("k", spec, 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const auto create = Last("POST", "?uploads");
  EXPECT_EQ(create.headers.Get("x-amz-checksum-algorithm"), "CRC32C");
  EXPECT_EQ(create.headers.Get("x-amz-checksum-type"), "FULL_OBJECT");
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("abc"), {}).ok());
  EXPECT_EQ(Last("PUT", "partNumber=1").headers.Get("x-amz-checksum-crc32c"),
            checksum::Compute(checksum::Algorithm::kCrc32c, checksum::AsBytes("abc")));
  ASSERT_TRUE((*writer)->WriteChunk(2, 3, checksum::AsBytes("def"), {}).ok());
  const uint32_t crc = checksum::Crc32c(checksum::AsBytes("abcdef"));
  (*writer)->AddMetadataOnCommit({{"ferry-crc32c", checksum::Hex32(crc)}});
  auto committed = (*writer)->Commit({});
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  const auto complete = Last("POST", "uploadId=u1");
  EXPECT_EQ(complete.headers.Get("x-amz-checksum-crc32c"),
            checksum::EncodeCrc(checksum::Algorithm::kCrc32c, crc));
  EXPECT_EQ(complete.headers.Get("x-amz-checksum-type"), "FULL_OBJECT");
  EXPECT_EQ(transport_.request_count(), 4u) << "create, two parts, complete: no copy";
}

TEST_F(S3FullObjectChecksumTest, AKnownCrcIsSentTooButNotForPartsCopiedOnTheServer) {
  // Known before the upload (a local file's pre-pass, a source's ferry-crc32c the caller
  // compared with the bytes it streamed): the spec's value.
  WriteSpec spec;
  spec.size = 3;
  spec.metadata["ferry-crc32c"] = checksum::Hex32(checksum::Crc32c(checksum::AsBytes("abc")));
  auto writer = backend_->OpenChunkWriter("k", spec, 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("abc"), {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(Last("POST", "uploadId=u1").headers.Get("x-amz-checksum-crc32c"),
            checksum::Compute(checksum::Algorithm::kCrc32c, checksum::AsBytes("abc")));
  // A part copied on the server was never read here: the source's claimed CRC32C is not sent
  // as the whole object's (the store combines the parts' CRC32Cs alone).
  S3Backend source(*client_, "src", "");
  ObjectInfo object;
  object.key = "s";
  object.size = 3;
  object.etag = "e";
  writer = backend_->OpenChunkWriter("k2", spec, 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->CopyChunk(1, source, object, 0, 3, {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  const auto complete = Last("POST", "uploadId=u1");
  EXPECT_NE(complete.url.find("/k2?"), std::string::npos) << complete.url;
  EXPECT_EQ(complete.headers.Find("x-amz-checksum-crc32c"), nullptr);
  EXPECT_NE(complete.body.find("<ChecksumCRC32C>AAAAAA==</ChecksumCRC32C>"), std::string::npos)
      << complete.body;
}

TEST_F(S3FullObjectChecksumTest, AnotherAlgorithmAskedForIsKeptAsItIs) {
  WriteSpec spec;
  spec.size = 3;
  spec.checksum_algorithm = checksum::Algorithm::kSha256;
  auto writer = backend_->OpenChunkWriter("k", spec, 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  const auto create = Last("POST", "?uploads");
  EXPECT_EQ(create.headers.Get("x-amz-checksum-algorithm"), "SHA256");
  EXPECT_EQ(create.headers.Find("x-amz-checksum-type"), nullptr);
  ASSERT_TRUE((*writer)->Abort().ok());
}

TEST_F(S3VersionsTest, ServerSideCopyAsksNoVersionUnlessVersionsWereLearnt) {
  S3Backend source(*client_, "src", "");
  ObjectInfo object;
  object.key = "k";
  object.size = 3;
  object.etag = "e";
  transport_.Push(FakeReply::Ok("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"));
  auto copied = backend_->CopyFrom(source, object, "k", "", {});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->version_id, "");
  EXPECT_EQ(transport_.request_count(), base_ + 1) << "no HEAD for a version nobody needs";
  CheckVersioned();
  transport_.Push(FakeReply::Ok("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"));
  http::Headers head;
  head.Add("ETag", "\"e\"");
  head.Add("x-amz-version-id", "v7");
  transport_.Push(FakeReply::Ok("", head));
  copied = backend_->CopyFrom(source, object, "k", "", {});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->version_id, "v7");
  EXPECT_EQ(Request(1), "HEAD http://127.0.0.1:7480/b/root/k");
}

}  // namespace
}  // namespace ferry::storage
