// AzureClient and AzureBackend over a scripted transport: signing, SAS, retries, error lines,
// and the MD5 check of reads.
#include "storage/azure/azure_client.h"

#include <gtest/gtest.h>

#include "checksum/checksum.h"
#include "storage/azure/azure_backend.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage::azure {
namespace {

using testing::FakeReply;

struct AzureFixture {
  testing::FakeTransport http;
  testing::FakeClock clock;
  AzureClient client;
  explicit AzureFixture(AzureCredentials creds)
      : client(AzureOptions{std::move(creds), {}, &clock, std::nullopt}, http) {}
};

AzureCredentials KeyCreds() {
  AzureCredentials c;
  c.account = "acct";
  c.key = "key";
  c.endpoint = "http://127.0.0.1:1/acct";
  return c;
}

AzureCall CallOf(std::string operation, std::string container, std::string blob) {
  AzureCall call;
  call.operation = std::move(operation);
  call.container = std::move(container);
  call.blob = std::move(blob);
  return call;
}

FakeReply AzureError(int status, const std::string& code, const std::string& message) {
  FakeReply r;
  r.status = status;
  r.body = "<?xml version=\"1.0\"?><Error><Code>" + code + "</Code><Message>" + message +
           "\nRequestId:1\nTime:now</Message></Error>";
  return r;
}

TEST(AzureClient, SignsWithSharedKeyAndRetriesA503) {
  AzureFixture f(KeyCreds());
  f.http.Push(AzureError(503, "ServerBusy", "busy"));
  f.http.Push(FakeReply::Ok("body"));
  AzureCall call = CallOf("Get Blob", "c", "a b/é");
  auto reply = f.client.Send(call, {});
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->body, "body");
  EXPECT_EQ(f.client.retries(), 1u);
  const auto sent = f.http.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:1/acct/c/a%20b/%C3%A9");
  EXPECT_TRUE(sent[1].headers.Get("Authorization").starts_with("SharedKey acct:"));
  EXPECT_EQ(sent[1].headers.Get("x-ms-version"), kAzureApiVersion);
  EXPECT_FALSE(sent[1].headers.Get("x-ms-date").empty());
}

TEST(AzureClient, SasIsAppendedAndNothingSigned) {
  AzureCredentials creds = KeyCreds();
  creds.key.clear();
  creds.sas = "sv=2021&sig=a%2Bb";
  AzureFixture f(creds);
  f.http.Push(FakeReply::Ok("<EnumerationResults/>"));
  AzureCall call = CallOf("List Blobs", "c", "");
  call.query = {{"restype", "container"}, {"comp", "list"}};
  ASSERT_TRUE(f.client.Send(call, {}).ok());
  const auto sent = f.http.requests();
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:1/acct/c?restype=container&comp=list&sv=2021&sig=a%2Bb");
  EXPECT_EQ(sent[0].headers.Find("Authorization"), nullptr);
}

TEST(AzureClient, ErrorsAreOneLineWithTheRightCode) {
  AzureFixture f(KeyCreds());
  f.http.Push(AzureError(403, "AuthenticationFailed", "Server failed to authenticate"));
  AzureCall call = CallOf("Get Blob", "c", "k");
  Status denied = f.client.Send(call, {}).status();
  EXPECT_EQ(denied.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(denied.message(),
            "Get Blob az://acct/c/k: HTTP 403 AuthenticationFailed: Server failed to authenticate");
  FakeReply missing;
  missing.status = 404;
  missing.headers.Set("x-ms-error-code", "ContainerNotFound");
  f.http.Push(missing);
  Status gone = f.client.Send(call, {}).status();
  EXPECT_EQ(gone.code(), ErrorCode::kNotFound);
  EXPECT_EQ(gone.subject(), ErrorSubject::kBucket) << "a missing container is final";
  EXPECT_EQ(f.client.retries(), 0u);
  EXPECT_EQ(MapAzureError(400, "Md5Mismatch", "", "x").code(), ErrorCode::kDataLoss);
  EXPECT_EQ(MapAzureError(409, "BlobAlreadyExists", "", "x").code(), ErrorCode::kAlreadyExists);
  EXPECT_EQ(MapAzureError(412, "ConditionNotMet", "", "x").code(), ErrorCode::kFailedPrecondition);
}

TEST(AzureBackendReads, ARangeWhoseMd5DiffersIsDataLoss) {
  AzureFixture f(KeyCreds());
  AzureBackend backend(f.client, "c", "p/");
  const std::string good = checksum::Base64(checksum::Md5(checksum::AsBytes("abcd")));
  for (const std::string& body : {std::string("abcd"), std::string("abcX")}) {
    FakeReply r = FakeReply::Ok(body);
    r.status = 206;
    r.headers.Set("Content-MD5", good);
    f.http.Push(r);
  }
  std::string out(4, '\0');
  EXPECT_TRUE(backend.ReadAt("k", 8, std::as_writable_bytes(std::span(out)), "0x1", {}).ok());
  Status bad = backend.ReadAt("k", 8, std::as_writable_bytes(std::span(out)), "0x1", {});
  EXPECT_EQ(bad.code(), ErrorCode::kDataLoss) << bad.ToString();
  const auto sent = f.http.requests();
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:1/acct/c/p/k");
  EXPECT_EQ(sent[0].headers.Get("x-ms-range"), "bytes=8-11");
  EXPECT_EQ(sent[0].headers.Get("x-ms-range-get-content-md5"), "true");
  EXPECT_EQ(sent[0].headers.Get("If-Match"), "\"0x1\"");
}

TEST(AzureBackendReads, ReadObjectIsOneGetCheckedAgainstTheStoredMd5) {
  AzureFixture f(KeyCreds());
  AzureBackend backend(f.client, "c", "");
  const std::string md5 = checksum::Base64(checksum::Md5(checksum::AsBytes("abcd")));
  for (const std::string& body : {std::string("abcd"), std::string("abcX")}) {
    FakeReply r = FakeReply::Ok(body);
    r.headers.Set("Content-Length", "4");
    r.headers.Set("Content-MD5", md5);
    r.headers.Set("ETag", "\"0x3\"");
    r.headers.Set("x-ms-meta-owner", "bob");
    f.http.Push(r);
  }
  f.http.Push(FakeReply::Ok("abcdef"));
  std::string out(4, '\0');
  auto read = backend.ReadObject("k", std::as_writable_bytes(std::span(out)), "", {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(out, "abcd");
  EXPECT_EQ(read->etag, "0x3");
  EXPECT_EQ(read->metadata.at("owner"), "bob");
  EXPECT_EQ(backend.ReadObject("k", std::as_writable_bytes(std::span(out)), "", {}).status().code(),
            ErrorCode::kDataLoss) << "a body that does not match its MD5";
  Status grown = backend.ReadObject("k", std::as_writable_bytes(std::span(out)), "", {}).status();
  EXPECT_EQ(grown.code(), ErrorCode::kDataLoss);
  EXPECT_NE(grown.message().find("changed size"), std::string::npos) << grown.message();
  EXPECT_EQ(f.http.request_count(), 3u) << "one request a read";
}

// Hostile replies: a connection cut mid-body is retried from the first byte; a 500 between two
// listing pages is retried and the listing goes on from its marker.
TEST(AzureBackendReads, ACutBodyIsReadAgainAndAListingSurvivesA500) {
  AzureFixture f(KeyCreds());
  AzureBackend backend(f.client, "c", "");
  f.http.Push(FakeReply::NetworkError(Status::Unavailable("connection reset"), "ab"));
  FakeReply whole = FakeReply::Ok("abcd");
  whole.status = 206;
  f.http.Push(whole);
  std::string out(4, '\0');
  Status read = backend.ReadAt("k", 0, std::as_writable_bytes(std::span(out)), "", {});
  ASSERT_TRUE(read.ok()) << read.ToString();
  EXPECT_EQ(out, "abcd");

  auto page = [](const std::string& names, const std::string& marker) {
    std::string xml = "<EnumerationResults><Blobs>";
    for (char n : names) {
      xml += std::string("<Blob><Name>") + n + "</Name><Properties><Content-Length>1" +
             "</Content-Length></Properties></Blob>";
    }
    xml += "</Blobs><NextMarker>" + marker + "</NextMarker></EnumerationResults>";
    return FakeReply::Ok(xml);
  };
  f.http.Push(page("ab", "m1"));
  f.http.Push(AzureError(500, "InternalError", "oops"));
  f.http.Push(page("c", ""));
  auto cursor = backend.List("");
  ASSERT_TRUE(cursor.ok());
  std::string keys;
  for (;;) {
    auto next = (*cursor)->Next();
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    if (*next == nullptr) break;
    keys += (*next)->key;
  }
  EXPECT_EQ(keys, "abc");
  const auto sent = f.http.requests();
  EXPECT_NE(sent.back().url.find("marker=m1"), std::string::npos) << sent.back().url;
}

TEST(AzureBackendWrites, PutSendsContentMd5AndCreateOnlyIsAlreadyExists) {
  AzureFixture f(KeyCreds());
  AzureBackend backend(f.client, "c", "");
  FakeReply created = FakeReply::Ok();
  created.status = 201;
  created.headers.Set("ETag", "\"0x2\"");
  f.http.Push(created);
  f.http.Push(AzureError(409, "BlobAlreadyExists", "exists"));
  WriteSpec spec;
  spec.size = 4;
  spec.if_absent = true;
  auto put = backend.Put("k", checksum::AsBytes("abcd"), spec, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "0x2");
  EXPECT_EQ(backend.Put("k", checksum::AsBytes("abcd"), spec, {}).status().code(),
            ErrorCode::kAlreadyExists);
  const auto sent = f.http.requests();
  EXPECT_EQ(sent[0].headers.Get("Content-MD5"),
            checksum::Base64(checksum::Md5(checksum::AsBytes("abcd"))));
  EXPECT_EQ(sent[0].headers.Get("If-None-Match"), "*");
  EXPECT_EQ(sent[0].headers.Get("x-ms-blob-type"), "BlockBlob");
  EXPECT_EQ(backend.Put("", checksum::AsBytes("x"), spec, {}).status().code(),
            ErrorCode::kInvalidArgument) << "the container itself";
}

}  // namespace
}  // namespace ferry::storage::azure
