// S3Options::tls: every request of a client carries the remote's TLS settings, whatever the
// operation (listing, HEAD, GET, PUT, copy, multipart, deletes, tags, directory buckets'
// sessions), and a certificate the transport does not trust fails the call at once, unretried.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "s3/client.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeReply;

class ClientTlsTest : public ::testing::Test {
 protected:
  ClientTlsTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {}
  S3Options Options(bool with_tls) {
    S3Options o;
    o.endpoint = "https://127.0.0.1:7443";
    o.region = "region-a";
    o.retry.max_attempts = 4;
    o.metrics = &metrics_;
    if (with_tls) {
      http::TlsSettings tls;
      tls.ca_bundle = "/etc/ferry/lab-ca.pem";
      tls.untrusted_hint = "set ca_bundle for remote 'lab'";
      o.tls = tls;
    }
    return o;
  }
  testing::FakeTransport transport_;
  testing::FakeClock clock_;
  StaticCredentials creds_;
  obs::Registry metrics_;
};

TEST_F(ClientTlsTest, EveryOperationCarriesTheSettings) {
  // any reply will do: what counts is what was sent (a reply an operation cannot parse fails it)
  transport_.SetHandler([](const http::HttpRequest&) {
    http::Headers headers;
    headers.Set("ETag", "\"0123456789abcdef0123456789abcdef\"");
    return FakeReply::Ok("<R><UploadId>u</UploadId></R>", headers);
  });
  S3Client client(Options(true), transport_, creds_, clock_);
  std::stop_token none;
  const std::string body = "hello";
  (void)client.HeadBucket("b");
  ListRequest list;
  list.bucket = "b";
  (void)client.ListObjectsV2(list);
  ListVersionsRequest versions;
  versions.bucket = "b";
  (void)client.ListObjectVersions(versions);
  (void)client.HeadObject("b", "k");
  http::StringSink sink;
  GetObjectRequest get;
  get.bucket = "b";
  get.key = "k";
  (void)client.GetObject(get, sink);
  (void)client.PutObject("b", "k", checksum::AsBytes(body), WriteOptions{});
  CopyObjectRequest copy;
  copy.source.bucket = "b";
  copy.source.key = "k";
  copy.bucket = "b";
  copy.key = "k2";
  (void)client.CopyObject(copy);
  (void)client.CreateMultipartUpload("b", "k", WriteOptions{});
  UploadPartRequest part;
  part.bucket = "b";
  part.key = "k";
  part.upload_id = "u";
  part.part_number = 1;
  part.body = checksum::AsBytes(body);
  (void)client.UploadPart(part);
  UploadPartCopyRequest part_copy;
  part_copy.source = copy.source;
  part_copy.bucket = "b";
  part_copy.key = "k3";
  part_copy.upload_id = "u";
  part_copy.part_number = 1;
  (void)client.UploadPartCopy(part_copy);
  const CompletedPart parts[] = {{1, "0123456789abcdef0123456789abcdef", 5}};
  (void)client.CompleteMultipartUpload("b", "k", "u", parts, none);
  (void)client.ListParts("b", "k", "u");
  (void)client.AbortMultipartUpload("b", "k", "u");
  (void)client.ListMultipartUploads("b", "");
  (void)client.GetObjectTagging("b", "k");
  (void)client.PutObjectTagging("b", "k", Tags{});
  (void)client.DeleteObject("b", "k");
  const std::string keys[] = {"k"};
  (void)client.DeleteObjects("b", keys);
  (void)client.HeadObject("cache--usw2-az1--x-s3", "k");  // CreateSession first

  const std::vector<testing::RecordedRequest> sent = transport_.requests();
  ASSERT_EQ(sent.size(), 19u);  // one request per operation (the session's reply is no session)
  EXPECT_NE(sent.back().url.find("?session"), std::string::npos);
  for (const testing::RecordedRequest& r : sent) {
    ASSERT_TRUE(r.tls.has_value()) << r.method << " " << r.url;
    EXPECT_EQ(r.tls->ca_bundle, "/etc/ferry/lab-ca.pem") << r.method << " " << r.url;
    EXPECT_TRUE(r.tls->verify);
    EXPECT_EQ(r.tls->untrusted_hint, "set ca_bundle for remote 'lab'");
  }
}

TEST_F(ClientTlsTest, WithoutSettingsTheTransportsOwnApply) {
  transport_.Push(FakeReply::Ok());
  S3Client client(Options(false), transport_, creds_, clock_);
  ASSERT_TRUE(client.HeadBucket("b").ok());
  ASSERT_EQ(transport_.requests().size(), 1u);
  EXPECT_FALSE(transport_.requests()[0].tls.has_value());
}

TEST_F(ClientTlsTest, AnUntrustedCertificateFailsAtOnce) {
  transport_.Push(FakeReply::NetworkError(Status::Unauthenticated(
      "TLS certificate of https://127.0.0.1:7443 not trusted: self-signed certificate (curl 60); "
      "set ca_bundle for remote 'lab'")));
  S3Client client(Options(true), transport_, creds_, clock_);
  ListRequest list;
  list.bucket = "b";
  Result<ListPage> page = client.ListObjectsV2(list);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(page.status().message().find("not trusted"), std::string::npos);
  EXPECT_EQ(transport_.request_count(), 1u);  // not sent again
  EXPECT_TRUE(clock_.sleeps().empty());
  EXPECT_FALSE(page.status().transient());
  EXPECT_FALSE(IsRetryable(page.status()));  // no layer above retries it either
}

}  // namespace
}  // namespace ferry::s3
