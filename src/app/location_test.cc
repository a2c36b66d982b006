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

TEST(LocationTest, ParsesGcsBucketAndPrefix) {
  auto l = ParseLocation("gs://my_bucket.example/some/prefix");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE(l->is_gcs());
  EXPECT_FALSE(l->is_s3());
  EXPECT_EQ(l->bucket, "my_bucket.example");
  EXPECT_EQ(l->prefix, "some/prefix/");
  EXPECT_EQ(ParseLocation("gs://bkt")->prefix, "");
  EXPECT_EQ(ParseLocation("gs://bkt/")->prefix, "");
  for (const char* bad : {"gs://", "gs:///x", "gs://ab", "gs://Bucket", "gs://_bkt", "gs://bkt-",
                          "gs://b!t", "gs://bkt/a\nb"}) {
    auto b = ParseLocation(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(b.status().message().find("malformed location"), std::string::npos)
        << b.status().message();
  }
  EXPECT_TRUE(ValidateGcsBucketName(std::string(63, 'a')).ok());
  EXPECT_FALSE(ValidateGcsBucketName(std::string(64, 'a')).ok());
  EXPECT_TRUE(ValidateGcsBucketName(std::string(63, 'a') + "." + std::string(63, 'b')).ok());
  EXPECT_FALSE(ValidateGcsBucketName(std::string(64, 'a') + ".b").ok());
}

TEST(LocationTest, ParsesAzureAccountContainerAndPrefix) {
  auto l = ParseLocation("az://devstoreaccount1/my-container/some/prefix");
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_TRUE(l->is_azure());
  EXPECT_FALSE(l->is_s3());
  EXPECT_EQ(l->account, "devstoreaccount1");
  EXPECT_EQ(l->bucket, "my-container");
  EXPECT_EQ(l->prefix, "some/prefix/");
  EXPECT_EQ(ParseLocation("az://acct/box")->prefix, "");
  for (const char* bad : {"az://", "az://acct", "az://acct/", "az://Acct/box", "az://a/box",
                          "az://acct/bad--name", "az://acct/-box", "az://acct/b.x"}) {
    auto b = ParseLocation(bad);
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_EQ(b.status().code(), ErrorCode::kInvalidArgument) << bad;
    EXPECT_NE(b.status().message().find("malformed location"), std::string::npos)
        << b.status().message();
  }
}

}  // namespace
}  // namespace ferry::app
