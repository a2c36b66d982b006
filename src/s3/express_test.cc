// S3 Express directory buckets against FakeTransport and FakeClock: names and zonal endpoints,
// the CreateSession exchange (signed with the account's keys for "s3express"), requests signed
// with the session's keys and carrying x-amz-s3session-token, the refresh at 80% of a
// session's life, one new session after a refusal, one CreateSession for concurrent requests.
#include "s3/express.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

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
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // others arrive meanwhile
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
  copy.source = CopySourceSpec{.bucket = kBucket, .key = "a", .version_id = "", .if_match = ""};
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

}  // namespace
}  // namespace ferry::s3
