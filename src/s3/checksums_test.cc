// S3's additional checksums on the wire against FakeTransport: what HEAD/GET replies declare
// (x-amz-checksum-* with x-amz-checksum-type; composite "-N" values; the ambiguous value of an
// object in parts), HEAD and whole GETs asking for them, and writes carrying an asked
// algorithm's checksum: PutObject (a known value as given, else computed; checked against the
// echo), CreateMultipartUpload (the algorithm; FULL_OBJECT for CRC64NVME, and for CRC32C when
// asked), UploadPart (each part's), CompleteMultipartUpload (every part named, those of another
// process from ListParts; a full-object upload's whole value).
#include <gtest/gtest.h>

#include <string>

#include "checksum/additional.h"
#include "checksum/checksum.h"
#include "s3/client.h"
#include "s3/client_internal.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using checksum::Algorithm;
using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;
using ferry::testing::RecordedRequest;

http::Headers ChecksumReply(std::initializer_list<std::pair<const char*, std::string>> list) {
  http::Headers h;
  for (const auto& [k, v] : list) h.Add(k, v);
  return h;
}

TEST(ChecksumHeadersTest, RepliesDeclareFullObjectOrCompositeValues) {
  auto full = ParseChecksumHeaders(ChecksumReply({{"x-amz-checksum-crc32", "y/Q5Jg=="},
                                                  {"ETag", "\"0123\""}}));
  ASSERT_TRUE(full);
  EXPECT_EQ(full->algorithm, Algorithm::kCrc32);
  EXPECT_TRUE(full->full_object());
  auto composite = ParseChecksumHeaders(
      ChecksumReply({{"x-amz-checksum-sha256", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=-3"},
                     {"x-amz-checksum-type", "COMPOSITE"},
                     {"ETag", "\"abc-3\""}}));
  ASSERT_TRUE(composite);
  EXPECT_EQ(composite->parts, 3);
  // AWS's default for every new object: a full-object CRC64NVME, also of objects in parts.
  auto nvme = ParseChecksumHeaders(ChecksumReply({{"x-amz-checksum-crc64nvme", "rosUhgp5mIg="},
                                                  {"x-amz-checksum-type", "FULL_OBJECT"},
                                                  {"ETag", "\"abc-3\""}}));
  ASSERT_TRUE(nvme);
  EXPECT_TRUE(nvme->full_object());
  EXPECT_FALSE(ParseChecksumHeaders(ChecksumReply({{"ETag", "\"0123\""}})));
}

// Never a false corruption: values that may not be the whole's checksum are not declared.
TEST(ChecksumHeadersTest, ValuesThatMayNotBeTheWholesAreLeftOut) {
  // Called composite but without its part count.
  EXPECT_FALSE(ParseChecksumHeaders(ChecksumReply({{"x-amz-checksum-crc32", "y/Q5Jg=="},
                                                   {"x-amz-checksum-type", "COMPOSITE"}})));
  // An object in parts whose value says neither its type nor a part count (moto's HEAD).
  EXPECT_FALSE(ParseChecksumHeaders(ChecksumReply(
      {{"x-amz-checksum-sha256", "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
       {"ETag", "\"abc-3\""}})));
  // A value of the wrong size for its algorithm (a CRC32 sent as CRC64NVME).
  EXPECT_FALSE(ParseChecksumHeaders(ChecksumReply({{"x-amz-checksum-crc64nvme", "y/Q5Jg=="}})));
}

class ChecksumWritesTest : public ::testing::Test {
 protected:
  ChecksumWritesTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {}
  S3Client MakeClient() {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 2;
    return S3Client(o, transport_, creds_, clock_);
  }
  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
};

TEST_F(ChecksumWritesTest, HeadAndWholeGetsAskForTheChecksumRangeGetsDoNot) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("", ChecksumReply({{"x-amz-checksum-crc32c", "4waSgw=="},
                                                  {"Content-Length", "9"}})));
  auto head = client.HeadObject("b", "k");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-mode"), "ENABLED");
  ASSERT_TRUE(head->checksum);
  EXPECT_EQ(head->checksum->value, "4waSgw==");
  http::StringSink whole;
  transport_.Push(FakeReply::Ok("123456789"));
  ASSERT_TRUE(client.GetObject({"b", "k", {}, "", "", ""}, whole).ok());
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-mode"), "ENABLED");
  http::StringSink part;
  FakeReply partial = FakeReply::Ok("234", ChecksumReply({{"Content-Range", "bytes 1-3/9"}}));
  partial.status = 206;
  transport_.Push(partial);
  ASSERT_TRUE(client.GetObject({"b", "k", {1, 3}, "", "", ""}, part).ok());
  EXPECT_EQ(transport_.requests().back().headers.Find("x-amz-checksum-mode"), nullptr);
}

TEST_F(ChecksumWritesTest, PutObjectSendsTheAskedChecksumAndChecksItsEcho) {
  S3Client client = MakeClient();
  const std::string body = "123456789";
  WriteOptions computed;
  computed.checksum_algorithm = Algorithm::kCrc64Nvme;
  transport_.Push(FakeReply::Ok("", ChecksumReply({{"x-amz-checksum-crc64nvme", "rosUhgp5mIg="}})));
  ASSERT_TRUE(client.PutObject("b", "k", checksum::AsBytes(body), computed).ok());
  RecordedRequest put = transport_.requests().back();
  EXPECT_EQ(put.headers.Get("x-amz-checksum-crc64nvme"), "rosUhgp5mIg=");
  EXPECT_EQ(put.headers.Get("x-amz-sdk-checksum-algorithm"), "CRC64NVME");
  EXPECT_EQ(put.headers.Find("Content-MD5"), nullptr);  // the checksum checks the body
  // A known value (the source's, already checked) is sent as it is: nothing hashed again.
  WriteOptions known;
  known.checksum_algorithm = Algorithm::kSha256;
  known.checksum_value = "c2hhMjU2IHZhbHVlIGdpdmVuIGJ5IHRoZSBzb3VyY2U=";
  transport_.Push(FakeReply::Ok("", {}));
  ASSERT_TRUE(client.PutObject("b", "k", checksum::AsBytes(body), known).ok());
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-sha256"), known.checksum_value);
  // The store says it received other bytes: data loss, not a write.
  transport_.Push(FakeReply::Ok("", ChecksumReply({{"x-amz-checksum-crc64nvme", "AAAAAAAAAAA="}})));
  EXPECT_EQ(client.PutObject("b", "k", checksum::AsBytes(body), computed).status().code(),
            ErrorCode::kDataLoss);
  // Nothing asked: no checksum header.
  transport_.Push(FakeReply::Ok("", {}));
  ASSERT_TRUE(client.PutObject("b", "k", checksum::AsBytes(body), {}).ok());
  EXPECT_EQ(transport_.requests().back().headers.Find("x-amz-sdk-checksum-algorithm"), nullptr);
}

TEST_F(ChecksumWritesTest, MultipartUploadsNameTheAlgorithmAndEveryPartsChecksum) {
  S3Client client = MakeClient();
  transport_.SetHandler([](const http::HttpRequest& r) {
    if (r.method == "POST" && r.url.ends_with("?uploads")) {
      return FakeReply::Ok(
          "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>");
    }
    if (r.method == "PUT") {
      http::Headers h;
      h.Set("ETag", "\"0123456789abcdef0123456789abcdef\"");
      return FakeReply::Ok("", h);
    }
    if (r.method == "GET") {  // ListParts: part 2 was sent by another process
      return FakeReply::Ok(
          "<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
          "<ETag>\"0123456789abcdef0123456789abcdef\"</ETag><Size>3</Size>"
          "<ChecksumSHA256>b25l</ChecksumSHA256></Part><Part><PartNumber>2</PartNumber>"
          "<ETag>\"0123456789abcdef0123456789abcdef\"</ETag><Size>3</Size>"
          "<ChecksumSHA256>dHdv</ChecksumSHA256></Part></ListPartsResult>");
    }
    return FakeReply::Ok(
        "<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>");
  });
  WriteOptions options;
  options.checksum_algorithm = Algorithm::kSha256;
  auto upload = client.CreateMultipartUpload("b", "big", options);
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-algorithm"), "SHA256");
  EXPECT_EQ(transport_.requests().back().headers.Find("x-amz-checksum-type"), nullptr);
  ASSERT_TRUE(client
                  .UploadPart({.bucket = "b",
                               .key = "big",
                               .upload_id = *upload,
                               .part_number = 1,
                               .body = checksum::AsBytes("abc"),
                               .encryption = {},
                               .checksum_algorithm = Algorithm::kSha256})
                  .ok());
  const std::string part1 = checksum::Compute(Algorithm::kSha256, checksum::AsBytes("abc"));
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-sha256"), part1);
  const CompletedPart parts[] = {{1, "0123456789abcdef0123456789abcdef", 3},
                                 {2, "0123456789abcdef0123456789abcdef", 3}};
  ASSERT_TRUE(client
                  .CompleteMultipartUpload(CompleteRequest{.bucket = "b",
                                                           .key = "big",
                                                           .upload_id = *upload,
                                                           .parts = parts,
                                                           .checksum_algorithm = Algorithm::kSha256})
                  .ok());
  const std::string body = transport_.requests().back().body;
  // Part 1 as this client sent it; part 2 (not sent here) as ListParts names it.
  EXPECT_NE(body.find("<ChecksumSHA256>" + part1 + "</ChecksumSHA256>"), std::string::npos) << body;
  EXPECT_NE(body.find("<ChecksumSHA256>dHdv</ChecksumSHA256>"), std::string::npos) << body;
  // CRC64NVME has no composite form: the upload says FULL_OBJECT.
  options.checksum_algorithm = Algorithm::kCrc64Nvme;
  ASSERT_TRUE(client.CreateMultipartUpload("b", "big2", options).ok());
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-type"), "FULL_OBJECT");
  // The plain completion of an upload without an algorithm names no checksum.
  ASSERT_TRUE(client.CompleteMultipartUpload("b", "big3", "u3", parts).ok());
  EXPECT_EQ(transport_.requests().back().body.find("Checksum"), std::string::npos);
}

// A full-object CRC32C (WriteOptions::full_object_checksum, what storage/s3 asks of AWS): the
// upload says CRC32C and FULL_OBJECT, each part carries its CRC32C, and the completion names
// the whole object's value with the type, which AWS checks against the parts and keeps.
TEST_F(ChecksumWritesTest, FullObjectCrc32cUploadsNameTheWholeObjectsValueOnCompletion) {
  S3Client client = MakeClient();
  transport_.SetHandler([](const http::HttpRequest& r) {
    if (r.method == "POST" && r.url.ends_with("?uploads")) {
      return FakeReply::Ok(
          "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>");
    }
    if (r.method == "PUT") {
      http::Headers h;
      h.Set("ETag", "\"0123456789abcdef0123456789abcdef\"");
      return FakeReply::Ok("", h);
    }
    return FakeReply::Ok(
        "<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>");
  });
  WriteOptions options;
  options.checksum_algorithm = Algorithm::kCrc32c;
  options.full_object_checksum = true;
  auto upload = client.CreateMultipartUpload("b", "big", options);
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-algorithm"), "CRC32C");
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-type"), "FULL_OBJECT");
  for (int part : {1, 2}) {
    ASSERT_TRUE(client
                    .UploadPart({.bucket = "b",
                                 .key = "big",
                                 .upload_id = *upload,
                                 .part_number = part,
                                 .body = checksum::AsBytes(part == 1 ? "abc" : "def"),
                                 .encryption = {},
                                 .checksum_algorithm = Algorithm::kCrc32c})
                    .ok());
  }
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-crc32c"),
            checksum::Compute(Algorithm::kCrc32c, checksum::AsBytes("def")));
  const std::string whole = checksum::Compute(Algorithm::kCrc32c, checksum::AsBytes("abcdef"));
  const CompletedPart parts[] = {{1, "0123456789abcdef0123456789abcdef", 3},
                                 {2, "0123456789abcdef0123456789abcdef", 3}};
  ASSERT_TRUE(client
                  .CompleteMultipartUpload(CompleteRequest{.bucket = "b",
                                                           .key = "big",
                                                           .upload_id = *upload,
                                                           .parts = parts,
                                                           .checksum_algorithm = Algorithm::kCrc32c,
                                                           .full_object_checksum = whole})
                  .ok());
  const RecordedRequest complete = transport_.requests().back();
  EXPECT_EQ(complete.headers.Get("x-amz-checksum-crc32c"), whole);
  EXPECT_EQ(complete.headers.Get("x-amz-checksum-type"), "FULL_OBJECT");
  EXPECT_NE(complete.body.find("<ChecksumCRC32C>" +
                               checksum::Compute(Algorithm::kCrc32c, checksum::AsBytes("abc")) +
                               "</ChecksumCRC32C>"),
            std::string::npos)
      << complete.body;
  // Without full_object_checksum a CRC32C upload stays composite: no type.
  options.full_object_checksum = false;
  ASSERT_TRUE(client.CreateMultipartUpload("b", "big2", options).ok());
  EXPECT_EQ(transport_.requests().back().headers.Find("x-amz-checksum-type"), nullptr);
}

}  // namespace
}  // namespace ferry::s3
