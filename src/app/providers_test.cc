// Providers: the endpoint, signing region and addressing each named store gets (the shapes the
// vendors document for their S3 APIs), and a remote's provider reaching its S3 client.
#include "app/providers.h"

#include <gtest/gtest.h>

#include "app/config.h"
#include "app/location.h"
#include "app/wiring.h"

namespace ferry::app {
namespace {

TEST(ProvidersTest, EndpointsByProviderAndRegion) {
  struct Case {
    const char* provider;
    const char* region;
    const char* endpoint;
    const char* signing_region;
  };
  const Case cases[] = {
      {"", "eu-west-1", "https://s3.eu-west-1.amazonaws.com", "eu-west-1"},
      {"aws", "", "https://s3.us-east-1.amazonaws.com", "us-east-1"},
      {"aws", "cn-north-1", "https://s3.cn-north-1.amazonaws.com.cn", "cn-north-1"},
      {"", "cn-northwest-1", "https://s3.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
      {"oss", "cn-hangzhou", "https://s3.oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou"},
      {"oss", "oss-ap-southeast-1", "https://s3.oss-ap-southeast-1.aliyuncs.com",
       "ap-southeast-1"},
      {"cos", "ap-guangzhou", "https://cos.ap-guangzhou.myqcloud.com", "ap-guangzhou"},
      {"kodo", "cn-east-1", "https://s3.cn-east-1.qiniucs.com", "cn-east-1"}};
  for (const Case& c : cases) {
    auto e = DefaultEndpoint(c.provider, c.region);
    ASSERT_TRUE(e.ok()) << c.provider << " " << c.region << ": " << e.status().message();
    EXPECT_EQ(e->endpoint, c.endpoint);
    EXPECT_EQ(e->region, c.signing_region);
    EXPECT_EQ(e->addressing, s3::Addressing::kVirtualHost);
  }
  EXPECT_NE(DefaultEndpoint("oss", "").status().message().find("needs a region"),
            std::string::npos);
  EXPECT_NE(DefaultEndpoint("other", "x").status().message().find("needs an endpoint"),
            std::string::npos);
  EXPECT_NE(DefaultEndpoint("b2", "x").status().message().find("unknown provider 'b2'"),
            std::string::npos);
  EXPECT_EQ(DefaultAddressing(""), s3::Addressing::kPath);
  EXPECT_EQ(DefaultAddressing("other"), s3::Addressing::kPath);
  EXPECT_EQ(DefaultAddressing("oss"), s3::Addressing::kVirtualHost);
}

TEST(ProvidersTest, ARemotesProviderShapesItsClient) {
  ::setenv("PROV_KEY", "AKPROV", 1);
  ::setenv("PROV_SECRET", "secret", 1);
  auto c = ParseConfig(
      "[remotes.ali]\nprovider = \"oss\"\nregion = \"cn-shanghai\"\n"
      "access_key_id_env = \"PROV_KEY\"\nsecret_access_key_env = \"PROV_SECRET\"\n"
      "requester_pays = true\n"
      "[remotes.cname]\nprovider = \"oss\"\nendpoint = \"https://files.example.cn\"\n"
      "region = \"cn-beijing\"\n"
      "access_key_id_env = \"PROV_KEY\"\nsecret_access_key_env = \"PROV_SECRET\"\n"
      "[remotes.rgw]\nendpoint = \"http://127.0.0.1:7480\"\n"
      "access_key_id_env = \"PROV_KEY\"\nsecret_access_key_env = \"PROV_SECRET\"\n",
      "p.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Wiring wiring(*std::move(c));
  auto ali = wiring.ClientFor(*ParseLocation("ali:bucket"));
  ASSERT_TRUE(ali.ok()) << ali.status().message();
  EXPECT_EQ((*ali)->options().endpoint, "https://s3.oss-cn-shanghai.aliyuncs.com");
  EXPECT_EQ((*ali)->options().region, "cn-shanghai");
  EXPECT_EQ((*ali)->options().addressing, s3::Addressing::kVirtualHost);
  EXPECT_TRUE((*ali)->options().requester_pays);
  auto cname = wiring.ClientFor(*ParseLocation("cname:bucket"));
  ASSERT_TRUE(cname.ok());
  EXPECT_EQ((*cname)->options().endpoint, "https://files.example.cn");
  EXPECT_EQ((*cname)->options().addressing, s3::Addressing::kVirtualHost);
  EXPECT_FALSE((*cname)->options().requester_pays);
  auto rgw = wiring.ClientFor(*ParseLocation("rgw:bucket"));
  ASSERT_TRUE(rgw.ok());
  EXPECT_EQ((*rgw)->options().addressing, s3::Addressing::kPath);
}

// AWS keeps a multipart upload's full-object CRC32C (storage/s3 then sends it with the upload
// instead of nothing): provider "aws", named or implied by the absence of an endpoint. An
// endpoint of its own without a provider is another store (RGW 16 ignores the headers).
TEST(ProvidersTest, OnlyAwsKeepsFullObjectChecksums) {
  ::setenv("PROV_KEY", "AKPROV", 1);
  ::setenv("PROV_SECRET", "secret", 1);
  const std::string keys =
      "access_key_id_env = \"PROV_KEY\"\nsecret_access_key_env = \"PROV_SECRET\"\n";
  auto c = ParseConfig("[remotes.s3]\nregion = \"eu-west-1\"\n" + keys +
                           "[remotes.vpce]\nprovider = \"aws\"\n"
                           "endpoint = \"http://127.0.0.1:5000\"\naddressing = \"path\"\n" +
                           keys + "[remotes.rgw]\nendpoint = \"http://127.0.0.1:5000\"\n" + keys +
                           "[remotes.ali]\nprovider = \"oss\"\nregion = \"cn-shanghai\"\n" + keys,
                       "p.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Wiring wiring(*std::move(c));
  for (const auto& [remote, keeps] :
       {std::pair{"s3", true}, {"vpce", true}, {"rgw", false}, {"ali", false}}) {
    auto client = wiring.ClientFor(*ParseLocation(std::string(remote) + ":bucket"));
    ASSERT_TRUE(client.ok()) << remote << ": " << client.status().message();
    EXPECT_EQ((*client)->options().full_object_checksums, keeps) << remote;
  }
}

TEST(ProvidersTest, TheConfigRefusesUnknownProvidersInOneLine) {
  auto c = ParseConfig("[remotes.x]\nprovider = \"b2\"\n", "p.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("provider 'b2' is not one of aws, oss, cos, kodo, other"),
            std::string::npos);
  c = ParseConfig("[remotes.x]\nprovider = \"other\"\n", "p.toml");
  ASSERT_FALSE(c.ok());
  c = ParseConfig("[remotes.x]\nrequester_pays = \"yes\"\n", "p.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("'requester_pays' must be true or false"),
            std::string::npos);
}

}  // namespace
}  // namespace ferry::app
