// TTL texts and JSON request files.
#include "cache/request.h"

#include "cache/index.h"

#include <gtest/gtest.h>

namespace ferry::cache {
namespace {

using namespace std::chrono_literals;

TEST(RequestTest, ParsesTheRequestFileShape) {
  auto r = ParseRequestJson(
      R"({"bucket": "src-bucket", "prefixes": ["year-2023/", ""], "ttl": 1.5,
          "directory_bucket": "cache--use1-az4--x-s3", "force_copy": true})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->bucket, "src-bucket");
  EXPECT_EQ(r->prefixes, (std::vector<std::string>{"year-2023/", ""}));
  EXPECT_EQ(r->ttl, 5400s);
  EXPECT_EQ(r->directory_bucket, "cache--use1-az4--x-s3");
  EXPECT_TRUE(r->force_copy);
  auto minimal = ParseRequestJson(R"({"bucket": "b", "prefixes": [""], "ttl": 24})");
  ASSERT_TRUE(minimal.ok());
  EXPECT_FALSE(minimal->force_copy);
  EXPECT_EQ(minimal->ttl, 24h);
}

TEST(RequestTest, RefusesMalformedRequestsWithOneLine) {
  for (const char* bad :
       {"{", "[]", R"({"prefixes": [""], "ttl": 1})", R"({"bucket": "b", "ttl": 1})",
        R"({"bucket": "b", "prefixes": [], "ttl": 1})",
        R"({"bucket": "b", "prefixes": [1], "ttl": 1})", R"({"bucket": "b", "prefixes": [""]})",
        R"({"bucket": "b", "prefixes": [""], "ttl": -2})",
        R"({"bucket": "b", "prefixes": [""], "ttl": 0})",
        R"({"bucket": "b", "prefixes": [""], "ttl": "24"})",
        R"({"bucket": "b", "prefixes": [""], "ttl": 1, "force_copy": "yes"})"}) {
    auto r = ParseRequestJson(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
    EXPECT_EQ(r.status().message().rfind("request file: ", 0), 0u) << r.status().message();
  }
  EXPECT_NE(ParseRequestJson(R"({"bucket": "b", "prefixes": [""], "ttl": -2})")
                .status()
                .message()
                .find("positive"),
            std::string::npos);
}

// Request files are written by others (and will be sent to a server): what a reader takes is
// bounded, and more is refused with one line before it is held.
TEST(RequestTest, HostileRequestsAreBounded) {
  std::string many = R"({"bucket": "b", "ttl": 1, "prefixes": [)";
  for (size_t i = 0; i <= kMaxRequestPrefixes; ++i) many += (i ? ",\"p" : "\"p") + std::to_string(i) + "\"";
  many += "]}";
  ASSERT_LE(many.size(), kMaxRequestBytes);
  const std::string long_prefix = R"({"bucket": "b", "ttl": 1, "prefixes": [")" +
                                  std::string(kMaxPrefixBytes + 1, 'x') + "\"]}";
  std::string huge = R"({"bucket": "b", "ttl": 1, "prefixes": [""], "x": ")";
  huge += std::string(kMaxRequestBytes, 'y') + "\"}";
  for (const std::string& bad : {many, long_prefix, huge}) {
    auto r = ParseRequestJson(bad);
    ASSERT_FALSE(r.ok()) << bad.substr(0, 60);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
  EXPECT_NE(ParseRequestJson(huge).status().message().find("more than a request may hold"),
            std::string::npos);
}

TEST(RequestTest, ParsesTtlTexts) {
  EXPECT_EQ(*ParseTtl("24h"), 24h);
  EXPECT_EQ(*ParseTtl("1d12h"), 36h);
  EXPECT_EQ(*ParseTtl("90s"), 90s);
  for (const char* bad : {"-1h", "0h", "24", "", "1y"}) {
    auto r = ParseTtl(bad);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
  EXPECT_NE(ParseTtl("-1h").status().message().find("positive"), std::string::npos);
  // Before, a TTL this long wrapped the expiry into the past: the next expire deleted every
  // object just warmed.
  Result<std::chrono::seconds> huge = ParseTtl("999999999999d");
  EXPECT_EQ(huge.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(huge.status().message().find("at most 100 years"), std::string::npos)
      << huge.status().message();
  EXPECT_EQ(*ParseTtl("36500d"), kMaxTtl);
  EXPECT_FALSE(ParseTtl("36501d").ok());
}

TEST(RequestTest, BucketNamesBecomeLocations) {
  EXPECT_EQ(BucketLocation("data"), "s3://data");
  EXPECT_EQ(BucketLocation("ra:data/pre"), "ra:data/pre");
  EXPECT_EQ(BucketLocation("s3://data"), "s3://data");
}

}  // namespace
}  // namespace ferry::cache
