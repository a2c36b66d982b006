// Wiring for S3 Express directory buckets: the zonal endpoint derived from the bucket's name
// and the remote's region when no endpoint is given (virtual hosts), the remote's
// directory_bucket option reaching the client, and a directory bucket without a zone in its
// name and no endpoint refused with one line.
#include <gtest/gtest.h>

#include "app/config.h"
#include "app/location.h"
#include "app/wiring.h"

namespace ferry::app {
namespace {

Config Remotes() {
  auto config = ParseConfig(R"(
[remotes.ex]
region = "us-west-2"
access_key_id_env = "FERRY_EXPRESS_TEST_KEY"
secret_access_key_env = "FERRY_EXPRESS_TEST_SECRET"

[remotes.forced]
region = "eu-north-1"
directory_bucket = true
access_key_id_env = "FERRY_EXPRESS_TEST_KEY"
secret_access_key_env = "FERRY_EXPRESS_TEST_SECRET"

[remotes.lab]
endpoint = "http://127.0.0.1:7480"
region = "region-a"
directory_bucket = false
access_key_id_env = "FERRY_EXPRESS_TEST_KEY"
secret_access_key_env = "FERRY_EXPRESS_TEST_SECRET"
)",
                            "test.toml");
  EXPECT_TRUE(config.ok()) << config.status().ToString();
  return config.ok() ? *config : Config{};
}

class WiringExpressTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("FERRY_EXPRESS_TEST_KEY", "AK", 1);
    ::setenv("FERRY_EXPRESS_TEST_SECRET", "SK", 1);
  }
  Result<s3::S3Client*> Client(Wiring& wiring, const char* text) {
    auto location = ParseLocation(text);
    EXPECT_TRUE(location.ok()) << text;
    return wiring.ClientFor(*location);
  }
};

TEST_F(WiringExpressTest, ZonalEndpointComesFromTheBucketNameAndRegion) {
  Wiring wiring(Remotes());
  auto client = Client(wiring, "ex:cache--usw2-az1--x-s3/warm/");
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->options().endpoint, "https://s3express-usw2-az1.us-west-2.amazonaws.com");
  EXPECT_EQ((*client)->options().addressing, s3::Addressing::kVirtualHost);
  EXPECT_TRUE((*client)->IsDirectoryBucket("cache--usw2-az1--x-s3"));
  // A general-purpose bucket of the same remote keeps the regional endpoint.
  auto plain = Client(wiring, "ex:plain/");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->options().endpoint, "https://s3.us-west-2.amazonaws.com");
  EXPECT_FALSE((*plain)->IsDirectoryBucket("plain"));
}

TEST_F(WiringExpressTest, RemoteOptionDecidesWhatIsADirectoryBucket) {
  Wiring wiring(Remotes());
  auto forced = Client(wiring, "forced:mycache--eun1-az2--x-s3/");
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ((*forced)->options().endpoint,
            "https://s3express-eun1-az2.eu-north-1.amazonaws.com");
  auto no_zone = Client(wiring, "forced:nozone/");
  EXPECT_EQ(no_zone.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(no_zone.status().message().find("BASE--ZONEID--x-s3"), std::string::npos);
  // directory_bucket = false: a "--x-s3" name on a lab endpoint is a plain bucket.
  auto lab = Client(wiring, "lab:odd--usw2-az1--x-s3/");
  ASSERT_TRUE(lab.ok());
  EXPECT_EQ((*lab)->options().endpoint, "http://127.0.0.1:7480");
  EXPECT_FALSE((*lab)->IsDirectoryBucket("odd--usw2-az1--x-s3"));
}

TEST(ConfigExpressTest, DirectoryBucketMustBeABoolean) {
  auto bad = ParseConfig("[remotes.x]\ndirectory_bucket = \"yes\"\n", "bad.toml");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("directory_bucket"), std::string::npos);
  auto good = ParseConfig("[remotes.x]\ndirectory_bucket = true\n", "good.toml");
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(good->remotes.at("x").directory_bucket, std::optional<bool>(true));
}

}  // namespace
}  // namespace ferry::app
