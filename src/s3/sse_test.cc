// Server-side encryption: the headers each request carries (s3/sse.h), the customer key's
// checks and MD5, and the client's refusal of a write the store did not encrypt.
#include "s3/sse.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "s3/client.h"
#include "s3/errors.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

// A test-only key (the same one tests/cli/sse_test.sh uses).
const std::string kKey = "abcdefghijklmnopqrstuvwxyz123456";
const std::string kKeyBase64 = "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=";
// What Ceph RGW 16.2 and the AWS CLI answer as this key's MD5 (measured).
const std::string kKeyMd5 = "nud5zSq83khSRIVXLGziog==";
const std::string kOtherKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZ654321";

constexpr const char* kSse = "x-amz-server-side-encryption";
constexpr const char* kKmsKeyId = "x-amz-server-side-encryption-aws-kms-key-id";
constexpr const char* kAlgorithm = "x-amz-server-side-encryption-customer-algorithm";
constexpr const char* kKeyHeader = "x-amz-server-side-encryption-customer-key";
constexpr const char* kKeyMd5Header = "x-amz-server-side-encryption-customer-key-MD5";
constexpr const char* kCopyAlgorithm =
    "x-amz-copy-source-server-side-encryption-customer-algorithm";
constexpr const char* kCopyKey = "x-amz-copy-source-server-side-encryption-customer-key";
constexpr const char* kCopyKeyMd5 = "x-amz-copy-source-server-side-encryption-customer-key-MD5";

Encryption Kms(std::string id) { return Encryption{SseMode::kKms, std::move(id), ""}; }

TEST(SseTest, CustomerKeyMd5IsBase64OfTheRawKeysMd5) {
  EXPECT_EQ(CustomerKeyMd5(kKey), kKeyMd5);
}

TEST(SseTest, ParsesBase64KeysOf32Bytes) {
  auto key = ParseCustomerKey(kKeyBase64, "--sse-c-key");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(*key, kKey);
  // A key file's trailing newline is not part of it.
  EXPECT_EQ(ParseCustomerKey(kKeyBase64 + "\n", "f").value(), kKey);
  // Raw bytes only where allowed (a key file).
  EXPECT_FALSE(ParseCustomerKey(kKey, "--sse-c-key").ok());
  EXPECT_EQ(ParseCustomerKey(kKey, "file", /*allow_raw=*/true).value(), kKey);
}

TEST(SseTest, RefusesKeysThatAreNotBase64Of32BytesWithoutShowingThem) {
  auto short_key = ParseCustomerKey("c2hvcnRrZXlzaG9ydGtleQ==", "--sse-c-key");  // 16 bytes
  ASSERT_FALSE(short_key.ok());
  EXPECT_EQ(short_key.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(short_key.status().message().find("--sse-c-key"), std::string::npos);
  EXPECT_NE(short_key.status().message().find("16 bytes"), std::string::npos);
  EXPECT_EQ(short_key.status().message().find("c2hvcnRrZXlzaG9ydGtleQ"), std::string::npos);
  auto not_base64 = ParseCustomerKey("not base64 at all!", "--sse-c-key");
  ASSERT_FALSE(not_base64.ok());
  EXPECT_EQ(not_base64.status().message().find("not base64 at all"), std::string::npos);
  EXPECT_EQ(not_base64.status().message().find('\n'), std::string::npos);
}

TEST(SseTest, ParsesModes) {
  EXPECT_EQ(ParseSseMode("AES256").value(), SseMode::kS3);
  EXPECT_EQ(ParseSseMode("aws:kms").value(), SseMode::kKms);
  EXPECT_EQ(ParseSseMode("aes256").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(ParseSseMode("").status().code(), ErrorCode::kInvalidArgument);
}

TEST(SseTest, KmsAndS3HeadersGoOnWritesOnly) {
  for (SseRequest r : {SseRequest::kPart, SseRequest::kComplete, SseRequest::kRead}) {
    http::Headers h;
    AddSseHeaders(Kms("testkey-1"), r, h);
    EXPECT_TRUE(h.entries().empty());
  }
  http::Headers kms;
  AddSseHeaders(Kms("testkey-1"), SseRequest::kWrite, kms);
  EXPECT_EQ(kms.Get(kSse), "aws:kms");
  EXPECT_EQ(kms.Get(kKmsKeyId), "testkey-1");
  EXPECT_EQ(kms.entries().size(), 2u);
  http::Headers kms_default;
  AddSseHeaders(Kms(""), SseRequest::kWrite, kms_default);
  EXPECT_EQ(kms_default.Get(kSse), "aws:kms");
  EXPECT_EQ(kms_default.Find(kKmsKeyId), nullptr);
  http::Headers aes;
  AddSseHeaders(Encryption{SseMode::kS3, "", ""}, SseRequest::kWrite, aes);
  EXPECT_EQ(aes.Get(kSse), "AES256");
  EXPECT_EQ(aes.entries().size(), 1u);
  http::Headers none;
  AddSseHeaders(Encryption{}, SseRequest::kWrite, none);
  EXPECT_TRUE(none.entries().empty());
}

TEST(SseTest, CustomerKeyHeadersGoOnEveryRequestOfTheBytes) {
  for (SseRequest r : {SseRequest::kWrite, SseRequest::kPart, SseRequest::kComplete,
                       SseRequest::kRead}) {
    http::Headers h;
    AddSseHeaders(Encryption::Customer(kKey), r, h);
    EXPECT_EQ(h.Get(kAlgorithm), "AES256");
    EXPECT_EQ(h.Get(kKeyHeader), kKeyBase64);
    EXPECT_EQ(h.Get(kKeyMd5Header), kKeyMd5);
    EXPECT_EQ(h.Find(kSse), nullptr);
  }
  http::Headers copy;
  AddCopySourceKeyHeaders(kKey, copy);
  EXPECT_EQ(copy.Get(kCopyAlgorithm), "AES256");
  EXPECT_EQ(copy.Get(kCopyKey), kKeyBase64);
  EXPECT_EQ(copy.Get(kCopyKeyMd5), kKeyMd5);
  http::Headers no_copy;
  AddCopySourceKeyHeaders("", no_copy);
  EXPECT_TRUE(no_copy.entries().empty());
}

TEST(SseTest, ConfirmationOfWrites) {
  http::Headers kms;
  kms.Add(kSse, "aws:kms");
  kms.Add(kKmsKeyId, "testkey-1");
  EXPECT_TRUE(CheckSseConfirmed(Kms("testkey-1"), kms, "b/k").ok());
  EXPECT_TRUE(CheckSseConfirmed(Kms(""), kms, "b/k").ok());
  EXPECT_EQ(CheckSseConfirmed(Kms("testkey-2"), kms, "b/k").code(), ErrorCode::kNotSupported);
  // AWS answers the key's ARN.
  http::Headers arn;
  arn.Add(kSse, "aws:kms");
  arn.Add(kKmsKeyId, "arn:aws:kms:eu-west-1:1:key/testkey-1");
  EXPECT_TRUE(CheckSseConfirmed(Kms("testkey-1"), arn, "b/k").ok());
  // What Ceph RGW 16.2 answers to AES256: 200 and no encryption header (plain bytes stored).
  const Status plain = CheckSseConfirmed(Encryption{SseMode::kS3, "", ""}, http::Headers{}, "b/k");
  EXPECT_EQ(plain.code(), ErrorCode::kNotSupported);
  EXPECT_NE(plain.message().find("did not confirm server-side encryption AES256"),
            std::string::npos);
  http::Headers customer;
  customer.Add(kAlgorithm, "AES256");
  EXPECT_TRUE(CheckSseConfirmed(Encryption::Customer(kKey), customer, "b/k").ok());
  EXPECT_FALSE(CheckSseConfirmed(Encryption::Customer(kKey), kms, "b/k").ok());
  EXPECT_TRUE(CheckSseConfirmed(Encryption{}, http::Headers{}, "b/k").ok());
}

TEST(SseTest, ABodiless400AboutAnObjectSaysAnSseCKeyMayBeMissing) {
  ErrorTarget object;
  object.endpoint = "http://127.0.0.1:7480";
  object.bucket = "b";
  object.key = "k";
  const Status s = StatusFromReply(400, "", object);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("an SSE-C encrypted object is read only with its customer key"),
            std::string::npos)
      << s.message();
  ErrorTarget bucket = object;
  bucket.key = "";
  EXPECT_EQ(StatusFromReply(400, "", bucket).message().find("SSE-C"), std::string::npos);
}

class SseClientTest : public ::testing::Test {
 protected:
  SseClientTest() : creds_(Credentials{"AK", "SK", ""}) {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 1;
    client_ = std::make_unique<S3Client>(o, transport_, creds_, clock_);
  }
  http::Headers Sent(size_t i) const { return transport_.requests().at(i).headers; }

  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  std::unique_ptr<S3Client> client_;
};

http::Headers Replied(std::initializer_list<std::pair<const char*, const char*>> list) {
  http::Headers h;
  h.Add("ETag", "\"0cc175b9c0f1b6a831c399e269772661\"");
  for (const auto& [n, v] : list) h.Add(n, v);
  return h;
}

TEST_F(SseClientTest, PutObjectSendsKmsHeadersAndReportsTheEncryption) {
  transport_.Push(FakeReply::Ok("", Replied({{kSse, "aws:kms"}, {kKmsKeyId, "testkey-1"}})));
  WriteOptions options;
  options.encryption = Kms("testkey-1");
  ObjectHead reply;
  const std::string body = "a";
  auto etag = client_->PutObject("b", "k", checksum::AsBytes(body), options, {}, &reply);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(Sent(0).Get(kSse), "aws:kms");
  EXPECT_EQ(Sent(0).Get(kKmsKeyId), "testkey-1");
  EXPECT_TRUE(reply.etag_not_md5());
}

TEST_F(SseClientTest, PutObjectTheStoreDidNotEncryptIsRemovedAndRefused) {
  transport_.Push(FakeReply::Ok("", Replied({})));  // RGW 16 and AES256
  transport_.Push(FakeReply::Ok());                  // the DELETE
  WriteOptions options;
  options.encryption = Encryption{SseMode::kS3, "", ""};
  const std::string body = "a";
  auto etag = client_->PutObject("b", "k", checksum::AsBytes(body), options);
  ASSERT_FALSE(etag.ok());
  EXPECT_EQ(etag.status().code(), ErrorCode::kNotSupported);
  ASSERT_EQ(transport_.requests().size(), 2u);
  EXPECT_EQ(transport_.requests()[1].method, "DELETE");
  EXPECT_EQ(Sent(0).Get(kSse), "AES256");
}

TEST_F(SseClientTest, MultipartSendsCustomerKeyOnEveryRequest) {
  transport_.Push(FakeReply::Ok(
      "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>",
      Replied({{kAlgorithm, "AES256"}})));
  transport_.Push(FakeReply::Ok("", Replied({{kAlgorithm, "AES256"}})));
  transport_.Push(FakeReply::Ok(
      "<CopyPartResult><ETag>\"92eb5ffee6ae2fec3ad71c777531578f\"</ETag></CopyPartResult>"));
  transport_.Push(FakeReply::Ok(
      "<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>"));
  WriteOptions options;
  options.encryption = Encryption::Customer(kKey);
  auto upload = client_->CreateMultipartUpload("b", "k", options);
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  const std::string body(5 << 20, 'x');
  auto part = client_->UploadPart({.bucket = "b", .key = "k", .upload_id = *upload,
                                   .part_number = 1, .body = checksum::AsBytes(body),
                                   .encryption = Encryption::Customer(kKey)});
  ASSERT_TRUE(part.ok()) << part.status().ToString();
  UploadPartCopyRequest copy;
  copy.source = {"src", "s", "", "", kOtherKey};
  copy.bucket = "b";
  copy.key = "k";
  copy.upload_id = *upload;
  copy.part_number = 2;
  copy.encryption = Encryption::Customer(kKey);
  ASSERT_TRUE(client_->UploadPartCopy(copy).ok());
  const std::vector<CompletedPart> parts = {{1, "a", 5 << 20}, {2, "b", 1}};
  ASSERT_TRUE(client_->CompleteMultipartUpload("b", "k", *upload, parts, {}, kKey).ok());
  ASSERT_EQ(transport_.requests().size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(Sent(i).Get(kAlgorithm), "AES256") << i;
    EXPECT_EQ(Sent(i).Get(kKeyHeader), kKeyBase64) << i;
    EXPECT_EQ(Sent(i).Get(kKeyMd5Header), kKeyMd5) << i;
  }
  // The part copy names its source's key under the copy-source names.
  EXPECT_EQ(Sent(2).Get(kCopyKey), checksum::Base64(std::span(
                                       reinterpret_cast<const uint8_t*>(kOtherKey.data()), 32)));
  EXPECT_EQ(Sent(2).Get(kCopyKeyMd5), CustomerKeyMd5(kOtherKey));
  EXPECT_EQ(Sent(1).Find(kCopyKey), nullptr);
}

TEST_F(SseClientTest, KmsUploadNamesTheKeyOnCreateOnly) {
  transport_.Push(FakeReply::Ok(
      "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>",
      Replied({{kSse, "aws:kms"}, {kKmsKeyId, "testkey-2"}})));
  transport_.Push(FakeReply::Ok("", Replied({{kSse, "aws:kms"}})));
  WriteOptions options;
  options.encryption = Kms("testkey-2");
  auto upload = client_->CreateMultipartUpload("b", "k", options);
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  const std::string body(16, 'x');
  ASSERT_TRUE(client_->UploadPart({.bucket = "b", .key = "k", .upload_id = *upload,
                                   .part_number = 1, .body = checksum::AsBytes(body),
                                   .encryption = Kms("testkey-2")})
                  .ok());
  EXPECT_EQ(Sent(0).Get(kSse), "aws:kms");
  EXPECT_EQ(Sent(0).Get(kKmsKeyId), "testkey-2");
  EXPECT_EQ(Sent(1).Find(kSse), nullptr);
  EXPECT_EQ(Sent(1).Find(kKmsKeyId), nullptr);
}

TEST_F(SseClientTest, UnconfirmedUploadIsAbortedBeforeAnyPart) {
  transport_.Push(FakeReply::Ok(
      "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>"));
  transport_.Push(FakeReply::Ok());  // the abort
  WriteOptions options;
  options.encryption = Encryption{SseMode::kS3, "", ""};
  auto upload = client_->CreateMultipartUpload("b", "k", options);
  ASSERT_FALSE(upload.ok());
  EXPECT_EQ(upload.status().code(), ErrorCode::kNotSupported);
  ASSERT_EQ(transport_.requests().size(), 2u);
  EXPECT_EQ(transport_.requests()[1].method, "DELETE");
}

TEST_F(SseClientTest, CopyObjectSendsSourceAndDestinationKeys) {
  transport_.Push(FakeReply::Ok(
      "<CopyObjectResult><ETag>\"0cc175b9c0f1b6a831c399e269772661\"</ETag></CopyObjectResult>",
      Replied({{kAlgorithm, "AES256"}})));
  CopyObjectRequest copy;
  copy.source = {"src", "s", "", "", kKey};
  copy.bucket = "b";
  copy.key = "k";
  copy.encryption = Encryption::Customer(kOtherKey);
  auto written = client_->CopyObject(copy);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(Sent(0).Get(kCopyAlgorithm), "AES256");
  EXPECT_EQ(Sent(0).Get(kCopyKey), kKeyBase64);
  EXPECT_EQ(Sent(0).Get(kCopyKeyMd5), kKeyMd5);
  EXPECT_EQ(Sent(0).Get(kKeyMd5Header), CustomerKeyMd5(kOtherKey));
}

TEST_F(SseClientTest, ReadsSendTheCustomerKey) {
  transport_.Push(FakeReply::Ok("", Replied({{kAlgorithm, "AES256"}, {"Content-Length", "1"}})));
  transport_.Push(FakeReply::Ok("", Replied({{kAlgorithm, "AES256"}, {"Content-Length", "1"}})));
  transport_.Push(FakeReply::Ok("a", Replied({{kAlgorithm, "AES256"}})));
  transport_.Push(FakeReply::Ok("", Replied({})));
  auto head = client_->HeadObject("b", "k", {}, {}, kKey);
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->encryption, "SSE-C");
  EXPECT_TRUE(head->etag_not_md5());
  ASSERT_TRUE(client_->HeadObjectPart("b", "k", 1, {}, kKey).ok());
  http::StringSink sink;
  GetObjectRequest get{"b", "k", {}, "", "", kKey};
  ASSERT_TRUE(client_->GetObject(get, sink).ok());
  ASSERT_TRUE(client_->HeadObject("b", "plain").ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(Sent(i).Get(kKeyMd5Header), kKeyMd5) << i;
  EXPECT_EQ(Sent(3).Find(kKeyHeader), nullptr);
}

}  // namespace
}  // namespace ferry::s3
