// Object lock and ACL headers and operations of S3Client (s3/ops/object_lock.cc, the write
// headers of client.cc), against FakeTransport; their XML documents (xml.cc).
#include <gtest/gtest.h>

#include <string>

#include "checksum/checksum.h"
#include "s3/client.h"
#include "s3/client_internal.h"
#include "s3/time_format.h"
#include "s3/xml.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

class ObjectLockClientTest : public ::testing::Test {
 protected:
  ObjectLockClientTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {}
  S3Client MakeClient() {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 2;
    o.metrics = &metrics_;
    return S3Client(o, transport_, creds_, clock_);
  }
  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  obs::Registry metrics_;
};

// RGW 16's HEAD of a locked version (measured): nanoseconds in the date.
TEST(ObjectLockHeadTest, ParsesLockHeaders) {
  http::Headers h;
  h.Add("Content-Length", "6");
  h.Add("x-amz-object-lock-legal-hold", "ON");
  h.Add("x-amz-object-lock-mode", "GOVERNANCE");
  h.Add("x-amz-object-lock-retain-until-date", "2026-11-26T20:34:00.000000000Z");
  const ObjectHead head = ParseObjectHead(h);
  EXPECT_EQ(head.lock.mode, "GOVERNANCE");
  EXPECT_EQ(head.lock.retain_until, "2026-11-26T20:34:00.000000000Z");
  EXPECT_TRUE(head.lock.legal_hold);
  const auto until = ParseIso8601(head.lock.retain_until);
  ASSERT_TRUE(until.has_value());
  EXPECT_EQ(FormatIso8601(*until), "2026-11-26T20:34:00.000Z");

  http::Headers none;
  none.Add("x-amz-object-lock-legal-hold", "OFF");
  EXPECT_FALSE(ParseObjectHead(none).lock.any());
}

TEST(ObjectLockHeadTest, WriteHeadersCarryLockAndAcl) {
  WriteOptions w;
  w.lock = {"COMPLIANCE", "2030-01-02T03:04:05.000Z", true};
  w.acl.grant_read = "id=\"alice\"";
  w.acl.grant_full_control = "id=\"bob\"";
  http::Headers h;
  AddWriteHeaders(w, h);
  EXPECT_EQ(h.Get("x-amz-object-lock-mode"), "COMPLIANCE");
  EXPECT_EQ(h.Get("x-amz-object-lock-retain-until-date"), "2030-01-02T03:04:05.000Z");
  EXPECT_EQ(h.Get("x-amz-object-lock-legal-hold"), "ON");
  EXPECT_EQ(h.Get("x-amz-grant-read"), "id=\"alice\"");
  EXPECT_EQ(h.Get("x-amz-grant-full-control"), "id=\"bob\"");
  EXPECT_EQ(h.Find("x-amz-acl"), nullptr);

  http::Headers plain;
  AddWriteHeaders(WriteOptions{}, plain);
  EXPECT_EQ(plain.Find("x-amz-object-lock-mode"), nullptr);
  EXPECT_EQ(plain.Find("x-amz-object-lock-legal-hold"), nullptr);
  EXPECT_EQ(plain.Find("x-amz-grant-read"), nullptr);
}

// S3 requires a Content-MD5 with object lock headers, even where the payload is signed.
TEST_F(ObjectLockClientTest, PutObjectWithLockSendsContentMd5) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok());
  transport_.Push(FakeReply::Ok());
  WriteOptions w;
  w.lock.legal_hold = true;
  w.acl.canned = "public-read";
  ASSERT_TRUE(client.PutObject("b", "k", checksum::AsBytes("abc"), w).ok());
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.headers.Get("Content-MD5"), checksum::Base64(checksum::Md5(checksum::AsBytes("abc"))));
  EXPECT_EQ(r.headers.Get("x-amz-object-lock-legal-hold"), "ON");
  EXPECT_EQ(r.headers.Get("x-amz-acl"), "public-read");
  ASSERT_TRUE(client.PutObject("b", "k", checksum::AsBytes("abc"), WriteOptions{}).ok());
  EXPECT_EQ(transport_.requests().at(1).headers.Find("Content-MD5"), nullptr);
}

TEST_F(ObjectLockClientTest, CopyObjectWithCopyDirectiveAsksForLockAndAcl) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"));
  CopyObjectRequest c;
  c.source = {"src", "k", "", "", ""};
  c.bucket = "dst";
  c.key = "k";
  c.lock = {"GOVERNANCE", "2030-01-01T00:00:00.000Z", false};
  c.acl.canned = "bucket-owner-full-control";
  ASSERT_TRUE(client.CopyObject(c).ok());
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.headers.Get("x-amz-metadata-directive"), "COPY");
  EXPECT_EQ(r.headers.Get("x-amz-object-lock-mode"), "GOVERNANCE");
  EXPECT_EQ(r.headers.Get("x-amz-acl"), "bucket-owner-full-control");
  EXPECT_EQ(r.headers.Find("x-amz-object-lock-legal-hold"), nullptr);
}

TEST_F(ObjectLockClientTest, CreateBucketWithObjectLock) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok());
  ASSERT_TRUE(client.CreateBucket("b", {}, CreateBucketOptions{.object_lock = true, .canned_acl = ""}).ok());
  EXPECT_EQ(transport_.requests().at(0).headers.Get("x-amz-bucket-object-lock-enabled"), "true");
}

// RGW 16 answers 404 ObjectLockConfigurationNotFoundError for a bucket without object lock and
// for a version without retention or legal hold (measured): no lock, not an error.
TEST_F(ObjectLockClientTest, NoLockConfigurationIsAnAnswer) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(404, "ObjectLockConfigurationNotFoundError"));
  auto config = client.GetObjectLockConfiguration("b");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  EXPECT_FALSE(config->enabled);
  transport_.Push(FakeReply::S3Error(404, "ObjectLockConfigurationNotFoundError"));
  auto retention = client.GetObjectRetention("b", "k", "v1");
  ASSERT_TRUE(retention.ok()) << retention.status().ToString();
  EXPECT_FALSE(retention->any());
  EXPECT_NE(transport_.requests().at(1).url.find("?retention&versionId=v1"), std::string::npos)
      << transport_.requests().at(1).url;
  transport_.Push(FakeReply::S3Error(404, "NoSuchBucket"));
  EXPECT_EQ(client.GetObjectLockConfiguration("b").status().code(), ErrorCode::kNotFound);
}

TEST_F(ObjectLockClientTest, PutRetentionAndLegalHoldSendDocumentsWithContentMd5) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok());
  transport_.Push(FakeReply::Ok());
  ASSERT_TRUE(client
                  .PutObjectRetention("b", "k", "v", {"GOVERNANCE", "2030-01-01T00:00:00.000Z"},
                                      /*bypass_governance=*/true)
                  .ok());
  ASSERT_TRUE(client.PutObjectLegalHold("b", "k", "v", false).ok());
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.headers.Get("x-amz-bypass-governance-retention"), "true");
  EXPECT_FALSE(r.headers.Get("Content-MD5").empty());
  EXPECT_NE(r.body.find("<Mode>GOVERNANCE</Mode>"), std::string::npos);
  EXPECT_NE(transport_.requests().at(1).body.find("<Status>OFF</Status>"), std::string::npos);
  EXPECT_EQ(client.PutObjectRetention("b", "k", "v", {}).code(), ErrorCode::kInvalidArgument);
}

TEST(ObjectLockXmlTest, ParsesAndBuildsDocuments) {
  auto r = ParseRetention(
      "<Retention><Mode>GOVERNANCE</Mode>"
      "<RetainUntilDate>2026-11-26T20:34:00.000000000Z</RetainUntilDate></Retention>");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, "GOVERNANCE");
  EXPECT_EQ(r->retain_until, "2026-11-26T20:34:00.000000000Z");
  EXPECT_FALSE(ParseRetention("<Retention><Mode>GOVERNANCE</Mode></Retention>").ok());
  EXPECT_TRUE(*ParseLegalHold("<LegalHold><Status>ON</Status></LegalHold>"));
  EXPECT_FALSE(*ParseLegalHold("<LegalHold><Status>OFF</Status></LegalHold>"));
  auto c = ParseObjectLockConfiguration(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
      "<DefaultRetention><Mode>COMPLIANCE</Mode><Years>2</Years></DefaultRetention></Rule>"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->enabled);
  ASSERT_TRUE(c->default_retention.has_value());
  EXPECT_EQ(c->default_retention->mode, "COMPLIANCE");
  EXPECT_EQ(c->default_retention->days, 730);
  auto plain = ParseObjectLockConfiguration(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
      "</ObjectLockConfiguration>");
  ASSERT_TRUE(plain.ok());
  EXPECT_FALSE(plain->default_retention.has_value());
  const std::string built = BuildObjectLockConfiguration(DefaultRetention{"GOVERNANCE", 3});
  auto back = ParseObjectLockConfiguration(built);
  ASSERT_TRUE(back.ok()) << built;
  EXPECT_EQ(back->default_retention->days, 3);
  auto retention = ParseRetention(BuildRetention({"COMPLIANCE", "2030-01-01T00:00:00.000Z"}));
  ASSERT_TRUE(retention.ok());
  EXPECT_EQ(retention->mode, "COMPLIANCE");
}

}  // namespace
}  // namespace ferry::s3
