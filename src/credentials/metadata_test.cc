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

// The URL is read as libcurl (the transport) reads it: what the check accepts is where the token
// goes. Plain http only to an IP literal of 127.0.0.0/8, ::1, 169.254.170.2, 169.254.170.23 or
// fd00:ec2::23, or to the name "localhost" itself; never with a user name or password.
TEST_F(ContainerEnv, PlainHttpGoesToLoopbackOrTheLinkLocalAddresses) {
  for (const char* ok :
       {"http://127.0.0.1/creds", "http://127.0.0.1:51679/creds", "http://127.255.3.4/",
        "http://[::1]:8080/v1", "http://[0:0:0:0:0:0:0:1]/", "http://169.254.170.2/v2/x",
        "http://169.254.170.23/v1/credentials", "http://[fd00:ec2::23]/v1/credentials",
        "http://localhost/", "http://LocalHost:80/x", "HTTP://127.0.0.1/creds",
        "https://creds.example.internal/x", "HTTPS://creds.example.internal/x"}) {
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", ok, 1);
    auto e = ContainerEndpointFromEnvironment();
    ASSERT_TRUE(e.ok()) << ok << ": " << e.status().message();
    EXPECT_EQ((*e)->url, ok);
  }
}

TEST_F(ContainerEnv, HostileUrlsAreRefused) {
  for (const char* hostile : {
           "http://127.0.0.1@evil.example/",       // userinfo: the host is evil.example
           "http://127.0.0.1:80@evil.example/",    // userinfo with a "port"
           "http://127.0.0.1\\@evil.example/",     // backslash before '@': still userinfo
           "http://[::1]@evil/",                   // a bracketed "host" that is a user name
           "http://localhost@evil.example/",
           "http://127.evil.example/",             // a name that starts like a loopback address
           "http://127.0.0.1.evil.example/",
           "http://127.0.0.1%2eevil.example/",     // the dot percent-encoded
           "http://localhost.evil.example/",
           "http://localhost./",                   // the rooted name goes to the resolver
           "http://evil.localhost/",
           "http://evil.example#@127.0.0.1/",      // the loopback address only in the fragment
           "http://evil.example?@127.0.0.1/",      // ... or in the query
           "http://evil.example/@127.0.0.1/",      // ... or in the path
           "HTTP://evil.example/",                 // an upper-case scheme is still http
           "hTtP://127.0.0.1@evil.example/",
           "http://[::ffff:127.0.0.1]/",           // IPv4-mapped: not on the SDKs' list
           "http://[fe80::1]/",
           "http://169.254.169.254/",              // IMDS is not the container endpoint
           "http://169.254.170.3/",
           "http://0.0.0.0/",
           "http://10.0.0.1/creds",
           "ftp://127.0.0.1/x",
           "file:///etc/passwd",
           "http:/evil.example/",
           "127.0.0.1/creds",
           "//127.0.0.1/creds",
           "http://127.0.0.1 /",
           "http://127.0.0.1:99999/"}) {
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", hostile, 1);
    auto e = ContainerEndpointFromEnvironment();
    EXPECT_EQ(e.status().code(), ErrorCode::kInvalidArgument)
        << hostile << " was accepted as " << (e.ok() && *e ? (*e)->url : e.status().message());
  }
}

TEST_F(ContainerEnv, AUserNameOrPasswordIsRefusedEvenOverHttpsAndNotQuoted) {
  for (const char* with_login :
       {"https://user:SECRETPW@creds.example/x", "http://user:SECRETPW@127.0.0.1/x",
        "http://@127.0.0.1/x", "http://:SECRETPW@127.0.0.1/x", "http://;SECRETPW@127.0.0.1/"}) {
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", with_login, 1);
    auto e = ContainerEndpointFromEnvironment();
    EXPECT_EQ(e.status().code(), ErrorCode::kInvalidArgument) << with_login << " was accepted";
    EXPECT_EQ(e.status().message().find("SECRETPW"), std::string::npos) << e.status().message();
  }
}

TEST_F(ContainerEnv, TheRelativeUriStaysOnTheEcsAddress) {
  for (const char* relative : {"/v2/credentials/abc", "v2/x", "@evil.example/x", "/x#@evil"}) {
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", relative, 1);
    auto e = ContainerEndpointFromEnvironment();
    ASSERT_TRUE(e.ok()) << relative << ": " << e.status().message();
    EXPECT_TRUE((*e)->url.starts_with("http://169.254.170.2/")) << (*e)->url;
  }
  setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/x y", 1);
  EXPECT_EQ(ContainerEndpointFromEnvironment().status().code(), ErrorCode::kInvalidArgument);
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
