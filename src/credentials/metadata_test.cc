#include "credentials/metadata.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::credentials {
namespace {

using testing::FakeReply;

constexpr const char* kRoleDocument = R"({"Code": "Success", "Type": "AWS-HMAC",
  "AccessKeyId": "ASIAIMDS", "SecretAccessKey": "imdssecret", "Token": "imdstoken",
  "Expiration": "2026-01-01T06:00:00Z", "LastUpdated": "2026-01-01T00:00:00Z"})";

FakeReply Status(int status, std::string body = {}) {
  FakeReply r = FakeReply::Ok(std::move(body));
  r.status = status;
  return r;
}

TEST(MetadataTest, ParsesTheRoleDocument) {
  auto c = ParseMetadataCredentials(kRoleDocument);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAIMDS");
  EXPECT_EQ(c->credentials.session_token, "imdstoken");
  EXPECT_TRUE(c->expiration);
  EXPECT_EQ(ParseMetadataCredentials(R"({"Code": "Failed"})").status().code(),
            ErrorCode::kPermissionDenied);
  EXPECT_FALSE(ParseMetadataCredentials("[]").ok());
  EXPECT_FALSE(ParseMetadataCredentials(R"({"AccessKeyId": "A"})").ok());
}

TEST(MetadataTest, ImdsV2TakesATokenThenTheRoleThenItsCredentials) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  http.Push(FakeReply::Ok("session-token-1"));
  http.Push(FakeReply::Ok("ferry-role\n"));
  http.Push(FakeReply::Ok(kRoleDocument));
  ImdsSource imds({"http://169.254.169.254", 1000, &clock}, http);
  auto c = imds.Fetch();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAIMDS");
  auto sent = http.requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].method, "PUT");
  EXPECT_EQ(sent[0].url, "http://169.254.169.254/latest/api/token");
  EXPECT_EQ(sent[0].headers.Get("x-aws-ec2-metadata-token-ttl-seconds"), "21600");
  EXPECT_EQ(sent[1].url, "http://169.254.169.254/latest/meta-data/iam/security-credentials/");
  EXPECT_EQ(sent[1].headers.Get("x-aws-ec2-metadata-token"), "session-token-1");
  EXPECT_EQ(sent[2].url,
            "http://169.254.169.254/latest/meta-data/iam/security-credentials/ferry-role");

  // the next fetch reuses the token and the role's name; a 401 takes a new token once
  http.Push(Status(401));
  http.Push(FakeReply::Ok("session-token-2"));
  http.Push(FakeReply::Ok(kRoleDocument));
  ASSERT_TRUE(imds.Fetch().ok());
  sent = http.requests();
  ASSERT_EQ(sent.size(), 6u);
  EXPECT_EQ(sent[3].headers.Get("x-aws-ec2-metadata-token"), "session-token-1");
  EXPECT_EQ(sent[4].method, "PUT");
  EXPECT_EQ(sent[5].headers.Get("x-aws-ec2-metadata-token"), "session-token-2");
}

TEST(MetadataTest, ImdsV1WhenTheTokenCallIsNotServed) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  http.Push(Status(405));
  http.Push(FakeReply::Ok("r"));
  http.Push(FakeReply::Ok(kRoleDocument));
  ImdsSource imds({"http://imds", 1000, &clock}, http);
  ASSERT_TRUE(imds.Fetch().ok());
  EXPECT_FALSE(http.requests()[1].headers.Find("x-aws-ec2-metadata-token"));
}

TEST(MetadataTest, ImdsWithoutARoleOrUnreachableSaysSo) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  http.Push(FakeReply::Ok("t"));
  http.Push(Status(404));
  ImdsSource imds({"http://imds", 1000, &clock}, http);
  auto c = imds.Fetch();
  EXPECT_EQ(c.status().code(), ErrorCode::kNotFound);
  EXPECT_NE(c.status().message().find("no IAM role"), std::string::npos);
  http.Push(FakeReply::NetworkError(Status::Unavailable("connect timed out")));
  EXPECT_EQ(imds.Fetch().status().code(), ErrorCode::kUnavailable);
}

class ContainerEnv : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                          "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
                          "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"}) {
      unsetenv(v);
    }
  }
  void TearDown() override { SetUp(); }
};

TEST_F(ContainerEnv, EndpointsTheSdksAccept) {
  EXPECT_FALSE(*ContainerEndpointFromEnvironment());
  setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc", 1);
  EXPECT_EQ((*ContainerEndpointFromEnvironment())->url, "http://169.254.170.2/v2/credentials/abc");
  unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  for (const char* ok : {"http://127.0.0.1:51679/creds", "http://169.254.170.23/v1/credentials",
                         "https://creds.example.internal/x", "http://localhost:8080/"}) {
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok, 1);
    auto e = ContainerEndpointFromEnvironment();
    ASSERT_TRUE(e.ok()) << ok << ": " << e.status().message();
    EXPECT_EQ((*e)->url, ok);
  }
  for (const char* refused : {"http://10.0.0.1/creds", "ftp://127.0.0.1/x"}) {
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", refused, 1);
    EXPECT_EQ(ContainerEndpointFromEnvironment().status().code(), ErrorCode::kInvalidArgument)
        << refused;
  }
}

TEST_F(ContainerEnv, TheAuthorizationTokenFileIsReadAtEachFetch) {
  testing::FakeTransport http;
  const std::string file = ::testing::TempDir() + "/ferry-container-token";
  ContainerSource source({"http://127.0.0.1:1/creds", "", file}, http);
  for (const char* token : {"tok-1\n", "tok-2"}) {
    {
      std::ofstream(file) << token;
    }
    http.Push(FakeReply::Ok(kRoleDocument));
    ASSERT_TRUE(source.Fetch().ok());
  }
  auto sent = http.requests();
  EXPECT_EQ(sent[0].headers.Get("Authorization"), "tok-1");
  EXPECT_EQ(sent[1].headers.Get("Authorization"), "tok-2");
  http.Push(Status(403));
  auto refused = source.Fetch();
  EXPECT_EQ(refused.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(refused.status().message().find("tok-"), std::string::npos);
  std::remove(file.c_str());
}

}  // namespace
}  // namespace ferry::credentials
