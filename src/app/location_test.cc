#include "app/location.h"

#include <gtest/gtest.h>

namespace ferry::app {
namespace {

TEST(LocationTest, ParsesS3UrlAndNormalisesPrefix) {
  auto l = ParseLocation("s3://my-bucket/photos/2024");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE(l->is_s3());
  EXPECT_EQ(l->remote, "");
  EXPECT_EQ(l->bucket, "my-bucket");
  EXPECT_EQ(l->prefix, "photos/2024/");
  EXPECT_EQ(ParseLocation("s3://my-bucket")->prefix, "");
  EXPECT_EQ(ParseLocation("s3://my-bucket/")->prefix, "");
}

TEST(LocationTest, ParsesRemoteAndLocalForms) {
  auto r = ParseLocation("ra:demo-src/a b");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->remote, "ra");
  EXPECT_EQ(r->bucket, "demo-src");
  EXPECT_EQ(r->prefix, "a b/");
  auto local = ParseLocation("./dir:with/colon");
  ASSERT_TRUE(local.ok());
  EXPECT_FALSE(local->is_s3());
  EXPECT_EQ(local->path, "./dir:with/colon");
  EXPECT_EQ(ParseLocation("file:///tmp/x")->path, "/tmp/x");
  EXPECT_EQ(ParseLocation("/tmp/y")->path, "/tmp/y");
}

TEST(LocationTest, RejectsMalformedInputWithOneClearMessage) {
  for (const char* bad : {"", "s3://", "s3:///key", "s3://Bad_Bucket/x", "s3://ab", "gs://b/k",
                          "file://relative", "ra:"}) {
    auto l = ParseLocation(bad);
    ASSERT_FALSE(l.ok()) << bad;
    EXPECT_EQ(l.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(l.status().message().find("malformed location"), std::string::npos)
        << l.status().message();
  }
}

}  // namespace
}  // namespace ferry::app
