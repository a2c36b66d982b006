// A remote's TLS keys: ca_bundle and insecure_skip_verify parsed strictly (one line naming the
// file, the remote and the key), the bundle checked when the remote is first used, and the
// settings reaching the S3 client of an https endpoint (and only of one).
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "app/config.h"
#include "app/location.h"
#include "app/wiring.h"

namespace ferry::app {
namespace {

Result<Config> Parse(const std::string& remote_body) {
  return ParseConfig("[remotes.lab]\n" + remote_body, "tls.toml");
}

TEST(RemoteTlsConfigTest, ParsesCaBundleAndInsecureSkipVerify) {
  auto c = Parse("endpoint = \"https://127.0.0.1:7443\"\nca_bundle = \"/etc/ferry/ca.pem\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->remotes.at("lab").ca_bundle, "/etc/ferry/ca.pem");
  EXPECT_FALSE(c->remotes.at("lab").insecure_skip_verify);
  c = Parse("endpoint = \"https://127.0.0.1:7443\"\ninsecure_skip_verify = true\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->remotes.at("lab").insecure_skip_verify);
  EXPECT_TRUE(c->remotes.at("lab").ca_bundle.empty());
  // no endpoint: AWS's, which is https
  ASSERT_TRUE(Parse("ca_bundle = \"/etc/ferry/ca.pem\"\n").ok());
  // false is the default, and may be written (also with an http endpoint)
  ASSERT_TRUE(Parse("endpoint = \"http://127.0.0.1:7480\"\ninsecure_skip_verify = false\n").ok());
}

TEST(RemoteTlsConfigTest, RefusesBadValuesWithOneLineNamingTheKey) {
  struct Case {
    const char* body;
    const char* says;
  };
  const Case cases[] = {
      {"ca_bundle = \"\"\n", "'ca_bundle' is empty"},
      {"ca_bundle = 5\n", "'ca_bundle' must be a string"},
      {"insecure_skip_verify = \"yes\"\n", "'insecure_skip_verify' must be true or false"},
      {"insecure_skip_verify = 1\n", "'insecure_skip_verify' must be true or false"},
      {"ca_bundle = \"/ca.pem\"\ninsecure_skip_verify = true\n", "together"},
      {"endpoint = \"http://127.0.0.1:7480\"\nca_bundle = \"/ca.pem\"\n",
       "'ca_bundle' is for https:// endpoints, not http://127.0.0.1:7480"},
      {"endpoint = \"http://127.0.0.1:7480\"\ninsecure_skip_verify = true\n",
       "'insecure_skip_verify' is for https:// endpoints"},
      {"insecure_skip_verification = true\n", "unknown key 'insecure_skip_verification'"},
      {"verify_tls = false\n", "unknown key 'verify_tls'"},
  };
  for (const Case& c : cases) {
    auto parsed = Parse(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body;
    EXPECT_EQ(parsed.status().code(), ErrorCode::kInvalidArgument) << c.body;
    const std::string& message = parsed.status().message();
    EXPECT_NE(message.find("tls.toml: [remotes.lab]"), std::string::npos) << message;
    EXPECT_NE(message.find(c.says), std::string::npos) << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

class RemoteTlsWiringTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::setenv("FERRY_TLS_TEST_KEY", "AK", 1);
    ::setenv("FERRY_TLS_TEST_SECRET", "SK", 1);
    char dir[] = "/tmp/ferry-remote-tls.XXXXXX";
    ASSERT_NE(::mkdtemp(dir), nullptr);
    dir_ = dir;
    std::ofstream(dir_ + "/ca.pem") << "-----BEGIN CERTIFICATE-----\nMIIB\n"
                                       "-----END CERTIFICATE-----\n";
    std::ofstream(dir_ + "/not-pem.txt") << "hello\n";
  }
  void TearDown() override {
    std::remove((dir_ + "/ca.pem").c_str());
    std::remove((dir_ + "/not-pem.txt").c_str());
    ::rmdir(dir_.c_str());
  }
  Wiring Make(const std::string& remote_body) {
    auto config = Parse(remote_body +
                        "access_key_id_env = \"FERRY_TLS_TEST_KEY\"\n"
                        "secret_access_key_env = \"FERRY_TLS_TEST_SECRET\"\n");
    EXPECT_TRUE(config.ok()) << config.status().ToString();
    return Wiring(config.ok() ? *config : Config{});
  }
  static Result<s3::S3Client*> Client(Wiring& wiring, const char* text = "lab:bucket/p/") {
    auto location = ParseLocation(text);
    EXPECT_TRUE(location.ok()) << text;
    return wiring.ClientFor(*location);
  }
  std::string dir_;
};

TEST_F(RemoteTlsWiringTest, CaBundleReachesTheClientWithAHintNamingTheRemote) {
  Wiring wiring = Make("endpoint = \"https://127.0.0.1:7443\"\nca_bundle = \"" + dir_ +
                       "/ca.pem\"\n");
  auto client = Client(wiring);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const auto& tls = (*client)->options().tls;
  ASSERT_TRUE(tls.has_value());
  EXPECT_EQ(tls->ca_bundle, dir_ + "/ca.pem");
  EXPECT_TRUE(tls->verify);
  EXPECT_NE(tls->untrusted_hint.find("remote 'lab'"), std::string::npos) << tls->untrusted_hint;
}

TEST_F(RemoteTlsWiringTest, WithoutKeysTheCheckIsOnAndTheHintSaysWhatToSet) {
  Wiring wiring = Make("endpoint = \"https://127.0.0.1:7443\"\n");
  auto client = Client(wiring);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  const auto& tls = (*client)->options().tls;
  ASSERT_TRUE(tls.has_value());
  EXPECT_TRUE(tls->ca_bundle.empty());
  EXPECT_TRUE(tls->verify);
  EXPECT_NE(tls->untrusted_hint.find("set ca_bundle for remote 'lab'"), std::string::npos)
      << tls->untrusted_hint;
}

TEST_F(RemoteTlsWiringTest, InsecureSkipVerifyTurnsTheCheckOff) {
  Wiring wiring = Make("endpoint = \"https://127.0.0.1:7443\"\ninsecure_skip_verify = true\n");
  auto client = Client(wiring);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  ASSERT_TRUE((*client)->options().tls.has_value());
  EXPECT_FALSE((*client)->options().tls->verify);
}

TEST_F(RemoteTlsWiringTest, PlainHttpEndpointsCarryNoSettings) {
  Wiring wiring = Make("endpoint = \"http://127.0.0.1:7480\"\n");
  auto client = Client(wiring);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_FALSE((*client)->options().tls.has_value());
}

TEST_F(RemoteTlsWiringTest, UnreadableOrNonPemBundleIsRefusedBeforeAnyRequest) {
  struct Case {
    std::string path;
    std::string says;
  };
  const Case cases[] = {
      {dir_ + "/missing.pem", "cannot be read: No such file or directory"},
      {dir_, "is a directory, not a PEM file"},
      {dir_ + "/not-pem.txt", "holds no PEM certificate"},
  };
  for (const Case& c : cases) {
    Wiring wiring = Make("endpoint = \"https://127.0.0.1:7443\"\nca_bundle = \"" + c.path + "\"\n");
    auto client = Client(wiring);
    ASSERT_FALSE(client.ok()) << c.path;
    EXPECT_EQ(client.status().code(), ErrorCode::kInvalidArgument);
    const std::string& message = client.status().message();
    EXPECT_EQ(message, "remote 'lab': ca_bundle " + c.path + " " + c.says) << message;
    // refused again on the next use: no half-made client was kept
    EXPECT_FALSE(Client(wiring).ok());
  }
}

// Two remotes on one endpoint share a client (server-side copies) only with the same settings.
TEST_F(RemoteTlsWiringTest, DifferentSettingsMeanDifferentClients) {
  auto config = ParseConfig("[remotes.ta]\nendpoint = \"https://127.0.0.1:7443\"\n"
                            "ca_bundle = \"" + dir_ + "/ca.pem\"\n"
                            "access_key_id_env = \"FERRY_TLS_TEST_KEY\"\n"
                            "secret_access_key_env = \"FERRY_TLS_TEST_SECRET\"\n"
                            "[remotes.tb]\nendpoint = \"https://127.0.0.1:7443\"\n"
                            "insecure_skip_verify = true\n"
                            "access_key_id_env = \"FERRY_TLS_TEST_KEY\"\n"
                            "secret_access_key_env = \"FERRY_TLS_TEST_SECRET\"\n"
                            "[remotes.tc]\nendpoint = \"https://127.0.0.1:7443\"\n"
                            "ca_bundle = \"" + dir_ + "/ca.pem\"\n"
                            "access_key_id_env = \"FERRY_TLS_TEST_KEY\"\n"
                            "secret_access_key_env = \"FERRY_TLS_TEST_SECRET\"\n",
                            "tls.toml");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  Wiring wiring(*config);
  auto a = Client(wiring, "ta:bkt/");
  auto b = Client(wiring, "tb:bkt/");
  auto c = Client(wiring, "tc:bkt/");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(*a, *c);
}

}  // namespace
}  // namespace ferry::app
