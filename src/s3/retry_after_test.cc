// A throttling reply's Retry-After: the retry waits at least that long, and the transport's
// limits hold every request to the endpoint for it (limits/limits.h).
#include <gtest/gtest.h>

#include <map>
#include <mutex>
#include <string>

#include "checksum/checksum.h"
#include "http/throttle.h"
#include "s3/client.h"
#include "s3/client_internal.h"
#include "s3/credentials.h"
#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::s3 {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using ferry::testing::FakeReply;

// Records the pauses asked for.
class RecordingThrottle : public http::Throttle {
 public:
  void BeforeRequest(std::string_view, std::stop_token) override {}
  void Bytes(http::Direction, size_t, std::stop_token) override {}
  void PauseEndpoint(std::string_view endpoint, milliseconds pause) override {
    std::lock_guard lock(mu_);
    pauses[std::string(endpoint)] = pause;
  }
  std::mutex mu_;
  std::map<std::string, milliseconds> pauses;
};

FakeReply SlowDown(const char* retry_after) {
  FakeReply r = FakeReply::S3Error(503, "SlowDown");
  r.headers.Set("Retry-After", retry_after);
  return r;
}

class RetryAfterTest : public ::testing::Test {
 protected:
  RetryAfterTest() : creds_(Credentials{"AKIATEST", "SECRETKEY", ""}) {
    transport_.SetThrottle(&throttle_);
  }
  S3Client MakeClient() {
    S3Options o;
    o.endpoint = "http://127.0.0.1:7480";
    o.region = "region-a";
    o.retry.max_attempts = 4;
    o.metrics = &metrics_;
    return S3Client(o, transport_, creds_, clock_);
  }
  testing::FakeTransport transport_;
  testing::FakeClock clock_;
  StaticCredentials creds_;
  obs::Registry metrics_;
  RecordingThrottle throttle_;
};

TEST_F(RetryAfterTest, TheRetryWaitsAtLeastThePauseAskedForAndTheEndpointIsPaused) {
  S3Client client = MakeClient();
  transport_.Push(SlowDown("3"));
  transport_.Push(FakeReply::Ok("", {}));
  ASSERT_TRUE(client.PutObject("b", "k", checksum::AsBytes(std::string("x")), {}).ok());
  const auto sleeps = clock_.sleeps();
  ASSERT_EQ(sleeps.size(), 1u);
  EXPECT_EQ(sleeps[0], seconds(3));
  ASSERT_EQ(throttle_.pauses.count("127.0.0.1:7480"), 1u);
  EXPECT_EQ(throttle_.pauses["127.0.0.1:7480"], seconds(3));
}

TEST_F(RetryAfterTest, WithoutTheHeaderTheBackoffAloneHolds) {
  S3Client client = MakeClient();
  transport_.Push(FakeReply::S3Error(503, "SlowDown"));
  transport_.Push(FakeReply::Ok("", {}));
  ASSERT_TRUE(client.PutObject("b", "k", checksum::AsBytes(std::string("x")), {}).ok());
  ASSERT_EQ(clock_.sleeps().size(), 1u);
  EXPECT_LE(clock_.sleeps()[0], milliseconds(100));
  EXPECT_TRUE(throttle_.pauses.empty());
}

TEST(RetryAfterParseTest, SecondsOrAnHttpDateCappedAtAMinute) {
  const auto now = std::chrono::system_clock::time_point(seconds(1767225600));  // 2026-01-01
  auto with = [](const char* v) {
    http::Headers h;
    h.Set("Retry-After", v);
    return h;
  };
  EXPECT_EQ(RetryAfter(with("5"), now), seconds(5));
  EXPECT_EQ(RetryAfter(with("0"), now), seconds(0));
  EXPECT_EQ(RetryAfter(with("86400"), now), seconds(60));
  EXPECT_EQ(RetryAfter(with("Thu, 01 Jan 2026 00:00:07 GMT"), now), seconds(7));
  EXPECT_EQ(RetryAfter(with("Wed, 31 Dec 2025 23:00:00 GMT"), now), seconds(0));  // past
  EXPECT_EQ(RetryAfter(with("soon"), now), seconds(0));
  EXPECT_EQ(RetryAfter(with("-3"), now), seconds(0));
  EXPECT_EQ(RetryAfter(http::Headers{}, now), seconds(0));
}

}  // namespace
}  // namespace ferry::s3
