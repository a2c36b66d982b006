#include "s3/credentials.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace ferry::s3 {
namespace {

const char* const kVars[] = {"AWS_ACCESS_KEY_ID",
                             "AWS_SECRET_ACCESS_KEY",
                             "AWS_SESSION_TOKEN",
                             "AWS_PROFILE",
                             "AWS_SHARED_CREDENTIALS_FILE",
                             "AWS_CONFIG_FILE",
                             "AWS_REGION",
                             "AWS_DEFAULT_REGION",
                             "AWS_ENDPOINT_URL",
                             "AWS_ENDPOINT_URL_S3",
                             "HOME"};

// Gives each test a clean environment and a temporary HOME; restores the old values after.
class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : kVars) {
      const char* old = std::getenv(v);
      saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
      unsetenv(v);
    }
    dir_ = std::filesystem::temp_directory_path() /
           ("ferry-creds-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_ / ".aws");
    setenv("HOME", dir_.c_str(), 1);
  }
  void TearDown() override {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
    std::filesystem::remove_all(dir_);
  }
  void Write(const std::string& relative, const std::string& content) {
    std::ofstream(dir_ / relative) << content;
  }
  std::filesystem::path dir_;
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST_F(CredentialsTest, EnvironmentComesFirst) {
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  setenv("AWS_SESSION_TOKEN", "tok", 1);
  Write(".aws/credentials", "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = s\n");
  auto c = LoadCredentialsFromEnvironment("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKENV");
  EXPECT_EQ(c->secret_access_key, "envsecret");
  EXPECT_EQ(c->session_token, "tok");
}

TEST_F(CredentialsTest, HalfAKeyPairInTheEnvironmentIsAnError) {
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  auto c = LoadCredentialsFromEnvironment("");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(CredentialsTest, DefaultProfileFromSharedCredentialsFile) {
  Write(".aws/credentials",
        "# comment\n[other]\naws_access_key_id=AKOTHER\naws_secret_access_key=o\n\n"
        "[default]\r\naws_access_key_id = AKDEF \r\naws_secret_access_key = sec=ret\r\n");
  auto c = LoadCredentialsFromEnvironment("");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKDEF");
  EXPECT_EQ(c->secret_access_key, "sec=ret");
  EXPECT_EQ(c->session_token, "");
}

TEST_F(CredentialsTest, ProfileFromEnvironmentAndOverride) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id=AKDEF\naws_secret_access_key=d\n"
        "[dev]\naws_access_key_id=AKDEV\naws_secret_access_key=v\n"
        "[prod]\naws_access_key_id=AKPROD\naws_secret_access_key=p\n");
  setenv("AWS_PROFILE", "dev", 1);
  EXPECT_EQ(LoadCredentialsFromEnvironment("")->access_key_id, "AKDEV");
  EXPECT_EQ(LoadCredentialsFromEnvironment("prod")->access_key_id, "AKPROD");
  // An explicit profile wins over keys in the environment, like the AWS CLI's --profile.
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "e", 1);
  EXPECT_EQ(LoadCredentialsFromEnvironment("prod")->access_key_id, "AKPROD");
  EXPECT_EQ(LoadCredentialsFromEnvironment("")->access_key_id, "AKENV");
}

TEST_F(CredentialsTest, ConfigFileProfileSectionAndCustomPaths) {
  Write("creds", "[unrelated]\naws_access_key_id=A\naws_secret_access_key=B\n");
  Write("conf",
        "[default]\nregion = eu-west-1\n[profile team]\nregion = region-b\n"
        "aws_access_key_id = AKTEAM\naws_secret_access_key = t\ns3 =\n  addressing_style = path\n");
  setenv("AWS_SHARED_CREDENTIALS_FILE", (dir_ / "creds").c_str(), 1);
  setenv("AWS_CONFIG_FILE", (dir_ / "conf").c_str(), 1);
  auto c = LoadCredentialsFromEnvironment("team");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "AKTEAM");
  EXPECT_EQ(RegionFromEnvironment("team"), "region-b");
  EXPECT_EQ(RegionFromEnvironment(""), "eu-west-1");
}

TEST_F(CredentialsTest, MissingProfileNamesItAndNoSecretLeaks) {
  Write(".aws/credentials",
        "[default]\naws_access_key_id=AKDEF\naws_secret_access_key=SUPERSECRET\n");
  auto c = LoadCredentialsFromEnvironment("nosuch");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.status().message().find("\"nosuch\""), std::string::npos) << c.status().message();
  EXPECT_EQ(c.status().message().find("SUPERSECRET"), std::string::npos);
}

TEST_F(CredentialsTest, HalfAKeyPairInAProfileIsAnError) {
  Write(".aws/credentials", "[default]\naws_secret_access_key=SUPERSECRET\n");
  auto c = LoadCredentialsFromEnvironment("");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("\"default\""), std::string::npos);
  EXPECT_EQ(c.status().message().find("SUPERSECRET"), std::string::npos);
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
