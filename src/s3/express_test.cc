// S3 Express directory buckets against FakeTransport and FakeClock: names and zonal endpoints,
// the CreateSession exchange (signed with the account's keys for "s3express"), requests signed
// with the session's keys and carrying x-amz-s3session-token, the refresh at 80% of a
// session's life, one new session after a refusal, one CreateSession for concurrent requests;
// session modes (ReadOnly for reads, ReadWrite for writes, cached apart); CRC32C checksums on
// writes instead of Content-MD5, checked against the store's echo, and named per part in the
// completion of a multipart upload.
#include "s3/express.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "checksum/additional.h"
#include "checksum/checksum.h"
#include "s3/client.h"
#include "s3/sigv4.h"
#include "s3/xml.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using ferry::testing::FakeClock;
using ferry::testing::FakeReply;
using ferry::testing::FakeTransport;
using ferry::testing::RecordedRequest;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr const char* kBucket = "cache--usw2-az1--x-s3";
constexpr const char* kEndpoint = "https://s3express-usw2-az1.us-west-2.amazonaws.com";

// A CreateSessionResult for session `n`, expiring `life` after `now`.
std::string SessionXml(int n, std::chrono::system_clock::time_point now,
                       std::chrono::seconds life = minutes(5)) {
  const auto expires = std::chrono::floor<seconds>(now + life);
  const std::time_t t = std::chrono::system_clock::to_time_t(expires);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
  const std::string id = std::to_string(n);
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CreateSessionResult "
         "xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Credentials>"
         "<SessionToken>TOKEN" + id + "</SessionToken><SecretAccessKey>SESSIONSECRET" + id +
         "</SecretAccessKey><AccessKeyId>SESSIONKEY" + id + "</AccessKeyId><Expiration>" +
         when + "</Expiration></Credentials></CreateSessionResult>";
}

bool IsCreateSession(const RecordedRequest& r) { return r.url.ends_with("/?session"); }

// The Authorization `r` would carry if signed with `creds` for s3express at `now`.
std::string SignedWith(const RecordedRequest& r, const Credentials& creds,
                       std::chrono::system_clock::time_point now) {
  http::HttpRequest again;
  again.method = r.method;
  again.url = r.url;
  again.headers = r.headers;
  again.headers.Remove("Authorization");
  const std::string body = r.body;
  again.body = checksum::AsBytes(body);
  SignV4(again, r.headers.Get("x-amz-content-sha256"), creds, SigningScope{"us-west-2", "s3express"},
         now);
  return again.headers.Get("Authorization");
}

class ExpressTest : public ::testing::Test {
 protected:
  ExpressTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {}

  std::unique_ptr<S3Client> MakeClient(std::optional<bool> directory = std::nullopt) {
    S3Options o;
    o.endpoint = kEndpoint;
    o.region = "us-west-2";
    o.retry.max_attempts = 3;
    o.metrics = &metrics_;
    o.directory_buckets = directory;
    return std::make_unique<S3Client>(o, transport_, creds_, clock_);
  }
  size_t CreateSessions() const {
    size_t n = 0;
    for (const auto& r : transport_.requests()) n += IsCreateSession(r);
    return n;
  }

  FakeTransport transport_;
  FakeClock clock_;
  StaticCredentials creds_;
  obs::Registry metrics_;
};

TEST(ExpressNamesTest, ZoneAndEndpointComeFromTheBucketName) {
  EXPECT_TRUE(HasDirectoryBucketSuffix("cache--usw2-az1--x-s3"));
  EXPECT_FALSE(HasDirectoryBucketSuffix("cache"));
  EXPECT_FALSE(HasDirectoryBucketSuffix("--x-s3"));
  EXPECT_EQ(DirectoryBucketZone("cache--usw2-az1--x-s3"), "usw2-az1");
  EXPECT_EQ(DirectoryBucketZone("my--cache--use1-az4--x-s3"), "use1-az4");
  EXPECT_EQ(DirectoryBucketZone("cache--x-s3"), "");
  EXPECT_EQ(DirectoryBucketZone("plain-bucket"), "");
  EXPECT_EQ(ZonalEndpoint("usw2-az1", "us-west-2"),
            "https://s3express-usw2-az1.us-west-2.amazonaws.com");
}

TEST(ExpressNamesTest, RefreshAtFourFifthsOfTheLife) {
  const auto t0 = std::chrono::system_clock::time_point(seconds(1767225600));
  EXPECT_EQ(SessionRefreshTime(t0, t0 + minutes(5)), t0 + minutes(4));
  EXPECT_EQ(SessionRefreshTime(t0, t0 + seconds(100)), t0 + seconds(80));
  EXPECT_EQ(SessionRefreshTime(t0, t0 - seconds(5)), t0 + minutes(1)) << "clocks apart";
}

TEST(ExpressNamesTest, CreateSessionResultIsParsedOrRefused) {
  FakeClock clock;
  auto parsed = ParseCreateSession(SessionXml(3, clock.Now()));
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->credentials.access_key_id, "SESSIONKEY3");
  EXPECT_EQ(parsed->credentials.secret_access_key, "SESSIONSECRET3");
  EXPECT_EQ(parsed->credentials.session_token, "TOKEN3");
  EXPECT_EQ(parsed->expiration, clock.Now() + minutes(5));
  EXPECT_EQ(ParseCreateSession("<CreateSessionResult><Credentials><AccessKeyId>a</AccessKeyId>"
                               "</Credentials></CreateSessionResult>")
                .status()
                .code(),
            ErrorCode::kInternal);
  EXPECT_EQ(ParseCreateSession("<Other/>").status().code(), ErrorCode::kInternal);
}

// The part checksums of uploads that never complete or abort here (kept for a resume
// elsewhere, abandoned) are bounded: past kMaxParts the oldest upload's are dropped (its
// completion asks ListParts), the newest kept. Before, a worker running for months kept every
// one of them.
TEST(PartChecksumsTest, UploadsThatNeverEndHereDoNotPileUp) {
  PartChecksums sums;
  const size_t per_upload = 1000;
  const size_t uploads = PartChecksums::kMaxParts / per_upload + 5;
  for (size_t u = 0; u < uploads; ++u) {
    for (size_t p = 1; p <= per_upload; ++p) {
      sums.Put("upload-" + std::to_string(u), static_cast<int>(p), "crc");
    }
  }
  EXPECT_LE(sums.size(), PartChecksums::kMaxParts);
  EXPECT_FALSE(sums.Get("upload-0", 1).has_value()) << "the oldest upload's are dropped";
  EXPECT_EQ(sums.Get("upload-" + std::to_string(uploads - 1), 1000).value_or(""), "crc");
  // Completed ones leave nothing, and their places in the order go too.
  for (size_t u = 0; u < uploads; ++u) sums.Forget("upload-" + std::to_string(u));
  EXPECT_EQ(sums.size(), 0u);
  for (int i = 0; i < 1000; ++i) {
    sums.Put("short-" + std::to_string(i), 1, "crc");
    sums.Forget("short-" + std::to_string(i));
  }
  EXPECT_EQ(sums.size(), 0u);
}

TEST_F(ExpressTest, FirstRequestCreatesASessionAndIsSignedWithIt) {
  auto client = MakeClient();
  transport_.Push(FakeReply::Ok(SessionXml(1, clock_.Now())));
  transport_.Push(FakeReply::Ok("", {}));
  ASSERT_TRUE(client->PutObject(kBucket, "dir/k", checksum::AsBytes("data"), {}).ok());
  const auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u);
  const RecordedRequest& session = requests[0];
  EXPECT_EQ(session.method, "GET");
  EXPECT_EQ(session.url, std::string("https://") + kBucket +
                             ".s3express-usw2-az1.us-west-2.amazonaws.com/?session");
  EXPECT_EQ(session.headers.Find("x-amz-s3session-token"), nullptr);
  EXPECT_EQ(session.headers.Get("Authorization"),
            SignedWith(session, Credentials{"AKIATEST", "SECRETKEY", ""}, clock_.Now()));
  EXPECT_NE(session.headers.Get("Authorization").find("/us-west-2/s3express/aws4_request"),
            std::string::npos);

  const RecordedRequest& put = requests[1];
  EXPECT_EQ(put.method, "PUT");
  EXPECT_EQ(put.url, std::string("https://") + kBucket +
                         ".s3express-usw2-az1.us-west-2.amazonaws.com/dir/k");
  EXPECT_EQ(put.headers.Get("x-amz-s3session-token"), "TOKEN1");
  EXPECT_EQ(put.headers.Find("x-amz-security-token"), nullptr);
  EXPECT_EQ(put.headers.Get("Authorization"),
            SignedWith(put, Credentials{"SESSIONKEY1", "SESSIONSECRET1", ""}, clock_.Now()))
      << "signed with the session's keys";
  EXPECT_EQ(client->sessions_created(), 1u);
  const std::string text = metrics_.RenderPrometheus();
  EXPECT_NE(text.find("operation=\"CreateSession\",status=\"200\""), std::string::npos);
}

TEST_F(ExpressTest, SessionIsReusedThenRefreshedBeforeItExpires) {
  auto client = MakeClient();
  std::atomic<int> sessions{0};
  transport_.SetHandler([this, &sessions](const http::HttpRequest& r) {
    if (r.url.ends_with("/?session")) return FakeReply::Ok(SessionXml(++sessions, clock_.Now()));
    return FakeReply::Ok("", {});
  });
  ASSERT_TRUE(client->HeadObject(kBucket, "a").ok());
  clock_.Advance(minutes(3));
  ASSERT_TRUE(client->HeadObject(kBucket, "b").ok());
  EXPECT_EQ(CreateSessions(), 1u) << "a session three minutes old is still used";
  clock_.Advance(minutes(1) + seconds(1));  // past 80% of five minutes, before expiry
  ASSERT_TRUE(client->HeadObject(kBucket, "c").ok());
  EXPECT_EQ(CreateSessions(), 2u);
  const auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_TRUE(IsCreateSession(requests[3]));
  EXPECT_NE(requests[2].headers.Get("x-amz-s3session-token"),
            requests[4].headers.Get("x-amz-s3session-token"));
  EXPECT_EQ(requests[4].headers.Get("Authorization"),
            SignedWith(requests[4],
                       Credentials{"SESSIONKEY" + requests[4].headers.Get("x-amz-s3session-token")
                                                      .substr(5),
                                   "SESSIONSECRET" +
                                       requests[4].headers.Get("x-amz-s3session-token").substr(5),
                                   ""},
                       clock_.Now()));
}

TEST_F(ExpressTest, ExpiredTokenGetsOneNewSessionAndTheRequestAgain) {
  auto client = MakeClient();
  transport_.Push(FakeReply::Ok(SessionXml(1, clock_.Now())));
  transport_.Push(FakeReply::S3Error(400, "ExpiredToken", "The provided token has expired."));
  transport_.Push(FakeReply::Ok(SessionXml(2, clock_.Now())));
  transport_.Push(FakeReply::Ok("", {}));
  ASSERT_TRUE(client->DeleteObject(kBucket, "k").ok());
  const auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 4u);
  EXPECT_EQ(requests[1].headers.Get("x-amz-s3session-token"), "TOKEN1");
  EXPECT_TRUE(IsCreateSession(requests[2]));
  EXPECT_EQ(requests[3].headers.Get("x-amz-s3session-token"), "TOKEN2");

  // A second refusal in a row is an answer: no loop of sessions.
  transport_.Push(FakeReply::S3Error(403, "AccessDenied"));
  transport_.Push(FakeReply::Ok(SessionXml(3, clock_.Now())));
  transport_.Push(FakeReply::S3Error(403, "AccessDenied"));
  EXPECT_EQ(client->DeleteObject(kBucket, "k").status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(transport_.requests().size(), 7u);
  EXPECT_EQ(transport_.pending_replies(), 0u);
}

TEST_F(ExpressTest, ConcurrentRequestsShareOneCreateSession) {
  auto client = MakeClient();
  std::atomic<int> in_create{0};
  transport_.SetHandler([&](const http::HttpRequest& r) {
    if (r.url.ends_with("/?session")) {
      ++in_create;
      // real time: the CreateSession is in flight a while, so that the other requests arrive
      // meanwhile (whether they wait for it or make their own is what is tested).
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      return FakeReply::Ok(SessionXml(1, clock_.Now()));
    }
    return FakeReply::Ok("", {});
  });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      ok += client->HeadObject(kBucket, "k" + std::to_string(i)).ok();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 8);
  EXPECT_EQ(in_create.load(), 1);
  for (const auto& r : transport_.requests()) {
    if (!IsCreateSession(r)) {
      EXPECT_EQ(r.headers.Get("x-amz-s3session-token"), "TOKEN1");
    }
  }
}

TEST_F(ExpressTest, CopyObjectAndHeadBucketAreSignedWithTheAccountKeys) {
  auto client = MakeClient();
  transport_.Push(FakeReply::Ok(""));  // HeadBucket
  transport_.Push(FakeReply::Ok("<CopyObjectResult><ETag>\"e\"</ETag></CopyObjectResult>"));
  ASSERT_TRUE(client->HeadBucket(kBucket).ok());
  CopyObjectRequest copy;
  copy.source = CopySourceSpec{.bucket = kBucket, .key = "a", .version_id = "", .if_match = "", .customer_key = ""};
  copy.bucket = kBucket;
  copy.key = "b";
  ASSERT_TRUE(client->CopyObject(copy).ok());
  const auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u) << "no CreateSession";
  for (const auto& r : requests) {
    EXPECT_EQ(r.headers.Find("x-amz-s3session-token"), nullptr) << r.method;
    EXPECT_EQ(r.headers.Get("Authorization"),
              SignedWith(r, Credentials{"AKIATEST", "SECRETKEY", ""}, clock_.Now()));
  }
}

TEST_F(ExpressTest, DirectoryBucketOptionOverridesTheName) {
  // Forced on: any bucket name takes the session path (and virtual hosts).
  auto forced = MakeClient(true);
  transport_.Push(FakeReply::Ok(SessionXml(1, clock_.Now())));
  transport_.Push(FakeReply::Ok(""));
  ASSERT_TRUE(forced->HeadObject("plain", "k").ok());
  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].url,
            "https://plain.s3express-usw2-az1.us-west-2.amazonaws.com/?session");
  // Forced off: a "--x-s3" name is a general-purpose bucket, signed for "s3" with the account.
  auto off = MakeClient(false);
  transport_.Push(FakeReply::Ok(""));
  ASSERT_TRUE(off->HeadObject(kBucket, "k").ok());
  requests = transport_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[2].headers.Find("x-amz-s3session-token"), nullptr);
  EXPECT_NE(requests[2].headers.Get("Authorization").find("/us-west-2/s3/aws4_request"),
            std::string::npos);
}

TEST_F(ExpressTest, AFailedCreateSessionFailsTheRequestAndCachesNothing) {
  auto client = MakeClient();
  transport_.Push(FakeReply::S3Error(403, "AccessDenied", "no s3express:CreateSession"));
  auto head = client->HeadObject(kBucket, "k");
  EXPECT_EQ(head.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(head.status().message().find("CreateSession"), std::string::npos)
      << head.status().message();
  transport_.Push(FakeReply::Ok(SessionXml(2, clock_.Now())));
  transport_.Push(FakeReply::Ok(""));
  ASSERT_TRUE(client->HeadObject(kBucket, "k").ok());
  EXPECT_EQ(CreateSessions(), 2u);
}


// The CRC32C values of directory-bucket writes (checksum/additional.h computes them).
std::string Crc32cChecksum(std::span<const std::byte> body) {
  return checksum::Compute(checksum::Algorithm::kCrc32c, body);
}

TEST(ExpressNamesTest, ChecksumIsTheBase64OfTheBigEndianCrc32c) {
  EXPECT_EQ(Crc32cChecksum(checksum::AsBytes("123456789")), "4waSgw==");  // 0xE3069283
  EXPECT_EQ(Crc32cChecksum({}), "AAAAAA==");
  EXPECT_EQ(SessionModeFor("GetObject"), SessionMode::kReadOnly);
  EXPECT_EQ(SessionModeFor("ListObjectsV2"), SessionMode::kReadOnly);
  EXPECT_EQ(SessionModeFor("ListParts"), SessionMode::kReadOnly);
  EXPECT_EQ(SessionModeFor("PutObject"), SessionMode::kReadWrite);
  EXPECT_EQ(SessionModeFor("DeleteObjects"), SessionMode::kReadWrite);
  EXPECT_EQ(SessionModeFor("CreateMultipartUpload"), SessionMode::kReadWrite);
}

TEST_F(ExpressTest, ReadsAskForAReadOnlySessionWritesForAReadWriteOne) {
  auto client = MakeClient();
  std::atomic<int> sessions{0};
  transport_.SetHandler([this, &sessions](const http::HttpRequest& r) {
    if (r.url.ends_with("/?session")) return FakeReply::Ok(SessionXml(++sessions, clock_.Now()));
    return FakeReply::Ok("", {});
  });
  // A source: only read, only ReadOnly.
  ASSERT_TRUE(client->HeadObject(kBucket, "a").ok());
  ASSERT_TRUE(client->HeadObject(kBucket, "b").ok());
  auto requests = transport_.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].headers.Get("x-amz-create-session-mode"), "ReadOnly");
  EXPECT_EQ(requests[2].headers.Get("x-amz-s3session-token"), "TOKEN1");
  // The first write asks for a ReadWrite session, cached apart from the ReadOnly one.
  ASSERT_TRUE(client->DeleteObject(kBucket, "a").ok());
  requests = transport_.requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_TRUE(IsCreateSession(requests[3]));
  EXPECT_EQ(requests[3].headers.Get("x-amz-create-session-mode"), "ReadWrite");
  EXPECT_EQ(requests[4].headers.Get("x-amz-s3session-token"), "TOKEN2");
  // Reads now use the ReadWrite session; writes never use the ReadOnly one.
  ASSERT_TRUE(client->HeadObject(kBucket, "c").ok());
  ASSERT_TRUE(client->DeleteObject(kBucket, "c").ok());
  requests = transport_.requests();
  ASSERT_EQ(requests.size(), 7u);
  EXPECT_EQ(requests[5].headers.Get("x-amz-s3session-token"), "TOKEN2");
  EXPECT_EQ(requests[6].headers.Get("x-amz-s3session-token"), "TOKEN2");
  EXPECT_EQ(client->sessions_created(), 2u);
}

TEST_F(ExpressTest, WritesCarryACrc32cInsteadOfContentMd5AndItsEchoIsChecked) {
  auto client = MakeClient();
  const std::string body = "123456789";
  http::Headers echo;
  echo.Set("x-amz-checksum-crc32c", "4waSgw==");
  transport_.Push(FakeReply::Ok(SessionXml(1, clock_.Now())));
  transport_.Push(FakeReply::Ok("", echo));
  WriteOptions with_md5;
  with_md5.content_md5 = "JfnnlDI7RTiF9RgfG2JNCw==";  // never sent to a directory bucket
  ASSERT_TRUE(client->PutObject(kBucket, "k", checksum::AsBytes(body), with_md5).ok());
  const RecordedRequest put = transport_.requests().back();
  EXPECT_EQ(put.headers.Get("x-amz-checksum-crc32c"), "4waSgw==");
  EXPECT_EQ(put.headers.Find("Content-MD5"), nullptr);
  // The store says it received other bytes: the write fails, as data loss.
  http::Headers other;
  other.Set("x-amz-checksum-crc32c", "AAAAAA==");
  transport_.Push(FakeReply::Ok("", other));
  EXPECT_EQ(client->PutObject(kBucket, "k", checksum::AsBytes(body), {}).status().code(),
            ErrorCode::kDataLoss);
  // A general-purpose bucket is unchanged: no checksum header.
  auto plain = MakeClient(false);
  transport_.Push(FakeReply::Ok("", {}));
  ASSERT_TRUE(plain->PutObject("plain", "k", checksum::AsBytes(body), with_md5).ok());
  EXPECT_EQ(transport_.requests().back().headers.Find("x-amz-checksum-crc32c"), nullptr);
  EXPECT_EQ(transport_.requests().back().headers.Get("Content-MD5"), with_md5.content_md5);
}

TEST_F(ExpressTest, AMultipartUploadDeclaresCrc32cAndItsCompletionNamesEachPart) {
  auto client = MakeClient();
  transport_.SetHandler([this](const http::HttpRequest& r) {
    if (r.url.ends_with("/?session")) return FakeReply::Ok(SessionXml(1, clock_.Now()));
    if (r.method == "POST" && r.url.ends_with("?uploads")) {
      return FakeReply::Ok(
          "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>");
    }
    if (r.method == "PUT") {
      http::Headers h;
      h.Set("ETag", "\"0123456789abcdef0123456789abcdef\"");
      h.Set("x-amz-checksum-crc32c", r.headers.Get("x-amz-checksum-crc32c"));
      return FakeReply::Ok("", h);
    }
    if (r.method == "GET") {  // ListParts: part 2 was uploaded by another process
      return FakeReply::Ok(
          "<ListPartsResult><IsTruncated>false</IsTruncated><Part><PartNumber>1</PartNumber>"
          "<ETag>\"0123456789abcdef0123456789abcdef\"</ETag><Size>3</Size>"
          "<ChecksumCRC32C>one</ChecksumCRC32C></Part><Part><PartNumber>2</PartNumber>"
          "<ETag>\"0123456789abcdef0123456789abcdef\"</ETag><Size>3</Size>"
          "<ChecksumCRC32C>TWO=</ChecksumCRC32C></Part></ListPartsResult>");
    }
    return FakeReply::Ok(
        "<CompleteMultipartUploadResult><ETag>\"e-2\"</ETag></CompleteMultipartUploadResult>");
  });
  auto upload = client->CreateMultipartUpload(kBucket, "big", {});
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-algorithm"), "CRC32C");
  ASSERT_TRUE(client
                  ->UploadPart({.bucket = kBucket,
                                .key = "big",
                                .upload_id = *upload,
                                .part_number = 1,
                                .body = checksum::AsBytes("abc"), .encryption = {}})
                  .ok());
  const std::string part1 = Crc32cChecksum(checksum::AsBytes("abc"));
  EXPECT_EQ(transport_.requests().back().headers.Get("x-amz-checksum-crc32c"), part1);
  EXPECT_EQ(transport_.requests().back().headers.Find("Content-MD5"), nullptr);
  // Both parts sent by this client: no ListParts, each part's CRC32C in the body.
  ASSERT_TRUE(client
                  ->UploadPart({.bucket = kBucket,
                                .key = "big",
                                .upload_id = *upload,
                                .part_number = 2,
                                .body = checksum::AsBytes("def"), .encryption = {}})
                  .ok());
  const CompletedPart parts[] = {{1, "0123456789abcdef0123456789abcdef", 3},
                                 {2, "0123456789abcdef0123456789abcdef", 3}};
  ASSERT_TRUE(client->CompleteMultipartUpload(kBucket, "big", *upload, parts).ok());
  const RecordedRequest complete = transport_.requests().back();
  EXPECT_EQ(complete.method, "POST");
  EXPECT_NE(complete.body.find("<PartNumber>1</PartNumber><ETag>&quot;0123456789abcdef0123456789"
                               "abcdef&quot;</ETag><ChecksumCRC32C>" + part1 + "</ChecksumCRC32C>"),
            std::string::npos)
      << complete.body;
  EXPECT_NE(complete.body.find("<ChecksumCRC32C>" + Crc32cChecksum(checksum::AsBytes("def")) +
                               "</ChecksumCRC32C>"),
            std::string::npos);
  // A resumed upload (parts of another process): the checksums come from ListParts.
  auto other = MakeClient();
  ASSERT_TRUE(other->CompleteMultipartUpload(kBucket, "big", "u1", parts).ok());
  const auto requests = transport_.requests();
  size_t list_parts = 0;
  for (const auto& r : requests) {
    list_parts += r.method == "GET" && r.url.find("uploadId=u1") != std::string::npos;
  }
  EXPECT_EQ(list_parts, 1u) << "only the client that did not send the parts asks";
  EXPECT_NE(requests.back().body.find("<ChecksumCRC32C>one</ChecksumCRC32C>"), std::string::npos);
  EXPECT_NE(requests.back().body.find("<ChecksumCRC32C>TWO=</ChecksumCRC32C>"), std::string::npos)
      << requests.back().body;
}

}  // namespace
}  // namespace ferry::s3
