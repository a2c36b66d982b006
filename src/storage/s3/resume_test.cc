// S3Backend's resume and cleanup paths against FakeTransport, with a key prefix (the
// conformance suite on RGW runs at a bucket's root): the requests sent and the keys returned.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "storage/s3/s3_backend.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

class S3ResumeTest : public ::testing::Test {
 protected:
  S3ResumeTest() : creds_(s3::Credentials{"AK", "SK", ""}) {
    s3::S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 1;
    client_ = std::make_unique<s3::S3Client>(o, transport_, creds_, clock_);
    backend_ = std::make_unique<S3Backend>(*client_, "b", "root/");
  }

  std::string Request(size_t i) const {
    const auto r = transport_.requests().at(i);
    return r.method + " " + r.url;
  }

  FakeTransport transport_;
  FakeClock clock_;
  s3::StaticCredentials creds_;
  std::unique_ptr<s3::S3Client> client_;
  std::unique_ptr<S3Backend> backend_;
};

TEST_F(S3ResumeTest, ResumeOfAGoneUploadIsNotFound) {
  transport_.Push(FakeReply::S3Error(404, "NoSuchUpload"));
  WriteSpec spec;
  spec.size = 10;
  auto writer = backend_->ResumeChunkWriter("k", "u1", spec, 5, {});
  EXPECT_EQ(writer.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(Request(0), "GET http://127.0.0.1:7480/b/root/k?max-parts=1000&uploadId=u1");
  EXPECT_EQ(backend_->ResumeChunkWriter("k", "", spec, 5, {}).status().code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(transport_.request_count(), 1u) << "an empty id is not sent";
}

TEST_F(S3ResumeTest, ResumedWriterCommitsAdoptedAndWrittenPartsInOrder) {
  const std::string kList =
      "<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
      "<ETag>\"e1\"</ETag><Size>5</Size></Part><Part><PartNumber>3</PartNumber>"
      "<ETag>\"e3\"</ETag><Size>2</Size></Part></ListPartsResult>";
  transport_.Push(FakeReply::Ok(kList));  // the existence check
  transport_.Push(FakeReply::Ok(kList));  // ListStoredParts
  WriteSpec spec;
  spec.size = 12;
  auto writer = backend_->ResumeChunkWriter("k", "u1", spec, 5, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_EQ((*writer)->upload_id(), "u1");
  auto stored = (*writer)->ListStoredParts({});
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  ASSERT_TRUE(stored->has_value());
  ASSERT_EQ((*stored)->size(), 2u);
  EXPECT_EQ((**stored)[1].part_number, 3);
  EXPECT_EQ((**stored)[1].etag, "e3");
  EXPECT_EQ((**stored)[1].size, 2u);
  for (const StoredPart& p : **stored) (*writer)->AdoptPart(p);

  http::Headers etag;
  etag.Add("ETag", "\"e2\"");
  transport_.Push(FakeReply::Ok("", etag));
  ASSERT_TRUE((*writer)->WriteChunk(2, 5, checksum::AsBytes("56789"), {}).ok());
  EXPECT_EQ(Request(2), "PUT http://127.0.0.1:7480/b/root/k?partNumber=2&uploadId=u1");
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag></CompleteMultipartUploadResult>"));
  auto committed = (*writer)->Commit({});
  ASSERT_TRUE(committed.ok()) << committed.status().ToString();
  EXPECT_EQ(committed->etag, "x-3");
  const std::string body = transport_.requests().at(3).body;
  const size_t p1 = body.find("<PartNumber>1</PartNumber>");
  const size_t p2 = body.find("<PartNumber>2</PartNumber>");
  const size_t p3 = body.find("<PartNumber>3</PartNumber>");
  ASSERT_NE(p1, std::string::npos);
  ASSERT_NE(p2, std::string::npos);
  ASSERT_NE(p3, std::string::npos);
  EXPECT_LT(p1, p2);
  EXPECT_LT(p2, p3);
  EXPECT_NE(body.find("e3"), std::string::npos);
}

TEST_F(S3ResumeTest, DetachedWriterIsNotAbortedWhenDestroyed) {
  transport_.Push(
      FakeReply::Ok("<InitiateMultipartUploadResult><UploadId>u9</UploadId>"
                    "</InitiateMultipartUploadResult>"));
  WriteSpec spec;
  spec.size = 10;
  {
    auto writer = backend_->OpenChunkWriter("k", spec, 5, {});
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    EXPECT_EQ((*writer)->upload_id(), "u9");
    (*writer)->Detach();
    EXPECT_TRUE((*writer)->Abort().ok()) << "Abort after Detach does nothing";
  }
  EXPECT_EQ(transport_.request_count(), 1u) << "no AbortMultipartUpload";
}

TEST_F(S3ResumeTest, PendingUploadsAreListedRelativeToThePrefixAndAborted) {
  transport_.Push(
      FakeReply::Ok("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated>"
                    "<Upload><Key>root/a/x</Key><UploadId>u1</UploadId>"
                    "<Initiated>2026-11-22T00:53:21.000Z</Initiated></Upload>"
                    "<Upload><Key>elsewhere/a</Key><UploadId>u2</UploadId></Upload>"
                    "</ListMultipartUploadsResult>"));
  auto pending = backend_->ListPendingUploads("a", {});
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_EQ(Request(0), "GET http://127.0.0.1:7480/b?prefix=root%2Fa&uploads");
  ASSERT_EQ(pending->size(), 1u) << "keys outside the root are never reported";
  EXPECT_EQ(pending->front().key, "a/x");
  EXPECT_EQ(pending->front().upload_id, "u1");
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::seconds>(pending->front().started.time_since_epoch())
          .count(),
      1795308801);

  transport_.Push(FakeReply::Ok());
  ASSERT_TRUE(backend_->AbortPendingUpload(pending->front(), {}).ok());
  EXPECT_EQ(Request(1), "DELETE http://127.0.0.1:7480/b/root/a/x?uploadId=u1");
  transport_.Push(FakeReply::S3Error(404, "NoSuchUpload"));
  EXPECT_TRUE(backend_->AbortPendingUpload(pending->front(), {}).ok()) << "absent is OK";
  transport_.Push(FakeReply::S3Error(403, "AccessDenied"));
  EXPECT_EQ(backend_->AbortPendingUpload(pending->front(), {}).code(),
            ErrorCode::kPermissionDenied);
}

}  // namespace
}  // namespace ferry::storage

namespace ferry::storage {
namespace {

std::string Page(const std::vector<std::string>& keys, bool truncated) {
  std::string xml = "<ListBucketResult><IsTruncated>" + std::string(truncated ? "true" : "false") +
                    "</IsTruncated>";
  for (const auto& k : keys) {
    xml += "<Contents><Key>" + k + "</Key><Size>1</Size><ETag>\"e\"</ETag></Contents>";
  }
  if (truncated) xml += "<NextContinuationToken>t</NextContinuationToken>";
  return xml + "</ListBucketResult>";
}

Status Drain(ListingCursor& cursor, int limit) {
  for (int i = 0; i < limit; ++i) {
    auto next = cursor.Next();
    if (!next.ok()) return next.status();
    if (*next == nullptr) return Status::Ok();
  }
  return Status::Internal("did not end");
}

TEST_F(S3ResumeTest, ListingFailsInsteadOfLoopingWhenAServerRepeatsAPage) {
  for (int i = 0; i < 5; ++i) {  // the same page again and again, with a continuation token
    transport_.Push(FakeReply::Ok(Page({"root/a", "root/b"}, true)));
  }
  auto cursor = backend_->List("");
  ASSERT_TRUE(cursor.ok());
  Status s = Drain(**cursor, 100);
  EXPECT_EQ(s.code(), ErrorCode::kInternal) << s.ToString();
  EXPECT_NE(s.message().find("not in ascending key order"), std::string::npos) << s.message();
  EXPECT_EQ(transport_.request_count(), 2u);
}

TEST_F(S3ResumeTest, ListingFailsWhenAServerIgnoresStartAfter) {
  transport_.Push(FakeReply::Ok(Page({"root/a", "root/b", "root/c"}, false)));
  auto cursor = backend_->ListFrom("", "b");
  ASSERT_TRUE(cursor.ok());
  Status s = Drain(**cursor, 100);
  EXPECT_EQ(s.code(), ErrorCode::kInternal) << s.ToString();
  EXPECT_NE(s.message().find("ignores start-after"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ferry::storage

namespace ferry::storage {
namespace {

// On AWS, an SSE-KMS or SSE-C object's ETag is not the MD5 of its bytes although it looks like
// one: Put reports no ETag (nobody may compare it with a source MD5) and Stat marks it opaque.
TEST_F(S3ResumeTest, EncryptedObjectsHaveNoComparableEtag) {
  http::Headers kms;
  kms.Add("ETag", "\"0123456789abcdef0123456789abcdef\"");
  kms.Add("x-amz-server-side-encryption", "aws:kms");
  transport_.Push(FakeReply::Ok("", kms));
  WriteSpec spec;
  spec.size = 3;
  auto etag = backend_->Put("k", checksum::AsBytes("abc"), spec, {});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, "");

  http::Headers head = kms;
  head.Add("Content-Length", "3");
  transport_.Push(FakeReply::Ok("", head));
  auto info = backend_->Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->etag_opaque);
  EXPECT_FALSE(info->etag_is_md5());

  http::Headers plain;
  plain.Add("ETag", "\"900150983cd24fb0d6963f7d28e17f72\"");
  plain.Add("x-amz-server-side-encryption", "AES256");  // SSE-S3: the ETag is still the MD5
  transport_.Push(FakeReply::Ok("", plain));
  etag = backend_->Put("k", checksum::AsBytes("abc"), spec, {});
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(etag->etag, "900150983cd24fb0d6963f7d28e17f72");
}

// WrittenPartMd5: the UploadPart ETag of a part this writer sent (the server checked the
// signed payload), never an adopted part's nor an encrypted part's.
TEST_F(S3ResumeTest, WrittenPartMd5IsTheUploadPartEtag) {
  transport_.Push(FakeReply::Ok(
      "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"));
  WriteSpec spec;
  spec.size = 12;
  auto writer = backend_->OpenChunkWriter("k", spec, 5, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  http::Headers etag;
  etag.Add("ETag", "\"0CC175B9C0F1B6A831C399E269772661\"");
  transport_.Push(FakeReply::Ok("", etag));
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("a"), {}).ok());
  EXPECT_EQ((*writer)->WrittenPartMd5(1), "0CC175B9C0F1B6A831C399E269772661");
  EXPECT_EQ(transport_.requests().at(1).headers.Find("Content-MD5"), nullptr);
  http::Headers kms = etag;
  kms.Add("x-amz-server-side-encryption", "aws:kms");
  transport_.Push(FakeReply::Ok("", kms));
  ASSERT_TRUE((*writer)->WriteChunk(2, 5, checksum::AsBytes("a"), {}).ok());
  EXPECT_EQ((*writer)->WrittenPartMd5(2), "");
  (*writer)->AdoptPart({3, "92eb5ffee6ae2fec3ad71c777531578f", 2});
  EXPECT_EQ((*writer)->WrittenPartMd5(3), "");
  EXPECT_EQ((*writer)->WrittenPartMd5(4), "");
  (*writer)->Detach();
}

TEST_F(S3ResumeTest, PutSendsTheSourceMd5AsContentMd5) {
  transport_.Push(FakeReply::Ok());
  WriteSpec spec;
  spec.size = 3;
  spec.content_md5 = "kAFQmDzST7DWlj99KOF/cg==";  // MD5 of "abc", from the source's ETag
  ASSERT_TRUE(backend_->Put("k", checksum::AsBytes("abd"), spec, {}).ok());
  EXPECT_EQ(transport_.requests().at(0).headers.Get("Content-MD5"), "kAFQmDzST7DWlj99KOF/cg==");
}

}  // namespace
}  // namespace ferry::storage
