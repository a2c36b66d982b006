// Multipart operations against FakeTransport/FakeClock, above all CompleteMultipartUpload's
// follow-up checks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "s3/client.h"
#include "s3/client_internal.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

const std::vector<CompletedPart> kParts = {{1, "0cc175b9c0f1b6a831c399e269772661", 5 << 20},
                                           {2, "92eb5ffee6ae2fec3ad71c777531578f", 1}};

FakeReply HeadWithEtag(const std::string& etag) {
  http::Headers h;
  h.Add("ETag", "\"" + etag + "\"");
  h.Add("Content-Length", "5242881");
  return FakeReply::Ok("", h);
}

FakeReply NotFound() {
  FakeReply r;
  r.status = 404;
  return r;
}

class MultipartTest : public ::testing::Test {
 protected:
  MultipartTest() : creds_(Credentials{"AK", "SK", ""}) {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 3;
    client_ = std::make_unique<S3Client>(o, transport_, creds_, clock_);
  }
  std::vector<std::string> Methods() {
    std::vector<std::string> m;
    for (const auto& r : transport_.requests()) m.push_back(r.method);
    return m;
  }

  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  std::unique_ptr<S3Client> client_;
};

TEST(ExpectedMultipartEtagTest, IsMd5OfPartMd5sWithCount) {
  // md5 of the two binary digests, computed independently.
  std::string digests;
  for (const auto& p : kParts) {
    for (size_t i = 0; i < 32; i += 2) {
      digests.push_back(static_cast<char>(std::stoi(p.etag.substr(i, 2), nullptr, 16)));
    }
  }
  EXPECT_EQ(ExpectedMultipartEtag(kParts),
            checksum::Hex(checksum::Md5(checksum::AsBytes(digests))) + "-2");
  const std::vector<CompletedPart> odd = {{1, "not-an-md5", 1}};
  EXPECT_EQ(ExpectedMultipartEtag(odd), "");
}

TEST_F(MultipartTest, CompleteReturnsTheVersionAndAsksHeadOfThatVersion) {
  http::Headers h;
  h.Add("x-amz-version-id", "v3");
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag></ETag></CompleteMultipartUploadResult>", h));
  transport_.Push(HeadWithEtag("abc-2"));
  auto done = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->etag, "abc-2");
  EXPECT_EQ(done->version_id, "v3");
  // A later write may be current already: the HEAD asks for this version.
  EXPECT_EQ(transport_.requests().at(1).url, "http://127.0.0.1:7480/b/k?versionId=v3");
}

TEST_F(MultipartTest, CompleteWithEmptyEtagAsksHead) {
  transport_.Push(
      FakeReply::Ok("<CompleteMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><ETag></ETag>"
                    "</CompleteMultipartUploadResult>"));
  transport_.Push(HeadWithEtag("abc-2"));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, "abc-2");
  EXPECT_EQ(Methods(), (std::vector<std::string>{"POST", "HEAD"}));
  const auto post = transport_.requests().at(0);
  EXPECT_EQ(post.url, "http://127.0.0.1:7480/b/k?uploadId=u1");
  EXPECT_NE(
      post.body.find("<PartNumber>2</PartNumber><ETag>&quot;92eb5ffee6ae2fec3ad71c777531578f"),
      std::string::npos);
}

TEST_F(MultipartTest, CompleteReturnsTheReplyEtagWhenPresent) {
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag></CompleteMultipartUploadResult>"));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(etag->etag, "x-2");
  EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(MultipartTest, LostReplyIsDetectedWithHeadInsteadOfRetrying) {
  const std::string expected = ExpectedMultipartEtag(kParts);
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset")));
  transport_.Push(HeadWithEtag(expected));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, expected);
  EXPECT_EQ(Methods(), (std::vector<std::string>{"POST", "HEAD"}));
}

TEST_F(MultipartTest, TransientFailureWithoutCompletionIsRetried) {
  transport_.Push(FakeReply::S3Error(503, "SlowDown"));
  transport_.Push(HeadWithEtag("someoneelse-7"));  // an older object: not ours
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"y-2\"</ETag></CompleteMultipartUploadResult>"));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, "y-2");
  EXPECT_EQ(Methods(), (std::vector<std::string>{"POST", "HEAD", "POST"}));
  EXPECT_EQ(clock_.sleeps().size(), 1u);
}

TEST_F(MultipartTest, NoSuchUploadAfterARetryIsSuccessWhenHeadShowsTheObject) {
  const std::string expected = ExpectedMultipartEtag(kParts);
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("timeout")));
  transport_.Push(NotFound());  // HEAD: not visible yet
  transport_.Push(FakeReply::S3Error(404, "NoSuchUpload"));
  transport_.Push(HeadWithEtag(expected));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, expected);
  EXPECT_EQ(Methods(), (std::vector<std::string>{"POST", "HEAD", "POST", "HEAD"}));
}

TEST_F(MultipartTest, NoSuchUploadWithoutTheObjectIsNotFound) {
  const std::vector<CompletedPart> parts = {{1, "kms-etag-1", 1}};  // no exact ETag to compare
  transport_.Push(FakeReply::S3Error(404, "NoSuchUpload"));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", parts);
  EXPECT_EQ(etag.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(etag.status().message(), "upload not found: u1 of s3://b/k (404 NoSuchUpload)");
  EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(MultipartTest, OpaquePartEtagsNeedTheSizeTooBeforeALostReplyCountsAsDone) {
  const std::vector<CompletedPart> parts = {{1, "kms-etag-1", 7}};  // no exact ETag to compare
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset")));
  transport_.Push(HeadWithEtag("other-1"));  // another writer's object: 5242881 bytes, not 7
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"ours-1\"</ETag></CompleteMultipartUploadResult>"));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", parts);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, "ours-1");  // completed by the retry, not mistaken for the other object
  EXPECT_EQ(Methods(), (std::vector<std::string>{"POST", "HEAD", "POST"}));
}

TEST_F(MultipartTest, ErrorInsideA200IsTransient) {
  transport_.Push(FakeReply::Ok("<Error><Code>InternalError</Code><Message>x</Message></Error>"));
  transport_.Push(NotFound());
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"z-2\"</ETag></CompleteMultipartUploadResult>"));
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, "z-2");
}

TEST_F(MultipartTest, CompleteGivesUpAfterMaxAttempts) {
  for (int i = 0; i < 3; ++i) {
    transport_.Push(FakeReply::S3Error(503, "SlowDown"));
    transport_.Push(NotFound());
  }
  auto etag = client_->CompleteMultipartUpload("b", "k", "u1", kParts);
  EXPECT_EQ(etag.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(etag.status().message().find("[after 3 attempts]"), std::string::npos);
  EXPECT_EQ(transport_.request_count(), 6u);
}

TEST_F(MultipartTest, CompleteRejectsBadPartLists) {
  const std::vector<CompletedPart> unordered = {{2, "a", 1}, {1, "b", 1}};
  EXPECT_EQ(client_->CompleteMultipartUpload("b", "k", "u", unordered).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(client_->CompleteMultipartUpload("b", "k", "u", {}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(transport_.request_count(), 0u);
}

TEST_F(MultipartTest, CreateUploadPartAndCopyPart) {
  transport_.Push(FakeReply::Ok(
      "<InitiateMultipartUploadResult><UploadId>2~id</UploadId></InitiateMultipartUploadResult>"));
  WriteOptions w;
  w.storage_class = "STANDARD_IA";
  w.metadata = {{"a", "b"}};
  auto id = client_->CreateMultipartUpload("b", "k", w);
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(*id, "2~id");
  EXPECT_EQ(transport_.requests().at(0).url, "http://127.0.0.1:7480/b/k?uploads");
  EXPECT_EQ(transport_.requests().at(0).headers.Get("x-amz-storage-class"), "STANDARD_IA");

  http::Headers h;
  h.Add("ETag", "\"0cc175b9c0f1b6a831c399e269772661\"");
  transport_.Push(FakeReply::Ok("", h));
  const std::string body = "a";
  auto part = client_->UploadPart({.bucket = "b",
                                   .key = "k",
                                   .upload_id = *id,
                                   .part_number = 1,
                                   .body = checksum::AsBytes(body), .encryption = {}});
  ASSERT_TRUE(part.ok());
  EXPECT_EQ(*part, "0cc175b9c0f1b6a831c399e269772661");
  const auto put = transport_.requests().at(1);
  EXPECT_EQ(put.url, "http://127.0.0.1:7480/b/k?partNumber=1&uploadId=2~id");
  // The signed SHA-256 of the payload makes the server check the part: no Content-MD5 too.
  EXPECT_EQ(put.headers.Find("Content-MD5"), nullptr);
  EXPECT_EQ(put.headers.Get("x-amz-content-sha256"), checksum::Sha256Hex("a"));

  transport_.Push(FakeReply::Ok("<CopyPartResult><ETag>cafe</ETag></CopyPartResult>"));
  UploadPartCopyRequest req;
  req.source = {"src", "s k", "", "abc", ""};
  req.bucket = "b";
  req.key = "k";
  req.upload_id = *id;
  req.part_number = 2;
  req.range = {5, 10};
  auto copied = client_->UploadPartCopy(req);
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(*copied, "cafe");
  const auto copy = transport_.requests().at(2);
  EXPECT_EQ(copy.headers.Get("x-amz-copy-source"), "/src/s%20k");
  EXPECT_EQ(copy.headers.Get("x-amz-copy-source-range"), "bytes=5-14");
  // The source is pinned under both names (RGW reads only the legacy one for part copies).
  EXPECT_EQ(copy.headers.Get("x-amz-copy-source-if-match"), "\"abc\"");
  EXPECT_EQ(copy.headers.Get("x-amz-copy-if-match"), "\"abc\"");

  UploadPartRequest out_of_range{
      .bucket = "b", .key = "k", .upload_id = *id, .part_number = 0, .body = {},
      .encryption = {}};
  EXPECT_EQ(client_->UploadPart(out_of_range).status().code(), ErrorCode::kInvalidArgument);
  out_of_range.part_number = 10001;
  EXPECT_EQ(client_->UploadPart(out_of_range).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(MultipartTest, ListPartsFollowsPagination) {
  transport_.Push(FakeReply::Ok(
      "<ListPartsResult><IsTruncated>true</IsTruncated><NextPartNumberMarker>1"
      "</NextPartNumberMarker><Part><PartNumber>1</PartNumber><ETag>\"a\"</ETag><Size>5</Size>"
      "</Part></ListPartsResult>"));
  transport_.Push(FakeReply::Ok(
      "<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>2</PartNumber>"
      "<ETag>\"b\"</ETag><Size>1</Size></Part></ListPartsResult>"));
  auto parts = client_->ListParts("b", "k", "u1");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[1].etag, "b");
  EXPECT_EQ(transport_.requests().at(1).url,
            "http://127.0.0.1:7480/b/k?max-parts=1000&part-number-marker=1&uploadId=u1");
}

TEST_F(MultipartTest, ListMultipartUploadsFollowsPagination) {
  transport_.Push(
      FakeReply::Ok("<ListMultipartUploadsResult><EncodingType>url</EncodingType><IsTruncated>true"
                    "</IsTruncated><NextKeyMarker>a%20b</NextKeyMarker><NextUploadIdMarker>u1"
                    "</NextUploadIdMarker><Upload><Key>a%20b</Key><UploadId>u1</UploadId></Upload>"
                    "</ListMultipartUploadsResult>"));
  transport_.Push(FakeReply::Ok(
      "<ListMultipartUploadsResult><IsTruncated>false</IsTruncated><Upload><Key>c</Key>"
      "<UploadId>u2</UploadId></Upload></ListMultipartUploadsResult>"));
  auto uploads = client_->ListMultipartUploads("b", "p");
  ASSERT_TRUE(uploads.ok()) << uploads.status().ToString();
  ASSERT_EQ(uploads->size(), 2u);
  EXPECT_EQ((*uploads)[0].key, "a b");
  EXPECT_EQ(transport_.requests().at(1).url,
            "http://127.0.0.1:7480/b?key-marker=a%20b&prefix=p&upload-id-marker=u1&uploads");
}

TEST_F(MultipartTest, AbortIsIdempotent) {
  transport_.Push(FakeReply::S3Error(404, "NoSuchUpload"));
  EXPECT_TRUE(client_->AbortMultipartUpload("b", "k", "u1").ok());
  transport_.Push(FakeReply::S3Error(403, "AccessDenied"));
  EXPECT_EQ(client_->AbortMultipartUpload("b", "k", "u1").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(transport_.requests().at(0).method, "DELETE");
  EXPECT_EQ(transport_.requests().at(0).url, "http://127.0.0.1:7480/b/k?uploadId=u1");
}

// Where the payload is not signed (UNSIGNED-PAYLOAD over https, anonymous requests), the part
// goes with Content-MD5 so that the server still checks it; the reply says whether its ETag is
// the MD5 of the part (not for SSE-KMS).
TEST(UploadPartTest, ContentMd5OnlyWhenThePayloadIsNotSigned) {
  FakeTransport transport;
  FakeClock clock;
  StaticCredentials creds(Credentials{"AK", "SK", ""});
  StaticCredentials anonymous(Credentials{});
  S3Options o;
  o.endpoint = "https://s3.example.com";
  S3Client https(o, transport, creds, clock);
  o.endpoint = "http://127.0.0.1:7480";
  S3Client anon(o, transport, anonymous, clock);
  S3Client signed_http(o, transport, creds, clock);
  const std::string body = "a";
  http::Headers etag;
  etag.Add("ETag", "\"0cc175b9c0f1b6a831c399e269772661\"");
  for (int i = 0; i < 3; ++i) transport.Push(FakeReply::Ok("", etag));
  ObjectHead reply;
  UploadPartRequest part{.bucket = "b",
                         .key = "k",
                         .upload_id = "id",
                         .part_number = 1,
                         .body = checksum::AsBytes(body),
                         .encryption = {}};
  ASSERT_TRUE(https.UploadPart(part, {}, &reply).ok());
  ASSERT_TRUE(anon.UploadPart(part).ok());
  ASSERT_TRUE(signed_http.UploadPart(part).ok());
  EXPECT_FALSE(reply.etag_not_md5());
  const auto& sent = transport.requests();
  EXPECT_EQ(sent.at(0).headers.Get("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_EQ(sent.at(0).headers.Get("Content-MD5"), "DMF1ucDxtqgxw5niaXcmYQ==");
  EXPECT_EQ(sent.at(1).headers.Get("Content-MD5"), "DMF1ucDxtqgxw5niaXcmYQ==");
  EXPECT_EQ(sent.at(2).headers.Find("Content-MD5"), nullptr);

  http::Headers kms = etag;
  kms.Add("x-amz-server-side-encryption", "aws:kms");
  transport.Push(FakeReply::Ok("", kms));
  part.part_number = 2;
  ASSERT_TRUE(signed_http.UploadPart(part, {}, &reply).ok());
  EXPECT_TRUE(reply.etag_not_md5());
}

}  // namespace
}  // namespace ferry::s3
