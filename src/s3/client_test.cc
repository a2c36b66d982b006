// S3Client's shared call path and single-request operations, against FakeTransport/FakeClock.
#include "s3/client.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/time_format.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;

std::span<const std::byte> Bytes(const std::string& s) { return checksum::AsBytes(s); }

http::Headers MakeHeaders(std::initializer_list<std::pair<const char*, const char*>> list) {
  http::Headers h;
  for (const auto& [k, v] : list) h.Add(k, v);
  return h;
}

class ClientTest : public ::testing::Test {
 protected:
  ClientTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {}

  S3Client MakeClient(std::string endpoint = "http://127.0.0.1:7480") {
    S3Options o;
    o.endpoint = std::move(endpoint);
    o.region = "region-a";
    o.retry.max_attempts = 4;
    o.metrics = &metrics_;
    return S3Client(o, transport_, creds_, clock_);
  }
  void ExpectNoSecretsSent() {
    for (const auto& r : transport_.requests()) {
      for (const auto& [name, value] : r.headers.entries()) {
        EXPECT_EQ(value.find("SECRETKEY"), std::string::npos) << name;
      }
    }
  }

  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  obs::Registry metrics_;
};

// Every attempt is counted: by operation and status, its latency, retries and throttling.
TEST_F(ClientTest, CountsRequestsRetriesAndThrottlesInTheRegistry) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(503, "SlowDown"));
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset")));
  transport_.Push(FakeReply::S3Error(404, "NoSuchKey"));  // HEAD: the reply was lost, not done
  transport_.Push(FakeReply::S3Error(429, ""));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", "\"abc\""}})));
  ASSERT_TRUE(client.PutObject("b", "k", Bytes("data"), {}).ok());
  transport_.Push(FakeReply::S3Error(404, "NoSuchKey"));
  EXPECT_FALSE(client.HeadObject("b", "k").ok());
  const std::string text = metrics_.RenderPrometheus();
  for (const char* want : {
           "ferry_s3_requests_total{operation=\"PutObject\",status=\"503\"} 1\n",
           "ferry_s3_requests_total{operation=\"PutObject\",status=\"error\"} 1\n",
           "ferry_s3_requests_total{operation=\"PutObject\",status=\"429\"} 1\n",
           "ferry_s3_requests_total{operation=\"PutObject\",status=\"200\"} 1\n",
           "ferry_s3_requests_total{operation=\"HeadObject\",status=\"404\"} 2\n",
           "ferry_s3_request_seconds_count{operation=\"PutObject\"} 4\n",
           "ferry_s3_request_seconds_count{operation=\"HeadObject\"} 2\n",
           "ferry_s3_retries_total 3\n",
           "ferry_s3_throttles_total{operation=\"PutObject\"} 2\n",
       }) {
    EXPECT_NE(text.find(want), std::string::npos) << want << "\nin:\n" << text;
  }
  EXPECT_EQ(client.retries(), 3u);
  // By op class for what the run cost: every reply counted (the lost one not), as "s3" without
  // a remote.
  EXPECT_NE(text.find("ferry_requests_total{remote=\"s3\",op=\"PUT\"} 3\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_requests_total{remote=\"s3\",op=\"HEAD\"} 2\n"), std::string::npos)
      << text;
}

// The reply bytes a GET reads out of the store, under the client's remote.
TEST_F(ClientTest, CountsBytesOutAndOpClassesByRemote) {
  S3Options o;
  o.endpoint = "http://127.0.0.1:7480";
  o.metrics = &metrics_;
  o.metrics_remote = "ra";
  S3Client client(o, transport_, creds_, clock_);
  transport_.Push(FakeReply::Ok("0123456789"));
  http::StringSink body;
  GetObjectRequest get;
  get.bucket = "b";
  get.key = "k";
  ASSERT_TRUE(client.GetObject(get, body).ok());
  EXPECT_EQ(body.body(), "0123456789");
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("ferry_requests_total{remote=\"ra\",op=\"GET\"} 1\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_bytes_out_total{remote=\"ra\"} 10\n"), std::string::npos) << text;
}

TEST(RequestOpClassTest, ClassesAsBillsCountThem) {
  const std::pair<const char*, const char*> want[] = {
      {"PutObject", "PUT"},        {"UploadPart", "PUT"},       {"CreateMultipartUpload", "PUT"},
      {"CompleteMultipartUpload", "PUT"}, {"CopyObject", "COPY"}, {"UploadPartCopy", "COPY"},
      {"ListObjectsV2", "LIST"},   {"ListBuckets", "LIST"},     {"ListParts", "LIST"},
      {"GetObject", "GET"},        {"GetObjectTagging", "GET"}, {"HeadObject", "HEAD"},
      {"HeadBucket", "HEAD"},      {"DeleteObjects", "DELETE"},
      {"AbortMultipartUpload", "DELETE"}, {"CreateSession", "OTHER"}};
  for (const auto& [op, cls] : want) EXPECT_EQ(RequestOpClass(op), cls) << op;
}

TEST(OperationNameTest, NamesEachS3Operation) {
  auto name = [](std::string method, std::string_view bucket, std::string_view key,
                 QueryParams query, bool copy = false) {
    RequestSpec spec;
    spec.method = std::move(method);
    spec.bucket = bucket;
    spec.key = key;
    spec.query = std::move(query);
    if (copy) spec.headers.Set("x-amz-copy-source", "/a/b");
    return std::string(OperationName(spec));
  };
  EXPECT_EQ(name("GET", "", "", {}), "ListBuckets");
  EXPECT_EQ(name("HEAD", "b", "", {}), "HeadBucket");
  EXPECT_EQ(name("PUT", "b", "", {}), "CreateBucket");
  EXPECT_EQ(name("PUT", "b", "", {{"versioning", ""}}), "PutBucketVersioning");
  EXPECT_EQ(name("GET", "b", "", {{"versioning", ""}}), "GetBucketVersioning");
  EXPECT_EQ(name("DELETE", "b", "", {}), "DeleteBucket");
  EXPECT_EQ(name("GET", "b", "", {{"list-type", "2"}}), "ListObjectsV2");
  EXPECT_EQ(name("GET", "b", "", {{"versions", ""}}), "ListObjectVersions");
  EXPECT_EQ(name("GET", "b", "", {{"uploads", ""}}), "ListMultipartUploads");
  EXPECT_EQ(name("POST", "b", "", {{"delete", ""}}), "DeleteObjects");
  EXPECT_EQ(name("GET", "b", "k", {}), "GetObject");
  EXPECT_EQ(name("HEAD", "b", "k", {{"partNumber", "1"}}), "HeadObject");
  EXPECT_EQ(name("PUT", "b", "k", {}), "PutObject");
  EXPECT_EQ(name("PUT", "b", "k", {}, true), "CopyObject");
  EXPECT_EQ(name("DELETE", "b", "k", {}), "DeleteObject");
  EXPECT_EQ(name("GET", "b", "k", {{"tagging", ""}}), "GetObjectTagging");
  EXPECT_EQ(name("PUT", "b", "k", {{"tagging", ""}}), "PutObjectTagging");
  EXPECT_EQ(name("POST", "b", "k", {{"uploads", ""}}), "CreateMultipartUpload");
  EXPECT_EQ(name("PUT", "b", "k", {{"partNumber", "1"}, {"uploadId", "u"}}), "UploadPart");
  EXPECT_EQ(name("PUT", "b", "k", {{"partNumber", "1"}, {"uploadId", "u"}}, true),
            "UploadPartCopy");
  EXPECT_EQ(name("POST", "b", "k", {{"uploadId", "u"}}), "CompleteMultipartUpload");
  EXPECT_EQ(name("GET", "b", "k", {{"uploadId", "u"}}), "ListParts");
  EXPECT_EQ(name("DELETE", "b", "k", {{"uploadId", "u"}}), "AbortMultipartUpload");
  RequestSpec named;
  named.operation = "Custom";
  EXPECT_EQ(OperationName(named), "Custom");
}

TEST_F(ClientTest, RetriesOn503AndSlowDownThenSucceeds) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(503, "SlowDown"));
  transport_.Push(FakeReply::S3Error(500, "InternalError"));
  transport_.Push(FakeReply::S3Error(404, "NoSuchKey"));  // HEAD after the 500: not done
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", "\"abc\""}})));
  auto etag = client.PutObject("b", "k", Bytes("data"), {});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, "abc");
  EXPECT_EQ(transport_.request_count(), 4u);
  const auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 2u);
  EXPECT_LE(sleeps[0], std::chrono::milliseconds(100));  // full jitter within the policy
  EXPECT_LE(sleeps[1], std::chrono::milliseconds(200));
  // Each attempt is signed again with the clock's current time.
  const auto reqs = transport_.requests();
  EXPECT_NE(reqs[0].headers.Get("Authorization"), "");
  EXPECT_EQ(reqs[3].headers.Get("x-amz-date"), FormatAmzDate(clock_.Now()));
}

// A PUT whose reply was lost may have been stored: sent again, a versioned bucket would hold
// the object twice. HEAD first: this very object (size, MD5, user metadata) current at the key
// is the PUT done, with its version id; anything else is retried as before.
TEST_F(ClientTest, APutWhoseReplyWasLostIsFoundDoneNotSentAgain) {
  S3Client client = MakeClient();
  const std::string md5 = checksum::Hex(checksum::Md5(Bytes("data")));
  const std::string quoted = "\"" + md5 + "\"";
  const char* etag_header = quoted.c_str();
  WriteOptions w;
  w.metadata = {{"ferry-replica-version", "v1"}};
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset by peer")));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", etag_header},
                                                 {"Content-Length", "4"},
                                                 {"x-amz-version-id", "v7"},
                                                 {"x-amz-meta-ferry-replica-version", "v1"}})));
  ObjectHead head;
  auto etag = client.PutObject("b", "k", Bytes("data"), w, {}, &head);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(*etag, md5);
  EXPECT_EQ(head.version_id, "v7");
  ASSERT_EQ(transport_.request_count(), 2u);
  EXPECT_EQ(transport_.requests()[1].method, "HEAD");
  // Another object there (other metadata): the PUT is sent again.
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("timeout")));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", etag_header},
                                                 {"Content-Length", "4"},
                                                 {"x-amz-meta-ferry-replica-version", "v0"}})));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", etag_header},
                                                 {"x-amz-version-id", "v8"}})));
  auto again = client.PutObject("b", "k", Bytes("data"), w, {}, &head);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(head.version_id, "v8");
  EXPECT_EQ(transport_.request_count(), 5u);
  // The HEAD cannot tell (it fails too): the PUT is not sent again (it could be done twice).
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("reset")));
  for (int i = 0; i < 4; ++i) transport_.Push(FakeReply::S3Error(500, "InternalError"));
  auto unknown = client.PutObject("b", "k", Bytes("data"), w, {}, &head);
  EXPECT_EQ(unknown.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(unknown.status().message().find("whether the write was done is unknown"),
            std::string::npos) << unknown.status().message();
  EXPECT_EQ(transport_.request_count(), 10u);  // PUT, then HEAD four times, no PUT
  EXPECT_EQ(transport_.requests()[9].method, "HEAD");
  // A throttle (503) was surely not done: no HEAD.
  transport_.Push(FakeReply::S3Error(503, "SlowDown"));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", etag_header}})));
  ASSERT_TRUE(client.PutObject("b", "k", Bytes("data"), w).ok());
  EXPECT_EQ(transport_.request_count(), 12u);
}

// A CopyObject whose reply was lost may have been done: sent again, a versioned bucket would
// hold the copy twice. HEAD first: the source's ETag (the copy's, pinned by If-Match) current at
// the destination, with the metadata sent, is the copy done, with its version id. Before, the
// copy was sent again whatever the destination held.
TEST_F(ClientTest, ACopyWhoseReplyWasLostIsFoundDoneNotSentAgain) {
  S3Client client = MakeClient();
  const std::string etag = "0123456789abcdef0123456789abcdef";
  const std::string quoted = "\"" + etag + "\"";
  WriteOptions w;
  w.metadata = {{"ferry-replica-version", "v1"}};
  CopyObjectRequest request;
  request.source = {.bucket = "a", .key = "k", .version_id = "s1", .if_match = etag, .customer_key = ""};
  request.bucket = "b";
  request.key = "k";
  request.replace = &w;
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset by peer")));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", quoted.c_str()},
                                                 {"Content-Length", "4"},
                                                 {"x-amz-version-id", "v7"},
                                                 {"x-amz-meta-ferry-replica-version", "v1"}})));
  auto copied = client.CopyObject(request, {});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->etag, etag);
  EXPECT_EQ(copied->version_id, "v7");
  ASSERT_EQ(transport_.request_count(), 2u);
  EXPECT_EQ(transport_.requests()[1].method, "HEAD");
  // Another object there (other metadata): the copy is sent again.
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("timeout")));
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", quoted.c_str()},
                                                 {"x-amz-meta-ferry-replica-version", "v0"}})));
  transport_.Push(FakeReply::Ok(
      "<CopyObjectResult><ETag>" + quoted + "</ETag></CopyObjectResult>",
      MakeHeaders({{"x-amz-version-id", "v8"}})));
  auto again = client.CopyObject(request, {});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(again->version_id, "v8");
  EXPECT_EQ(transport_.request_count(), 5u);
  EXPECT_EQ(transport_.requests()[4].method, "PUT");
}

TEST_F(ClientTest, RetriesNetworkErrorsAndRequestTimeout) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset")));
  transport_.Push(FakeReply::S3Error(400, "RequestTimeout"));
  transport_.Push(FakeReply::Ok());
  EXPECT_TRUE(client.DeleteObject("b", "k").ok());
  EXPECT_EQ(transport_.request_count(), 3u);
}

TEST_F(ClientTest, DoesNotRetryAccessDenied) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(403, "AccessDenied", "Access Denied"));
  auto head = client.GetObjectTagging("bucket", "dir/key");
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(head.status().message(), "access denied for s3://bucket/dir/key (403 AccessDenied)");
  EXPECT_EQ(transport_.request_count(), 1u);
  EXPECT_TRUE(clock_.sleeps().empty());
}

TEST_F(ClientTest, AttemptsAreBounded) {
  S3Client client = MakeClient();  // 4 attempts
  for (int i = 0; i < 6; ++i) transport_.Push(FakeReply::S3Error(503, "SlowDown"));
  Status s = client.HeadBucket("b");
  EXPECT_EQ(s.code(), ErrorCode::kUnavailable);
  EXPECT_NE(s.message().find("[after 4 attempts]"), std::string::npos) << s.message();
  EXPECT_EQ(transport_.request_count(), 4u);
  EXPECT_EQ(clock_.sleeps().size(), 3u);
}

TEST_F(ClientTest, WrongCredentialsNameTheEndpointNotTheSecret) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(403, "SignatureDoesNotMatch"));
  Status s = client.GetObjectTagging("b", "k").status();
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "wrong credentials for http://127.0.0.1:7480 (403 SignatureDoesNotMatch)");
  transport_.Push(FakeReply::S3Error(403, "InvalidAccessKeyId"));
  s = client.GetObjectTagging("b", "k").status();
  EXPECT_EQ(s.message(),
            "unknown access key AKIATEST for http://127.0.0.1:7480 (403 InvalidAccessKeyId)");
  // HEAD replies carry no body, so the code is unknown.
  transport_.Push(FakeReply::S3Error(403, "SignatureDoesNotMatch"));
  s = client.HeadBucket("b");
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "access denied or wrong credentials for s3://b (403)");
  ExpectNoSecretsSent();
}

TEST_F(ClientTest, SignsWithPayloadHashAndContentMd5) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", "\"e\""}})));
  WriteOptions w;  // the MD5 the source declares, which the body must have
  w.content_md5 = checksum::Base64(checksum::Md5(Bytes("abc")));
  ASSERT_TRUE(client.PutObject("b", "dir/a b+c", Bytes("abc"), w).ok());
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "http://127.0.0.1:7480/b/dir/a%20b%2Bc");
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(r.headers.Get("x-amz-content-sha256"), checksum::Sha256Hex("abc"));
  EXPECT_EQ(r.headers.Get("Content-MD5"), checksum::Base64(checksum::Md5(Bytes("abc"))));
  EXPECT_EQ(r.headers.Get("Host"), "127.0.0.1:7480");
  const std::string auth = r.headers.Get("Authorization");
  EXPECT_EQ(auth.rfind("AWS4-HMAC-SHA256 Credential=AKIATEST/20260101/region-a/s3/aws4_request, "
                       "SignedHeaders=content-md5;host;x-amz-content-sha256;x-amz-date, Signature=",
                       0),
            0u)
      << auth;
  ExpectNoSecretsSent();
}

// A create-only PutObject: If-None-Match: * is sent and signed; the 412 of an existing key is
// the caller's answer, never retried.
TEST_F(ClientTest, CreateOnlyPutSendsIfNoneMatchAndDoesNotRetryA412) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"ETag", "\"e\""}})));
  WriteOptions w;
  w.if_none_match_any = true;
  ASSERT_TRUE(client.PutObject("b", "k", Bytes("abc"), w).ok());
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.headers.Get("If-None-Match"), "*");
  EXPECT_NE(r.headers.Get("Authorization").find("if-none-match;"), std::string::npos)
      << r.headers.Get("Authorization");
  transport_.Push(FakeReply::S3Error(412, "PreconditionFailed"));
  transport_.Push(FakeReply::Ok());
  auto refused = client.PutObject("b", "k", Bytes("abd"), w);
  EXPECT_EQ(refused.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(transport_.requests().size(), 2u) << "a 412 is not retried";
  ASSERT_TRUE(client.PutObject("b", "k2", Bytes("abc"), {}).ok());
  EXPECT_EQ(transport_.requests().at(2).headers.Find("If-None-Match"), nullptr);
}

TEST_F(ClientTest, UnsignedPayloadOnlyOverHttps) {
  S3Client https = MakeClient("https://s3.example.com");
  transport_.Push(FakeReply::Ok());
  ASSERT_TRUE(https.PutObject("b", "k", Bytes("abc"), {}).ok());
  EXPECT_EQ(transport_.requests().at(0).headers.Get("x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
}

// One hash per body: the signed SHA-256 where the payload is signed, else a computed
// Content-MD5 (UNSIGNED-PAYLOAD over https).
TEST_F(ClientTest, PutObjectComputesContentMd5OnlyForAnUnsignedPayload) {
  S3Client signed_http = MakeClient();
  S3Client https = MakeClient("https://s3.example.com");
  transport_.Push(FakeReply::Ok());
  transport_.Push(FakeReply::Ok());
  ASSERT_TRUE(signed_http.PutObject("b", "k", Bytes("abc"), {}).ok());
  ASSERT_TRUE(https.PutObject("b", "k", Bytes("abc"), {}).ok());
  EXPECT_EQ(transport_.requests().at(0).headers.Find("Content-MD5"), nullptr);
  EXPECT_EQ(transport_.requests().at(0).headers.Get("x-amz-content-sha256"),
            checksum::Sha256Hex("abc"));
  EXPECT_EQ(transport_.requests().at(1).headers.Get("Content-MD5"),
            checksum::Base64(checksum::Md5(Bytes("abc"))));
}

TEST_F(ClientTest, PutObjectSendsWriteOptions) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok());
  WriteOptions w;
  w.content.content_type = "text/plain";
  w.content.cache_control = "max-age=60";
  w.content.content_disposition = "attachment; filename=\"a.txt\"";
  w.metadata = {{"owner", "me"}, {"ferry-mtime", "123"}};
  w.tags = Tags{{"a", "1"}, {"b c", "x&y"}};
  w.storage_class = "STANDARD_IA";
  w.compute_md5 = false;
  ASSERT_TRUE(client.PutObject("b", "k", {}, w).ok());
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.headers.Get("Content-Type"), "text/plain");
  EXPECT_EQ(r.headers.Get("Cache-Control"), "max-age=60");
  EXPECT_EQ(r.headers.Get("Content-Disposition"), "attachment; filename=\"a.txt\"");
  EXPECT_EQ(r.headers.Get("x-amz-meta-owner"), "me");
  EXPECT_EQ(r.headers.Get("x-amz-meta-ferry-mtime"), "123");
  EXPECT_EQ(r.headers.Get("x-amz-tagging"), "a=1&b%20c=x%26y");
  EXPECT_EQ(r.headers.Get("x-amz-storage-class"), "STANDARD_IA");
  EXPECT_EQ(r.headers.Find("Content-MD5"), nullptr);
  EXPECT_EQ(r.headers.Get("x-amz-content-sha256"), checksum::Sha256Hex(""));
}

TEST_F(ClientTest, CredentialsAreFetchedForEachCall) {
  struct Counting : CredentialsProvider {
    int calls = 0;
    Result<Credentials> Get() override {
      if (++calls == 3) return Status::Unauthenticated("token expired");
      return Credentials{"AK" + std::to_string(calls), "S", ""};
    }
  } provider;
  S3Options o;
  o.endpoint = "http://h";
  S3Client client(o, transport_, provider, clock_);
  transport_.Push(FakeReply::Ok());
  transport_.Push(FakeReply::Ok());
  EXPECT_TRUE(client.HeadBucket("b").ok());
  EXPECT_TRUE(client.HeadBucket("b").ok());
  EXPECT_EQ(client.HeadBucket("b").code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(transport_.requests()[1].headers.Get("Authorization").find("Credential=AK2/"),
            std::string::npos);
}

TEST_F(ClientTest, GetObjectRetryRewindsTheSink) {
  S3Client client = MakeClient();
  // The first attempt dies after 6 body bytes; the retry must start the buffer over.
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset"), "hello "));
  transport_.Push(
      FakeReply::Ok("hello world", MakeHeaders({{"Content-Length", "11"}, {"ETag", "\"e1\""}})));
  std::vector<std::byte> buf(11);
  http::SpanSink sink(buf);
  auto head = client.GetObject({"b", "k", {}, "", "", ""}, sink);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(sink.written(), 11u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buf.data()), buf.size()), "hello world");
  EXPECT_EQ(head->etag, "e1");
  EXPECT_EQ(head->size, 11u);
  EXPECT_EQ(transport_.request_count(), 2u);
}

TEST_F(ClientTest, GetObjectIntoANonRewindableSinkFailsInsteadOfMixing) {
  struct Appending : http::BodySink {
    std::string data;
    Status Write(std::span<const std::byte> d) override {
      data.append(reinterpret_cast<const char*>(d.data()), d.size());
      return Status::Ok();
    }
  } sink;
  S3Client client = MakeClient();
  transport_.Push(FakeReply::NetworkError(Status::Unavailable("connection reset"), "hel"));
  transport_.Push(FakeReply::Ok("hello"));
  auto head = client.GetObject({"b", "k", {}, "", "", ""}, sink);
  ASSERT_FALSE(head.ok());
  EXPECT_EQ(head.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(transport_.request_count(), 1u);
}

TEST_F(ClientTest, GetObjectErrorBodiesNeverReachTheSink) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(503, "SlowDown", "Please reduce your request rate"));
  transport_.Push(FakeReply::Ok("data"));
  http::StringSink sink;
  ASSERT_TRUE(client.GetObject({"b", "k", {}, "", "", ""}, sink).ok());
  EXPECT_EQ(sink.body(), "data");
}

TEST_F(ClientTest, GetObjectSendsRangeIfMatchAndVersion) {
  S3Client client = MakeClient();
  FakeReply partial = FakeReply::Ok(
      "0123456789", MakeHeaders({{"Content-Range", "bytes 10-19/100"}, {"Content-Length", "10"}}));
  partial.status = 206;
  transport_.Push(partial);
  http::StringSink sink;
  auto head = client.GetObject({"b", "k", {10, 10}, "etag1", "v1", ""}, sink);
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 100u);  // the object's size, from Content-Range
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.url, "http://127.0.0.1:7480/b/k?versionId=v1");
  EXPECT_EQ(r.headers.Get("Range"), "bytes=10-19");
  EXPECT_EQ(r.headers.Get("If-Match"), "\"etag1\"");
  EXPECT_NE(r.headers.Get("Authorization").find("if-match;range;"), std::string::npos);

  transport_.Push(FakeReply::S3Error(412, "PreconditionFailed"));
  http::StringSink sink2;
  auto failed = client.GetObject({"b", "k", {0, 0}, "other", "", ""}, sink2);
  EXPECT_EQ(failed.status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(sink2.body(), "");
  EXPECT_EQ(transport_.requests().at(1).headers.Find("Range"), nullptr);
}

TEST_F(ClientTest, GetObjectRefusesAnIgnoredRange) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("whole object", MakeHeaders({{"Content-Length", "12"}})));
  http::StringSink sink;
  auto head = client.GetObject({"b", "k", {5, 0}, "", "", ""}, sink);
  EXPECT_EQ(head.status().code(), ErrorCode::kNotSupported);
  EXPECT_EQ(sink.body(), "");
}

TEST_F(ClientTest, HeadObjectParsesHeaders) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("", MakeHeaders({{"Content-Length", "1234"},
                                                 {"ETag", "\"d41d8cd98f00b204e9800998ecf8427e\""},
                                                 {"Last-Modified", "Sun, 22 Nov 2026 00:53:21 GMT"},
                                                 {"Content-Type", "image/png"},
                                                 {"Content-Encoding", "gzip"},
                                                 {"Content-Language", "de"},
                                                 {"Content-Disposition", "inline"},
                                                 {"Cache-Control", "no-cache"},
                                                 {"Expires", "Thu, 01 Dec 2094 16:00:00 GMT"},
                                                 {"x-amz-meta-Owner", "me"},
                                                 {"X-Amz-Meta-ferry-crc32c", "abcd1234"},
                                                 {"x-amz-storage-class", "STANDARD_IA"},
                                                 {"x-amz-version-id", "v7"},
                                                 {"x-amz-tagging-count", "2"}})));
  auto head = client.HeadObject("b", "k", "v7");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, 1234u);
  EXPECT_EQ(head->etag, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(head->last_modified.time_since_epoch(), std::chrono::seconds(1795308801));
  EXPECT_EQ(head->content.content_type, "image/png");
  EXPECT_EQ(head->content.content_encoding, "gzip");
  EXPECT_EQ(head->content.content_language, "de");
  EXPECT_EQ(head->content.content_disposition, "inline");
  EXPECT_EQ(head->content.cache_control, "no-cache");
  EXPECT_EQ(head->content.expires, "Thu, 01 Dec 2094 16:00:00 GMT");
  EXPECT_EQ(head->metadata.at("owner"), "me");
  EXPECT_EQ(head->metadata.at("ferry-crc32c"), "abcd1234");
  EXPECT_EQ(head->storage_class, "STANDARD_IA");
  EXPECT_EQ(head->version_id, "v7");
  EXPECT_EQ(head->tag_count, 2);
  EXPECT_EQ(transport_.requests().at(0).method, "HEAD");
  EXPECT_EQ(transport_.requests().at(0).url, "http://127.0.0.1:7480/b/k?versionId=v7");

  FakeReply missing;
  missing.status = 404;
  transport_.Push(missing);
  auto gone = client.HeadObject("b", "k");
  EXPECT_EQ(gone.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(gone.status().message(), "not found: s3://b/k (404)");
}

TEST_F(ClientTest, ListObjectsV2BuildsQueryAndDecodesKeys) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok(
      "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>"
      "<NextContinuationToken>tok/2=</NextContinuationToken><Contents><Key>p/a+b</Key>"
      "<Size>3</Size><ETag>\"e\"</ETag></Contents></ListBucketResult>"));
  ListRequest req{"b", "p/", "/", "p/0", "tok/1=", 7};
  auto page = client.ListObjectsV2(req);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->objects.at(0).key, "p/a b");
  EXPECT_EQ(page->next_continuation_token, "tok/2=");
  EXPECT_EQ(transport_.requests().at(0).url,
            "http://127.0.0.1:7480/b?continuation-token=tok%2F1%3D&delimiter=%2F&"
            "encoding-type=url&list-type=2&max-keys=7&prefix=p%2F&start-after=p%2F0");
}

TEST_F(ClientTest, DeleteObjectsSendsMd5AndReportsFirstFailure) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok(
      "<DeleteResult><Error><Key>k2</Key><Code>AccessDenied</Code><Message>no</Message></Error>"
      "<Error><Key>k3</Key><Code>AccessDenied</Code></Error></DeleteResult>"));
  const std::vector<std::string> keys = {"k1", "k2", "k3"};
  Status s = client.DeleteObjects("b", keys);
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "deleting 2 of 3 keys failed; first: access denied for s3://b/k2 (AccessDenied)");
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.url, "http://127.0.0.1:7480/b?delete");
  EXPECT_EQ(r.headers.Get("Content-MD5"), checksum::Base64(checksum::Md5(Bytes(r.body))));
  EXPECT_NE(r.body.find("<Quiet>true</Quiet><Object><Key>k1</Key></Object>"), std::string::npos);

  transport_.Push(FakeReply::Ok("<DeleteResult/>"));
  EXPECT_TRUE(client.DeleteObjects("b", keys).ok());
  EXPECT_TRUE(client.DeleteObjects("b", {}).ok());  // no request
  EXPECT_EQ(transport_.request_count(), 2u);
}

TEST_F(ClientTest, CopyObjectRetriesAnErrorInsideA200) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("<Error><Code>InternalError</Code><Message/></Error>"));
  transport_.Push(FakeReply::Ok("<CopyObjectResult><ETag>abc</ETag></CopyObjectResult>",
                                MakeHeaders({{"x-amz-version-id", "v9"}})));
  CopyObjectRequest req;
  req.source = {"src", "dir/a b", "v1", "0123", ""};
  req.bucket = "dst";
  req.key = "k";
  req.storage_class = "GLACIER";
  auto etag = client.CopyObject(req);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, "abc");
  EXPECT_EQ(etag->version_id, "v9");  // the copy's version, from x-amz-version-id
  const auto r = transport_.requests().at(1);
  EXPECT_EQ(r.headers.Get("x-amz-copy-source"), "/src/dir/a%20b?versionId=v1");
  EXPECT_EQ(r.headers.Get("x-amz-metadata-directive"), "COPY");
  EXPECT_EQ(r.headers.Get("x-amz-storage-class"), "GLACIER");
  EXPECT_EQ(r.headers.Get("x-amz-copy-source-if-match"), "\"0123\"");  // pinned source
  EXPECT_EQ(r.headers.Get("x-amz-copy-if-match"), "\"0123\"");         // RGW's name
}

TEST_F(ClientTest, CopyObjectReplaceSetsTagsExplicitly) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok("<CopyObjectResult><ETag>\"abc\"</ETag></CopyObjectResult>"));
  transport_.Push(FakeReply::Ok());
  WriteOptions w;
  w.metadata = {{"m", "1"}};
  w.tags = Tags{{"t", "2"}};
  CopyObjectRequest req;
  req.source = {"src", "a", "", "", ""};
  req.bucket = "dst";
  req.key = "b";
  req.replace = &w;
  auto etag = client.CopyObject(req);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  const auto reqs = transport_.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].headers.Get("x-amz-metadata-directive"), "REPLACE");
  EXPECT_EQ(reqs[0].headers.Get("x-amz-meta-m"), "1");
  EXPECT_EQ(reqs[1].url, "http://127.0.0.1:7480/dst/b?tagging");
  EXPECT_NE(reqs[1].body.find("<Key>t</Key><Value>2</Value>"), std::string::npos);
}

TEST_F(ClientTest, CreateBucketSendsTheRegionAsLocationConstraint) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::Ok());
  ASSERT_TRUE(client.CreateBucket("newbucket").ok());
  const auto r = transport_.requests().at(0);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.url, "http://127.0.0.1:7480/newbucket");
  EXPECT_NE(r.body.find("<LocationConstraint>region-a</LocationConstraint>"), std::string::npos);
  transport_.Push(FakeReply::S3Error(409, "BucketAlreadyOwnedByYou"));
  EXPECT_EQ(client.CreateBucket("newbucket").code(), ErrorCode::kAlreadyExists);
}

TEST_F(ClientTest, StopTokenCancels) {
  S3Client client = MakeClient();
  std::stop_source stop;
  stop.request_stop();
  EXPECT_EQ(client.HeadBucket("b", stop.get_token()).code(), ErrorCode::kCancelled);
}

}  // namespace
}  // namespace ferry::s3

namespace ferry::s3 {
namespace {

// Temporary credentials that a store refuses as expired: the provider hears of it once and the
// request goes again with the new set; fixed keys are never asked again.
class RotatingCredentials : public CredentialsProvider {
 public:
  Result<Credentials> Get() override {
    return Credentials{"ASIA" + std::to_string(generation), "secret", "token"};
  }
  void Expired(const Credentials& used) override {
    expired.push_back(used.access_key_id);
    ++generation;
  }
  int generation = 1;
  std::vector<std::string> expired;
};

TEST(ExpiredCredentialsTest, ARefusalAsExpiredFetchesNewCredentialsOnce) {
  FakeTransport transport;
  FakeClock clock;
  RotatingCredentials creds;
  S3Options o;
  o.endpoint = "http://127.0.0.1:7480";
  o.region = "region-a";
  S3Client client(o, transport, creds, clock);
  transport.Push(FakeReply::S3Error(400, "ExpiredToken", "The provided token has expired."));
  transport.Push(FakeReply::Ok());
  ASSERT_TRUE(client.HeadBucket("b").ok());
  ASSERT_EQ(creds.expired, std::vector<std::string>{"ASIA1"});
  const auto sent = transport.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_NE(sent[1].headers.Get("Authorization").find("Credential=ASIA2/"), std::string::npos);
  // refused again with the new set: once per request, then the error
  transport.Push(FakeReply::S3Error(403, "InvalidAccessKeyId"));
  transport.Push(FakeReply::S3Error(403, "InvalidAccessKeyId"));
  Status s = client.HeadBucket("b");
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(creds.expired.size(), 2u);
  EXPECT_EQ(transport.request_count(), 4u);
}

TEST(ExpiredCredentialsTest, FixedKeysAreNotAskedAgain) {
  FakeTransport transport;
  FakeClock clock;
  StaticCredentials creds(Credentials{"AKIAFIXED", "secret", ""});
  S3Options o;
  o.endpoint = "http://127.0.0.1:7480";
  S3Client client(o, transport, creds, clock);
  transport.Push(FakeReply::S3Error(403, "InvalidAccessKeyId"));
  EXPECT_EQ(client.HeadBucket("b").code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(transport.request_count(), 1u);
}

}  // namespace
}  // namespace ferry::s3

namespace ferry::s3 {
namespace {

TEST(RequesterPaysTest, EveryRequestSaysTheRequesterPays) {
  FakeTransport transport;
  FakeClock clock;
  StaticCredentials creds(Credentials{"AKIA", "secret", ""});
  S3Options o;
  o.endpoint = "http://127.0.0.1:7480";
  o.requester_pays = true;
  S3Client client(o, transport, creds, clock);
  transport.Push(FakeReply::Ok());
  transport.Push(FakeReply::Ok("<ListBucketResult><IsTruncated>false</IsTruncated>"
                               "</ListBucketResult>"));
  ASSERT_TRUE(client.HeadBucket("b").ok());
  ListRequest list;
  list.bucket = "b";
  ASSERT_TRUE(client.ListObjectsV2(list).ok());
  for (const auto& r : transport.requests()) {
    EXPECT_EQ(r.headers.Get("x-amz-request-payer"), "requester") << r.url;
    EXPECT_NE(r.headers.Get("Authorization").find("x-amz-request-payer"), std::string::npos);
  }
}

}  // namespace
}  // namespace ferry::s3
