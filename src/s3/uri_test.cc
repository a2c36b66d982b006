#include "s3/uri.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::s3 {
namespace {

TEST(UriEncodeTest, KeepsOnlyUnreserved) {
  EXPECT_EQ(UriEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b+c/d%e=&?*'()!"), "a%20b%2Bc%2Fd%25e%3D%26%3F%2A%27%28%29%21");
  EXPECT_EQ(UriEncode("dir/sub file", /*keep_slash=*/true), "dir/sub%20file");
  EXPECT_EQ(UriEncode("\xE1\x88\xB4"), "%E1%88%B4");  // upper-case hex
  EXPECT_EQ(UriEncode(std::string("\0x", 2)), "%00x");
}

TEST(UriDecodeTest, DecodesEscapesAndOptionallyPlus) {
  EXPECT_EQ(UriDecode("a%20b%2Bc%2fd"), "a b+c/d");
  EXPECT_EQ(UriDecode("a+b"), "a+b");
  EXPECT_EQ(UriDecode("a+b%2B", /*plus_as_space=*/true), "a b+");
  EXPECT_EQ(UriDecode("100%"), "100%");    // truncated escape kept
  EXPECT_EQ(UriDecode("%zz%4"), "%zz%4");  // invalid escapes kept
}

TEST(UriTest, HardKeysRoundTrip) {
  const std::string keys[] = {
      "with space", "plus+sign", "percent%20literal",    "caf\xC3\xA9/\xE2\x9C\x93",
      "../x",       "a//b/",     std::string(1024, 'k'), "~tilde*star"};
  for (const std::string& key : keys) {
    const std::string encoded = UriEncode(key, /*keep_slash=*/true);
    EXPECT_EQ(encoded.find_first_of(" +%\xC3"), encoded.find('%')) << key;  // only %XX escapes
    EXPECT_EQ(UriDecode(encoded), key);
    EXPECT_EQ(UriDecode(UriEncode(key), /*plus_as_space=*/true), key);
  }
}

TEST(DnsCompatibleTest, FollowsBucketNamingRules) {
  EXPECT_TRUE(IsDnsCompatibleBucket("my-bucket", true));
  EXPECT_TRUE(IsDnsCompatibleBucket("my.bucket", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("my.bucket", true));  // breaks the wildcard certificate
  EXPECT_FALSE(IsDnsCompatibleBucket("ab", false));
  EXPECT_FALSE(IsDnsCompatibleBucket(std::string(64, 'a'), false));
  EXPECT_FALSE(IsDnsCompatibleBucket("My_Bucket", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("-bucket", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("bucket-", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("a..b", false));
  EXPECT_FALSE(IsDnsCompatibleBucket("192.168.1.1", false));
}

TEST(BuildUrlTest, PathStyle) {
  EXPECT_EQ(BuildUrl("http://127.0.0.1:7480", Addressing::kPath, "b", "dir/a b", {}),
            "http://127.0.0.1:7480/b/dir/a%20b");
  EXPECT_EQ(BuildUrl("http://127.0.0.1:7480", Addressing::kPath, "b", "", {}),
            "http://127.0.0.1:7480/b");
  EXPECT_EQ(BuildUrl("http://127.0.0.1:7480", Addressing::kPath, "", "", {}),
            "http://127.0.0.1:7480/");
  EXPECT_EQ(BuildUrl("http://h", Addressing::kPath, "b", "/lead", {}), "http://h/b//lead");
}

TEST(BuildUrlTest, VirtualHostOnlyForDnsCompatibleBuckets) {
  EXPECT_EQ(
      BuildUrl("https://s3.eu-west-1.amazonaws.com", Addressing::kVirtualHost, "bucket", "k", {}),
      "https://bucket.s3.eu-west-1.amazonaws.com/k");
  EXPECT_EQ(BuildUrl("https://s3.amazonaws.com", Addressing::kVirtualHost, "bucket", "", {}),
            "https://bucket.s3.amazonaws.com/");
  EXPECT_EQ(BuildUrl("https://s3.amazonaws.com", Addressing::kVirtualHost, "Bad_Bucket", "k", {}),
            "https://s3.amazonaws.com/Bad_Bucket/k");
  EXPECT_EQ(BuildUrl("https://s3.amazonaws.com", Addressing::kVirtualHost, "a.b.c", "k", {}),
            "https://s3.amazonaws.com/a.b.c/k");
}

TEST(BuildUrlTest, QueryIsEncodedAndSorted) {
  EXPECT_EQ(BuildUrl("http://h", Addressing::kPath, "b", "k",
                     {{"uploadId", "x/y+z"}, {"partNumber", "3"}}),
            "http://h/b/k?partNumber=3&uploadId=x%2Fy%2Bz");
  EXPECT_EQ(BuildUrl("http://h", Addressing::kPath, "b", "", {{"uploads", ""}}),
            "http://h/b?uploads");
}

TEST(CopySourceTest, EncodesKeyAndVersion) {
  EXPECT_EQ(CopySource("src", "dir/a b+c", ""), "/src/dir/a%20b%2Bc");
  EXPECT_EQ(CopySource("src", "k", "v/1"), "/src/k?versionId=v%2F1");
}

}  // namespace
}  // namespace ferry::s3
