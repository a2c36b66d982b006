// A remote's credential settings (role_arn and its companions, credential_process,
// sts_endpoint, no_sign_request) parsed strictly, and the remote's credentials resolved through
// the chain when the remote is first used.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "app/config.h"
#include "app/location.h"
#include "app/wiring.h"

namespace ferry::app {
namespace {

Result<Config> ParseProdRemote(const std::string& remote_body) {
  return ParseConfig("[remotes.prod]\nendpoint = \"http://127.0.0.1:1\"\n" + remote_body,
                     "creds.toml");
}

TEST(RemoteCredentialsConfigTest, ParsesRoleProcessAndUnsigned) {
  auto c = ParseProdRemote(
      "profile = \"ops\"\nrole_arn = \"arn:aws:iam::1:role/m\"\nexternal_id = \"x\"\n"
      "role_session_name = \"nightly\"\nduration_seconds = 1800\n"
      "sts_endpoint = \"https://sts.example\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const RemoteConfig& r = c->remotes.at("prod");
  EXPECT_EQ(r.role_arn, "arn:aws:iam::1:role/m");
  EXPECT_EQ(r.external_id, "x");
  EXPECT_EQ(r.role_session_name, "nightly");
  EXPECT_EQ(r.duration_seconds, 1800);
  EXPECT_EQ(r.sts_endpoint, "https://sts.example");
  c = ParseProdRemote("credential_process = \"/usr/bin/creds --s3\"\n");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->remotes.at("prod").credential_process, "/usr/bin/creds --s3");
  c = ParseProdRemote("no_sign_request = true\n");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->remotes.at("prod").no_sign_request);
}

TEST(RemoteCredentialsConfigTest, RefusesWhatCannotWorkInOneLine) {
  const std::pair<const char*, const char*> cases[] = {
      {"duration_seconds = 60\nrole_arn = \"r\"\n", "'duration_seconds' must be a whole number"},
      {"duration_seconds = \"1h\"\nrole_arn = \"r\"\n", "'duration_seconds' must be a whole"},
      {"external_id = \"x\"\n", "'external_id' is a setting of role_arn"},
      {"role_arn = \"\"\n", "'role_arn' is empty"},
      {"sts_endpoint = \"sts.example\"\n", "sts_endpoint must start with http"},
      {"profile = \"a\"\ncredential_process = \"c\"\n", "name one source of credentials"},
      {"access_key_id_env = \"K\"\nsecret_access_key_env = \"S\"\nno_sign_request = true\n",
       "name one source of credentials"},
      {"no_sign_request = true\nrole_arn = \"r\"\n", "a role needs credentials"},
      {"no_sign_request = \"yes\"\n", "'no_sign_request' must be true or false"},
      {"role = \"r\"\n", "unknown key 'role'"}};
  for (const auto& [body, message] : cases) {
    auto c = ParseProdRemote(body);
    ASSERT_FALSE(c.ok()) << body;
    EXPECT_NE(c.status().message().find(message), std::string::npos) << c.status().message();
    EXPECT_NE(c.status().message().find("[remotes.prod]"), std::string::npos);
  }
}

TEST(RemoteCredentialsWiringTest, AFailingCredentialProcessIsOneLineNamingTheRemote) {
  auto c = ParseProdRemote("credential_process = \"echo expired >&2; exit 3\"\n");
  ASSERT_TRUE(c.ok());
  Wiring wiring(*std::move(c));
  auto loc = ParseLocation("prod:bucket/x");
  ASSERT_TRUE(loc.ok());
  auto client = wiring.ClientFor(*loc);
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().message(),
            "credentials of remote 'prod': credential_process of remote 'prod' exited with "
            "status 3: expired");
}

TEST(RemoteCredentialsWiringTest, LocationsOfOneRemoteShareItsCredentialsAndClient) {
  auto c = ParseProdRemote(
      "credential_process = \"echo run >> $HOME/ferry-creds-calls; printf "
      "'{\\\"Version\\\":1,\\\"AccessKeyId\\\":\\\"AKP\\\",\\\"SecretAccessKey\\\":\\\"s\\\"}'\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const std::string home = ::testing::TempDir() + "/ferry-remote-creds-home";
  std::filesystem::remove_all(home);
  std::filesystem::create_directories(home);
  const char* old_home = std::getenv("HOME");
  const std::string saved = old_home ? old_home : "";
  setenv("HOME", home.c_str(), 1);
  {
    Wiring wiring(*std::move(c));
    auto a = wiring.ClientFor(*ParseLocation("prod:one/x"));
    auto b = wiring.ClientFor(*ParseLocation("prod:two/y"));
    ASSERT_TRUE(a.ok()) << a.status().message();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(*a, *b);
  }
  std::ifstream calls(home + "/ferry-creds-calls");
  std::string line;
  int n = 0;
  while (std::getline(calls, line)) ++n;
  EXPECT_EQ(n, 1);  // one resolution, one run of the command
  setenv("HOME", saved.c_str(), 1);
}

}  // namespace
}  // namespace ferry::app
