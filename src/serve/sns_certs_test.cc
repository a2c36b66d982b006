// SnsCertCache against a fake HTTPS host and a fake clock: a certificate is fetched once and
// reused until it expires, what is not a certificate valid now is refused and not kept, what is
// fetched is kept only when the caller keeps it (a signature verified), the cache and the
// fetches are bounded, and no URL outside the SNS rule is ever asked.
#include "serve/sns_certs.h"

#include <gtest/gtest.h>

#include "events/errors.h"
#include "serve/sns_test_util.h"
#include "testing/fake_clock.h"

namespace ferry::serve {
namespace {

using namespace std::chrono_literals;
using snstest::CertSpec;
using snstest::FakeHttps;

std::string Url(int i) {
  return "https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-" + std::to_string(i) +
         ".pem";
}

// What SnsGate does with a certificate whose signature verified: the kept one, else one fetched
// and kept.
Result<std::string> GetKept(SnsCertCache& cache, const std::string& url) {
  if (std::optional<std::string> kept = cache.Cached(url)) return *kept;
  Result<std::string> fetched = cache.Fetch(url);
  if (fetched.ok()) cache.Keep(url, *fetched);
  return fetched;
}

class SnsCertCacheTest : public ::testing::Test {
 protected:
  SnsCertCacheTest() : ca_key_(snstest::NewRsaKey()), key_(snstest::NewRsaKey()) {}

  // A certificate of key_ issued by the CA, valid from a day ago for `days` days from now.
  std::string Cert(int days) {
    return snstest::Certificate({.key = key_.get(),
                                 .cn = "sns.amazonaws.com",
                                 .issuer_key = ca_key_.get(),
                                 .issuer_cn = "Test SNS CA",
                                 .from = clock_.Now() - 24h,
                                 .to = clock_.Now() + days * 24h,
                                 .ca = false});
  }

  ferry::testing::FakeClock clock_;
  FakeHttps https_;
  snstest::Pkey ca_key_, key_;
};

TEST_F(SnsCertCacheTest, FetchedOnceAndReusedUntilItExpires) {
  const std::string pem = Cert(30);
  https_.Set(Url(1), {.status = 200, .body = pem, .unreachable = false});
  SnsCertCache cache(https_, clock_);
  for (int i = 0; i < 3; ++i) {
    auto got = GetKept(cache, Url(1));
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(*got, pem);
  }
  EXPECT_EQ(cache.fetches(), 1u);
  EXPECT_EQ(https_.count(Url(1)), 1u);
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(29 * 24h));
  EXPECT_TRUE(GetKept(cache, Url(1)).ok());
  EXPECT_EQ(cache.fetches(), 1u);
  // past its notAfter: fetched again; the host still serves the expired one: refused, not kept
  clock_.Advance(std::chrono::duration_cast<std::chrono::milliseconds>(2 * 24h));
  auto expired = GetKept(cache, Url(1));
  EXPECT_EQ(events::ReasonOf(expired.status()), "bad_certificate");
  EXPECT_EQ(expired.status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_EQ(cache.fetches(), 2u);
  // the host serves a new one: taken
  const std::string renewed = Cert(30);
  https_.Set(Url(1), {.status = 200, .body = renewed, .unreachable = false});
  auto got = GetKept(cache, Url(1));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, renewed);
  EXPECT_EQ(cache.fetches(), 3u);
}

TEST_F(SnsCertCacheTest, WhatIsNotACertificateValidNowIsRefusedAndNotKept) {
  SnsCertCache cache(https_, clock_);
  https_.Set(Url(1), {.status = 200, .body = "hello", .unreachable = false});
  https_.Set(Url(2), {.status = 200, .body = std::string(20000, 'x'), .unreachable = false});
  const std::string not_yet = snstest::Certificate({.key = key_.get(),
                                                    .cn = "sns.amazonaws.com",
                                                    .issuer_key = ca_key_.get(),
                                                    .issuer_cn = "Test SNS CA",
                                                    .from = clock_.Now() + 24h,
                                                    .to = clock_.Now() + 48h,
                                                    .ca = false});
  https_.Set(Url(3), {.status = 200, .body = not_yet, .unreachable = false});
  for (int i : {1, 2, 3}) {
    auto got = GetKept(cache, Url(i));
    EXPECT_EQ(events::ReasonOf(got.status()), "bad_certificate") << i << got.status().ToString();
    EXPECT_EQ(got.status().code(), ErrorCode::kUnauthenticated) << i;
  }
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(GetKept(cache, Url(1)).ok());
  EXPECT_EQ(https_.count(Url(1)), 2u) << "a refused answer is not kept";
}

TEST_F(SnsCertCacheTest, AnswersOfTheHostSayWhetherToRetry) {
  SnsCertCache cache(https_, clock_);
  https_.Set(Url(1), {.status = 404, .body = "no", .unreachable = false});
  https_.Set(Url(2), {.status = 503, .body = "", .unreachable = false});
  https_.Set(Url(3), {.status = 429, .body = "", .unreachable = false});
  https_.Set(Url(4), {.status = 200, .body = "", .unreachable = true});
  EXPECT_EQ(GetKept(cache, Url(1)).status().code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(GetKept(cache, Url(2)).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(GetKept(cache, Url(3)).status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(GetKept(cache, Url(4)).status().code(), ErrorCode::kUnavailable);
}

TEST_F(SnsCertCacheTest, AFetchedCertificateIsKeptOnlyWhenTheCallerKeepsIt) {
  https_.Set(Url(1), {.status = 200, .body = Cert(30), .unreachable = false});
  SnsCertCache cache(https_, clock_);
  ASSERT_TRUE(cache.Fetch(Url(1)).ok());
  EXPECT_EQ(cache.size(), 0u);
  EXPECT_FALSE(cache.Cached(Url(1)));
  ASSERT_TRUE(cache.Fetch(Url(1)).ok());
  EXPECT_EQ(cache.fetches(), 2u) << "nothing kept: fetched again";
  cache.Keep(Url(1), *cache.Fetch(Url(1)));
  EXPECT_TRUE(cache.Cached(Url(1)));
  cache.Keep(Url(2), "not a certificate");
  EXPECT_EQ(cache.size(), 1u);
}

TEST_F(SnsCertCacheTest, AUrlOutsideTheSnsRuleIsNeverAsked) {
  SnsCertCache cache(https_, clock_);
  for (const std::string url : {"https://evil.example/cert.pem",
                                "http://sns.eu-west-3.amazonaws.com/c.pem",
                                "https://sns.eu-west-3.amazonaws.com.evil.example/c.pem"}) {
    https_.Set(url, {.status = 200, .body = Cert(30), .unreachable = false});
    auto got = GetKept(cache, url);
    EXPECT_EQ(events::ReasonOf(got.status()), "bad_cert_url") << url;
  }
  EXPECT_TRUE(https_.asked().empty());
}

TEST_F(SnsCertCacheTest, TheCacheIsBoundedLeastRecentlyUsedFirst) {
  SnsCertCache cache(https_, clock_,
                     {.capacity = 2, .max_bytes = 16 * 1024, .timeout_ms = 1000,
                      .max_fetches_per_minute = 100});
  for (int i : {1, 2, 3}) {
    https_.Set(Url(i), {.status = 200, .body = Cert(30), .unreachable = false});
  }
  ASSERT_TRUE(GetKept(cache, Url(1)).ok());
  ASSERT_TRUE(GetKept(cache, Url(2)).ok());
  ASSERT_TRUE(GetKept(cache, Url(1)).ok());  // 2 is now the least recently used
  ASSERT_TRUE(GetKept(cache, Url(3)).ok());
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.fetches(), 3u);
  ASSERT_TRUE(GetKept(cache, Url(1)).ok());
  EXPECT_EQ(cache.fetches(), 3u) << "1 was kept";
  ASSERT_TRUE(GetKept(cache, Url(2)).ok());
  EXPECT_EQ(cache.fetches(), 4u) << "2 was displaced";
}

TEST_F(SnsCertCacheTest, FetchesAreBoundedPerMinute) {
  SnsCertCache cache(https_, clock_,
                     {.capacity = 16, .max_bytes = 16 * 1024, .timeout_ms = 1000,
                      .max_fetches_per_minute = 3});
  for (int i = 1; i <= 4; ++i) {
    https_.Set(Url(i), {.status = 404, .body = "", .unreachable = false});
  }
  https_.Set(Url(9), {.status = 200, .body = Cert(30), .unreachable = false});
  for (int i = 1; i <= 3; ++i) {
    EXPECT_EQ(GetKept(cache, Url(i)).status().code(), ErrorCode::kUnauthenticated);
  }
  auto over = GetKept(cache, Url(9));
  EXPECT_EQ(over.status().code(), ErrorCode::kUnavailable) << over.status().ToString();
  EXPECT_EQ(https_.count(Url(9)), 0u);
  clock_.Advance(61s);
  EXPECT_TRUE(GetKept(cache, Url(9)).ok());
  EXPECT_EQ(cache.fetches(), 4u);
}

}  // namespace
}  // namespace ferry::serve
