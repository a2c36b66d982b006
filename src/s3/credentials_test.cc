#include "s3/credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "testing/scoped_env.h"

namespace ferry::s3 {
namespace {

// Gives each test a clean environment and a temporary HOME; restores the old values after.
class CredentialsTest : public ::testing::Test {
 protected:
  CredentialsTest()
      : env_({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_REGION",
              "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"}),
        dir_(env_.Home("ferry-creds")) {}
  void Write(const std::string& relative, const std::string& content) {
    std::ofstream(dir_ / relative) << content;
  }
  testing::ScopedEnv env_;
  std::filesystem::path dir_;
};

TEST_F(CredentialsTest, ProfilesFromTheSharedCredentialsFile) {
  Write(".aws/credentials",
        "# comment\n[other]\naws_access_key_id=AKOTHER\naws_secret_access_key=o\n\n"
        "[default]\r\naws_access_key_id = AKDEF \r\naws_secret_access_key = sec=ret\r\n");
  auto p = ReadProfile("default");
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["aws_access_key_id"], "AKDEF");
  EXPECT_EQ((*p)["aws_secret_access_key"], "sec=ret");
  EXPECT_EQ((*ReadProfile("other"))["aws_access_key_id"], "AKOTHER");
  EXPECT_FALSE(ReadProfile("nosuch"));
}

TEST_F(CredentialsTest, ConfigAndCredentialsFilesMergeWithTheCredentialsFileOnTop) {
  Write("creds", "[team]\naws_access_key_id=AKCREDS\n");
  Write("conf",
        "[default]\nregion = eu-west-1\n[profile team]\nregion = region-b\n"
        "aws_access_key_id = AKCONF\nrole_arn = arn:x\ns3 =\n  addressing_style = path\n"
        "[sso-session corp]\nsso_region = eu-west-1\n");
  setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "creds").c_str(), 1);
  setenv("AWS_CONFIG_FILE", (dir_ / "conf").c_str(), 1);
  std::string where;
  auto p = ReadProfile("team", &where);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)["aws_access_key_id"], "AKCREDS");
  EXPECT_EQ((*p)["role_arn"], "arn:x");
  EXPECT_EQ(p->count("addressing_style"), 0u);  // nested settings are skipped
  EXPECT_NE(where.find((dir_ / "creds").string()), std::string::npos);
  EXPECT_EQ((*ReadConfigSection("sso-session corp"))["sso_region"], "eu-west-1");
  EXPECT_EQ(RegionFromEnvironment("team"), "region-b");
  EXPECT_EQ(RegionFromEnvironment(""), "eu-west-1");
}

TEST_F(CredentialsTest, ProfileName) {
  EXPECT_EQ(ProfileName(""), "default");
  setenv("AWS_PROFILE", "dev", 1);
  EXPECT_EQ(ProfileName(""), "dev");
  EXPECT_EQ(ProfileName("prod"), "prod");
}

TEST_F(CredentialsTest, RegionAndEndpointPrecedence) {
  EXPECT_EQ(RegionFromEnvironment(""), "");
  Write(".aws/config", "[default]\nregion=from-config\n");
  EXPECT_EQ(RegionFromEnvironment(""), "from-config");
  setenv("AWS_DEFAULT_REGION", "default-region", 1);
  EXPECT_EQ(RegionFromEnvironment(""), "default-region");
  setenv("AWS_REGION", "region", 1);
  EXPECT_EQ(RegionFromEnvironment(""), "region");

  EXPECT_EQ(EndpointFromEnvironment(), "");
  setenv("AWS_ENDPOINT_URL", "http://generic:1", 1);
  EXPECT_EQ(EndpointFromEnvironment(), "http://generic:1");
  setenv("AWS_ENDPOINT_URL_S3", "http://s3:2", 1);
  EXPECT_EQ(EndpointFromEnvironment(), "http://s3:2");
}

}  // namespace
}  // namespace ferry::s3
