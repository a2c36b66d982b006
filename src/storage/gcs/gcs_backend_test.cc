// GcsBackend's checks of what the service says over a scripted transport: a write whose MD5 the
// service reports otherwise fails, a whole-object read that does not match the object's stored
// CRC32C or MD5 is DataLoss, a read of an object replaced since it was listed is refused, a
// missing bucket is one line about the bucket.
#include "storage/gcs/gcs_backend.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "checksum/checksum.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::storage::gcs {
namespace {

using testing::FakeReply;

struct GcsBackendFixture {
  testing::FakeTransport http;
  testing::FakeClock clock;
  GcsClient client;
  GcsBackend backend;
  GcsBackendFixture() : client(Options(clock), http), backend(client, "bkt", "p/") {}
  static GcsOptions Options(Clock& clock) {
    GcsOptions o;
    o.credentials.endpoint = "http://127.0.0.1:4";
    o.credentials.anonymous = true;
    o.clock = &clock;
    o.retry.max_attempts = 1;
    return o;
  }
};

std::string Md5B64(std::string_view s) {
  return checksum::Base64(checksum::Md5(checksum::AsBytes(s)));
}

std::string ResourceOf(std::string_view name, std::string_view body, std::string md5) {
  return nlohmann::json{{"name", std::string(name)},
                        {"size", std::to_string(body.size())},
                        {"generation", "5"},
                        {"md5Hash", md5},
                        {"crc32c", Crc32cBase64(checksum::Crc32c(checksum::AsBytes(body)))}}
      .dump();
}

FakeReply MediaOf(std::string body, std::string_view stored) {
  http::Headers h;
  h.Add("x-goog-hash", "crc32c=" + Crc32cBase64(checksum::Crc32c(checksum::AsBytes(stored))));
  h.Add("x-goog-hash", "md5=" + Md5B64(stored));
  h.Set("x-goog-generation", "5");
  return FakeReply::Ok(std::move(body), h);
}

TEST(GcsBackend, PutSendsBothChecksumsAndRefusesAnotherMd5Back) {
  GcsBackendFixture f;
  f.http.Push(FakeReply::Ok(ResourceOf("p/k", "hello", Md5B64("hello"))));
  WriteSpec spec;
  spec.size = 5;
  auto put = f.backend.Put("k", checksum::AsBytes("hello"), spec, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "5d41402abc4b2a76b9719d911017c592");
  const auto sent = f.http.requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:4/upload/storage/v1/b/bkt/o?uploadType=multipart");
  EXPECT_NE(sent[0].body.find("\"md5Hash\":\"" + Md5B64("hello") + "\""), std::string::npos);
  EXPECT_NE(sent[0].body.find("\"crc32c\":\"" +
                              Crc32cBase64(checksum::Crc32c(checksum::AsBytes("hello"))) + "\""),
            std::string::npos);

  // a service that kept other bytes than were sent
  f.http.Push(FakeReply::Ok(ResourceOf("p/k", "hellx", Md5B64("hellx"))));
  EXPECT_EQ(f.backend.Put("k", checksum::AsBytes("hello"), spec, {}).status().code(),
            ErrorCode::kDataLoss);
}

TEST(GcsBackend, WholeReadCheckedAgainstTheStoredChecksums) {
  GcsBackendFixture f;
  std::string out(5, '\0');
  std::span<std::byte> buf(reinterpret_cast<std::byte*>(out.data()), out.size());
  f.http.Push(MediaOf("hello", "hello"));
  ASSERT_TRUE(f.backend.ReadAt("k", 0, buf, "", {}).ok());
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(f.http.requests()[0].headers.Get("Range"), "bytes=0-4");
  EXPECT_EQ(f.http.requests()[0].headers.Get("Accept-Encoding"), "gzip");

  f.http.Push(MediaOf("hellx", "hello"));  // bytes damaged on the way
  EXPECT_EQ(f.backend.ReadAt("k", 0, buf, "", {}).code(), ErrorCode::kDataLoss);
}

TEST(GcsBackend, ReadOfAReplacedObjectIsRefused) {
  GcsBackendFixture f;
  std::string out(5, '\0');
  std::span<std::byte> buf(reinterpret_cast<std::byte*>(out.data()), out.size());
  f.http.Push(MediaOf("world", "world"));
  const std::string listed_etag = checksum::Hex(checksum::Md5(checksum::AsBytes("hello")));
  EXPECT_EQ(f.backend.ReadAt("k", 0, buf, listed_etag, {}).code(),
            ErrorCode::kFailedPrecondition);
}

TEST(GcsBackend, MissingBucketIsOneLineAboutTheBucket) {
  GcsBackendFixture f;
  FakeReply missing;
  missing.status = 404;
  missing.body = R"({"error":{"code":404,"message":"The specified bucket does not exist.",)"
                 R"("errors":[{"reason":"notFound"}]}})";
  f.http.Push(missing);
  const Status s = f.backend.Check({});
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.subject(), ErrorSubject::kBucket);
  EXPECT_EQ(s.message(), "bucket 'bkt' not found on http://127.0.0.1:4");
}

TEST(GcsBackend, RewriteCallsAgainWithItsTokenUntilDone) {
  GcsBackendFixture f;
  GcsBackend other_bucket(f.client, "dst", "q/");
  ASSERT_TRUE(other_bucket.CanCopyFrom(f.backend));
  f.http.Push(FakeReply::Ok(R"({"done":false,"rewriteToken":"t1","totalBytesRewritten":"1"})"));
  f.http.Push(FakeReply::Ok(R"({"done":false,"rewriteToken":"t2","totalBytesRewritten":"2"})"));
  f.http.Push(FakeReply::Ok(
      R"({"done":true,"resource":)" + ResourceOf("q/c", "hello", Md5B64("hello")) + "}"));
  ObjectInfo src;
  src.key = "a b";
  src.etag = checksum::Hex(checksum::Md5(checksum::AsBytes(std::string_view("hello"))));
  auto copied = other_bucket.CopyFrom(f.backend, src, "c", "", {});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->etag, src.etag);
  const auto reqs = f.http.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "POST");
  EXPECT_EQ(reqs[0].url,
            "http://127.0.0.1:4/storage/v1/b/bkt/o/p%2Fa%20b/rewriteTo/b/dst/o/q%2Fc");
  EXPECT_EQ(reqs[1].url, reqs[0].url + "?rewriteToken=t1");
  EXPECT_EQ(reqs[2].url, reqs[0].url + "?rewriteToken=t2") << "only the latest token";
  EXPECT_EQ(reqs[0].body, "{}") << "the source's metadata";
}

TEST(GcsBackend, RewriteOfAChangedSourceIsRefusedAndOtherClientsCannotCopy) {
  GcsBackendFixture f;
  f.http.Push(FakeReply::Ok(
      R"({"done":true,"resource":)" + ResourceOf("p/c", "other", Md5B64("other")) + "}"));
  ObjectInfo src;
  src.key = "a";
  src.etag = checksum::Hex(checksum::Md5(checksum::AsBytes(std::string_view("hello"))));
  auto copied = f.backend.CopyFrom(f.backend, src, "c", "", {});
  EXPECT_EQ(copied.status().code(), ErrorCode::kFailedPrecondition) << copied.status().ToString();

  testing::FakeTransport http2;
  GcsClient client2(GcsBackendFixture::Options(f.clock), http2);
  GcsBackend elsewhere(client2, "bkt", "");
  EXPECT_FALSE(elsewhere.CanCopyFrom(f.backend)) << "another client: other credentials";
  EXPECT_EQ(elsewhere.CopyFrom(f.backend, src, "c", "", {}).status().code(),
            ErrorCode::kNotSupported);
  EXPECT_EQ(http2.request_count(), 0u);
}

TEST(GcsBackend, AServiceWithoutRewriteGetsTheBytesThroughFerry) {
  // 501 (the emulator's old launcher has no rewrite at GCS's path): read whole, checked, Put
  GcsBackendFixture f;
  http::Headers none;
  FakeReply not_implemented{501, none, "Not Implemented", Status::Ok()};
  f.http.Push(not_implemented);
  f.http.Push(FakeReply::Ok(ResourceOf("p/a", "hello", Md5B64("hello"))));  // the source's stat
  f.http.Push(MediaOf("hello", "hello"));
  f.http.Push(FakeReply::Ok(ResourceOf("p/c", "hello", Md5B64("hello"))));  // the Put
  ObjectInfo src;
  src.key = "a";
  src.size = 5;
  src.etag = checksum::Hex(checksum::Md5(checksum::AsBytes(std::string_view("hello"))));
  auto copied = f.backend.CopyFrom(f.backend, src, "c", "", {});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  const auto reqs = f.http.requests();
  ASSERT_EQ(reqs.size(), 4u) << "501 is not retried";
  EXPECT_NE(reqs[3].body.find("hello"), std::string::npos);
  EXPECT_NE(reqs[3].url.find("uploadType=multipart"), std::string::npos);
}

}  // namespace
}  // namespace ferry::storage::gcs
