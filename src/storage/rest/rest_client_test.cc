// The REST stores' shared client pieces: error bodies kept out of the caller's sink,
// Retry-After, and the retry loop's decisions (FakeClock: no real sleeps).
#include "storage/rest/rest_client.h"

#include <gtest/gtest.h>

#include "testing/fake_clock.h"

namespace ferry::storage::rest {
namespace {

std::span<const std::byte> RestBytes(std::string_view s) {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

TEST(RestReplySink, ErrorBodiesNeverReachTheTarget) {
  http::StringSink target;
  ReplySink sink(&target);
  ASSERT_TRUE(sink.Begin(503, {}).ok());
  ASSERT_TRUE(sink.Write(RestBytes("<Error/>")).ok());
  EXPECT_EQ(sink.error(), "<Error/>");
  EXPECT_FALSE(sink.target_began());
  EXPECT_TRUE(target.body().empty());
  ASSERT_TRUE(sink.Begin(200, {}).ok());
  ASSERT_TRUE(sink.Write(RestBytes("data")).ok());
  EXPECT_TRUE(sink.target_began());
  EXPECT_EQ(target.body(), "data");
  EXPECT_TRUE(sink.error().empty());

  ReplySink collecting(nullptr);
  ASSERT_TRUE(collecting.Begin(200, {}).ok());
  ASSERT_TRUE(collecting.Write(RestBytes("{}")).ok());
  EXPECT_EQ(collecting.collected(), "{}");
}

TEST(RestRetryAfter, SecondsCappedAtAMinute) {
  http::Headers h;
  EXPECT_EQ(RetryAfter(h), std::chrono::milliseconds(0));
  h.Set("Retry-After", "3");
  EXPECT_EQ(RetryAfter(h), std::chrono::seconds(3));
  h.Set("Retry-After", "3600");
  EXPECT_EQ(RetryAfter(h), std::chrono::seconds(60));
  h.Set("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT");
  EXPECT_EQ(RetryAfter(h), std::chrono::milliseconds(0));
}

TEST(RestSendWithRetries, TransientRetriedUpToTheLimitOthersNot) {
  testing::FakeClock clock;
  std::atomic<uint64_t> retries{0};
  retry::Policy policy;
  policy.max_attempts = 3;
  int calls = 0;
  auto busy = SendWithRetries<int>(policy, clock, nullptr, retries, {}, [&](Attempt& a) {
    ++calls;
    a.pause = std::chrono::seconds(7);
    return Result<int>(Status::Unavailable("busy"));
  });
  EXPECT_EQ(busy.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(retries.load(), 2u);

  calls = 0;
  auto denied = SendWithRetries<int>(policy, clock, nullptr, retries, {}, [&](Attempt&) {
    ++calls;
    return Result<int>(Status::PermissionDenied("no"));
  });
  EXPECT_EQ(denied.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(calls, 1);

  calls = 0;
  auto refreshed = SendWithRetries<int>(policy, clock, nullptr, retries, {}, [&](Attempt& a) {
    a.again_now = true;
    return ++calls < 3 ? Result<int>(Status::Unauthenticated("stale")) : Result<int>(5);
  });
  EXPECT_EQ(refreshed.status().code(), ErrorCode::kUnauthenticated) << "at once, once only";
  EXPECT_EQ(calls, 2);
}

// A sink that cannot start over: a failure after it received bytes is final.
class OnceOnlySink : public http::StringSink {
 public:
  bool Rewind() override { return false; }
};

TEST(RestSendWithRetries, ASinkThatCannotRewindEndsIt) {
  testing::FakeClock clock;
  std::atomic<uint64_t> retries{0};
  OnceOnlySink sink;
  int calls = 0;
  auto r = SendWithRetries<int>(retry::Policy{}, clock, &sink, retries, {}, [&](Attempt& a) {
    ++calls;
    a.began = true;
    return Result<int>(Status::Unavailable("reset mid-body"));
  });
  EXPECT_EQ(r.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace ferry::storage::rest
