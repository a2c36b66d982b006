#include "credentials/chain.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/fake_clock.h"
#include "testing/fake_transport.h"
#include "testing/scoped_env.h"

namespace ferry::credentials {
namespace {

using testing::FakeReply;

std::string StsReply(const std::string& key) {
  return "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>" + key +
         "</AccessKeyId><SecretAccessKey>rolesecret</SecretAccessKey><SessionToken>tok"
         "</SessionToken><Expiration>2026-01-01T01:00:00Z</Expiration></Credentials>"
         "</AssumeRoleResult></AssumeRoleResponse>";
}

class ChainTest : public ::testing::Test {
 protected:
  ChainTest()
      : env_({"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
              "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
              "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_EC2_METADATA_DISABLED",
              "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ENDPOINT_URL_STS",
              "AWS_ENDPOINT_URL_SSO"}),
        home_(env_.Home("ferry-chain")) {
    context_.http = &http_;
    context_.clock = &clock_;
    context_.imds_endpoint = "http://imds.test";
  }
  void Config(const std::string& text) { std::ofstream(home_ / ".aws/config") << text; }
  Result<ResolvedCredentials> Resolve(const ChainSettings& s) {
    return ResolveCredentials(s, context_);
  }
  std::string Key(const ResolvedCredentials& r) { return r.provider->Get()->access_key_id; }

  testing::ScopedEnv env_;
  std::filesystem::path home_;
  testing::FakeTransport http_;
  testing::FakeClock clock_;
  ChainContext context_;
};

TEST_F(ChainTest, ARoleOverASourceProfileIsAssumedAtTheRemotesEndpoint) {
  Config(
      "[profile src]\naws_access_key_id = AKSRC\naws_secret_access_key = srcsecret\n"
      "[profile app]\nrole_arn = arn:aws:iam:::role/app\nsource_profile = src\n"
      "external_id = ext-1\nduration_seconds = 900\nrole_session_name = nightly\n");
  http_.Push(FakeReply::Ok(StsReply("ASIAROLE")));
  ChainSettings s;
  s.profile = "app";
  s.s3_endpoint = "http://127.0.0.1:7480";
  s.region = "region-a";
  auto r = Resolve(s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Key(*r), "ASIAROLE");
  EXPECT_EQ(r->identity, "role:arn:aws:iam:::role/app<-keys:AKSRC");
  auto sent = http_.requests();
  ASSERT_EQ(sent.size(), 1u);  // fetched once, at resolution
  EXPECT_EQ(sent[0].url, "http://127.0.0.1:7480/");
  EXPECT_NE(sent[0].headers.Get("Authorization").find("Credential=AKSRC/"), std::string::npos);
  EXPECT_NE(sent[0].body.find("ExternalId=ext-1"), std::string::npos);
  EXPECT_NE(sent[0].body.find("DurationSeconds=900"), std::string::npos);
  EXPECT_NE(sent[0].body.find("RoleSessionName=nightly"), std::string::npos);
}

TEST_F(ChainTest, OnAwsTheRegionalStsEndpointIsUsed) {
  Config("[profile app]\nrole_arn = arn:aws-cn:iam::1:role/app\ncredential_source = "
         "Environment\n");
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  http_.Push(FakeReply::Ok(StsReply("ASIACN")));
  ChainSettings s;
  s.profile = "app";
  s.region = "cn-north-1";
  ASSERT_TRUE(Resolve(s).ok());
  EXPECT_EQ(http_.requests()[0].url, "https://sts.cn-north-1.amazonaws.com.cn/");
}

TEST_F(ChainTest, ProfilesThatCannotWorkAreRefusedInOneLine) {
  Config(
      "[profile mfa]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = a\nmfa_serial = x\n"
      "[profile a]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = b\n"
      "[profile b]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = a\n"
      "[profile nosource]\nrole_arn = arn:aws:iam::1:role/r\n"
      "[profile badsource]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Magic\n"
      "[profile short]\nrole_arn = arn:aws:iam::1:role/r\ncredential_source = Environment\n"
      "duration_seconds = 60\n"
      "[profile empty]\nregion = eu-west-1\n");
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  const std::pair<const char*, const char*> cases[] = {
      {"mfa", "asks for an MFA code"},
      {"a", "source_profile chain deeper than"},
      {"nosource", "has role_arn with none of source_profile"},
      {"badsource", "credential_source 'Magic' is not"},
      {"short", "duration_seconds '60' is not"},
      {"empty", "has no credentials"},
      {"missing", "is in neither"}};
  for (const auto& [profile, message] : cases) {
    ChainSettings s;
    s.profile = profile;
    auto r = Resolve(s);
    ASSERT_FALSE(r.ok()) << profile;
    EXPECT_NE(r.status().message().find(message), std::string::npos) << r.status().message();
    EXPECT_EQ(r.status().message().find('\n'), std::string::npos);
  }
  EXPECT_EQ(http_.request_count(), 0u);
}

TEST_F(ChainTest, AnExplicitProfileBeatsTheEnvironmentsKeys) {
  Config("[profile p]\naws_access_key_id = AKPROF\naws_secret_access_key = s\n");
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  ChainSettings s;
  EXPECT_EQ(Key(*Resolve(s)), "AKENV");
  s.profile = "p";
  EXPECT_EQ(Key(*Resolve(s)), "AKPROF");
}

TEST_F(ChainTest, TheEnvironmentsKeysComeFirstAndHalfAPairIsRefused) {
  std::ofstream(home_ / ".aws/credentials")
      << "[default]\naws_access_key_id = AKFILE\naws_secret_access_key = SUPERSECRET\n"
         "[half]\naws_secret_access_key = SUPERSECRET\n";
  EXPECT_EQ(Key(*Resolve({})), "AKFILE");
  setenv("AWS_ACCESS_KEY_ID", "AKENV", 1);
  auto half = Resolve({});
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().code(), ErrorCode::kInvalidArgument);
  setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
  setenv("AWS_SESSION_TOKEN", "tok", 1);
  auto env = Resolve({});
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->provider->Get()->session_token, "tok");
  EXPECT_EQ(env->identity, "keys:AKENV");
  ChainSettings s;
  s.profile = "half";
  auto profile = Resolve(s);
  ASSERT_FALSE(profile.ok());
  EXPECT_NE(profile.status().message().find("\"half\""), std::string::npos);
  EXPECT_EQ(profile.status().message().find("SUPERSECRET"), std::string::npos);
  setenv("AWS_PROFILE", "nosuch", 1);
  unsetenv("AWS_ACCESS_KEY_ID");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  auto named = Resolve({});  // a profile named by AWS_PROFILE must exist
  ASSERT_FALSE(named.ok());
  EXPECT_EQ(named.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(http_.request_count(), 0u);
}

TEST_F(ChainTest, ACredentialProcessProfileRunsItsCommand) {
  Config("[default]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"AKPROC\","
         "\"SecretAccessKey\":\"s\",\"Expiration\":\"2026-01-01T00:30:00Z\"}'\n");
  auto r = Resolve({});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Key(*r), "AKPROC");
  EXPECT_TRUE(r->identity.starts_with("process:printf"));
}

TEST_F(ChainTest, TheDefaultChainEndsAtTheInstanceMetadata) {
  http_.Push(FakeReply::Ok("imds-token"));
  http_.Push(FakeReply::Ok("role"));
  http_.Push(FakeReply::Ok(R"({"AccessKeyId": "ASIAEC2", "SecretAccessKey": "s",
      "Token": "t", "Expiration": "2026-01-01T06:00:00Z"})"));
  auto r = Resolve({});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->identity, "imds");
  EXPECT_EQ(Key(*r), "ASIAEC2");
  EXPECT_EQ(http_.requests()[0].url, "http://imds.test/latest/api/token");
}

TEST_F(ChainTest, NoCredentialsAnywhereNamesWhatWasTried) {
  http_.Push(FakeReply::NetworkError(Status::Unavailable("connection timed out")));
  auto r = Resolve({});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(r.status().message().find("no credentials for profile \"default\""),
            std::string::npos);
  EXPECT_NE(r.status().message().find("no EC2 instance metadata"), std::string::npos);
  setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  r = Resolve({});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("(EC2 instance metadata disabled)"), std::string::npos);
  EXPECT_EQ(http_.request_count(), 1u);
}

TEST_F(ChainTest, WebIdentityFromTheEnvironment) {
  const std::string token = (home_ / "token").string();
  std::ofstream(token) << "oidc";
  setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token.c_str(), 1);
  setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/pod", 1);
  setenv("AWS_ROLE_SESSION_NAME", "pod-1", 1);
  http_.Push(FakeReply::Ok(StsReply("ASIAPOD")));
  ChainSettings s;
  s.region = "eu-west-1";
  auto r = Resolve(s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Key(*r), "ASIAPOD");
  const auto sent = http_.requests();
  EXPECT_EQ(sent[0].url, "https://sts.eu-west-1.amazonaws.com/");
  EXPECT_NE(sent[0].body.find("RoleSessionName=pod-1"), std::string::npos);
  EXPECT_FALSE(sent[0].headers.Find("Authorization"));
}

TEST_F(ChainTest, ARemotesRoleIsAssumedWithItsKeys) {
  http_.Push(FakeReply::Ok(StsReply("ASIAREMOTE")));
  ChainSettings s;
  s.name = "remote 'ra'";
  s.keys = s3::Credentials{"AKRA", "rasecret", ""};
  s.role.role_arn = "arn:aws:iam:::role/ferry";
  s.sts_endpoint = "http://sts.test:1";
  auto r = Resolve(s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Key(*r), "ASIAREMOTE");
  EXPECT_EQ(r->described, "role arn:aws:iam:::role/ferry (remote 'ra')");
  EXPECT_EQ(http_.requests()[0].url, "http://sts.test:1/");
}

TEST_F(ChainTest, ARefusedRoleIsOneErrorAtResolution) {
  http_.Push(FakeReply::S3Error(403, "AccessDenied", "not allowed"));
  ChainSettings s;
  s.keys = s3::Credentials{"AKRA", "rasecret", ""};
  s.role.role_arn = "arn:aws:iam:::role/nope";
  s.s3_endpoint = "http://127.0.0.1:7480";
  auto r = Resolve(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("assuming role arn:aws:iam:::role/nope"),
            std::string::npos);
  EXPECT_EQ(r.status().message().find("rasecret"), std::string::npos);
}

TEST_F(ChainTest, AnonymousSignsNothing) {
  ChainSettings s;
  s.anonymous = true;
  auto r = Resolve(s);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->provider->Get()->anonymous());
}

TEST_F(ChainTest, AnSsoProfileUsesTheTokenCacheOfAwsSsoLogin) {
  Config("[profile dev]\nsso_session = corp\nsso_account_id = 111122223333\n"
         "sso_role_name = Migrate\n[sso-session corp]\nsso_region = eu-west-1\n"
         "sso_start_url = https://corp.example/start\n");
  setenv("AWS_ENDPOINT_URL_SSO", "http://portal.test", 1);
  ChainSettings s;
  s.profile = "dev";
  auto missing = Resolve(s);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("aws sso login --profile dev"), std::string::npos);
  // sha1("corp")
  std::filesystem::create_directories(home_ / ".aws/sso/cache");
  std::ofstream(home_ / ".aws/sso/cache/ee0bfd2552fbd840c02cc48b6e823320543c450f.json")
      << R"({"accessToken": "sso-access", "expiresAt": "2200-01-01T00:00:00Z"})";
  http_.Push(FakeReply::Ok(R"({"roleCredentials": {"accessKeyId": "ASIASSO",
      "secretAccessKey": "s", "sessionToken": "t", "expiration": 1767229200000}})"));
  auto r = Resolve(s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(Key(*r), "ASIASSO");
  const auto sent = http_.requests();
  EXPECT_EQ(sent[0].url,
            "http://portal.test/federation/credentials?account_id=111122223333&role_name=Migrate");
  EXPECT_EQ(sent[0].headers.Get("x-amz-sso_bearer_token"), "sso-access");
}

}  // namespace
}  // namespace ferry::credentials
