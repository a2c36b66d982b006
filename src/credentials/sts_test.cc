#include "credentials/sts.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "testing/fake_clock.h"
#include "testing/fake_transport.h"

namespace ferry::credentials {
namespace {

using testing::FakeReply;

// An AssumeRole reply as AWS STS sends it (values made up).
constexpr const char* kAssumeRoleReply = R"(<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>x</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/ferry</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:ferry</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>AQoDYXdzEPT//////////wEXAMPLEtc764</SessionToken>
      <Expiration>2026-01-01T01:00:00Z</Expiration>
    </Credentials>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>)";

TEST(StsTest, FormsCarryTheRoleEncoded) {
  AssumeRoleRequest r{"arn:aws:iam::123456789012:role/a b", "", "ext/1", 900};
  EXPECT_EQ(BuildAssumeRoleForm(r, "s1"),
            "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole"
            "%2Fa%20b&RoleSessionName=s1&DurationSeconds=900&ExternalId=ext%2F1");
  r.duration_seconds = 0;
  r.external_id.clear();
  EXPECT_EQ(BuildWebIdentityForm(r, "s2", "eyJ+/="),
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A"
            "123456789012%3Arole%2Fa%20b&RoleSessionName=s2&WebIdentityToken=eyJ%2B%2F%3D");
}

TEST(StsTest, EndpointsByRegionAndPartition) {
  EXPECT_EQ(AwsStsEndpoint("eu-west-1"), "https://sts.eu-west-1.amazonaws.com");
  EXPECT_EQ(AwsStsEndpoint("cn-north-1"), "https://sts.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(AwsStsEndpoint(""), "https://sts.us-east-1.amazonaws.com");
}

TEST(StsTest, ParsesCredentialsAndRefusesIncompleteOnes) {
  auto c = ParseStsCredentials(kAssumeRoleReply);
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(c->credentials.session_token, "AQoDYXdzEPT//////////wEXAMPLEtc764");
  EXPECT_EQ(c->expiration,
            std::chrono::system_clock::time_point(std::chrono::seconds(1767229200)));
  EXPECT_FALSE(ParseStsCredentials("<x/>").ok());
  EXPECT_FALSE(ParseStsCredentials("not xml <").ok());
  std::string no_expiry = kAssumeRoleReply;
  no_expiry.replace(no_expiry.find("2026-01-01T01:00:00Z"), 20, "soon");
  auto bad = ParseStsCredentials(no_expiry);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not an ISO 8601"), std::string::npos);
  EXPECT_EQ(bad.status().message().find("wJalr"), std::string::npos);
}

TEST(StsTest, FailuresAreMappedAndQuoted) {
  const std::string aws_error =
      R"(<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>)"
      R"(<Message>not authorized to perform sts:AssumeRole</Message></Error></ErrorResponse>)";
  Status s = StsFailure(403, aws_error, "assuming role r");
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(),
            "assuming role r: HTTP 403 AccessDenied: not authorized to perform sts:AssumeRole");
  // RGW: <Error> at the top, empty message
  EXPECT_EQ(StsFailure(404, "<Error><Code>NoSuchEntity</Code><Message></Message></Error>", "r")
                .code(),
            ErrorCode::kNotFound);
  EXPECT_EQ(StsFailure(400, "<Error><Code>Throttling</Code></Error>", "r").code(),
            ErrorCode::kUnavailable);
  EXPECT_EQ(StsFailure(503, "", "r").code(), ErrorCode::kUnavailable);
  EXPECT_EQ(StsFailure(400, "<Error><Code>InvalidParameterValue</Code></Error>", "r").code(),
            ErrorCode::kInvalidArgument);
}

TEST(StsTest, AssumeRoleIsSignedForStsAndRetriedWhenTransient) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  http.Push(FakeReply::S3Error(503, "ServiceUnavailable"));
  http.Push(FakeReply::Ok(kAssumeRoleReply));
  StsClient sts(StsEndpoint{"http://127.0.0.1:7480/", "region-a", std::nullopt}, http, clock);
  auto got = sts.AssumeRole({"arn:aws:iam:::role/r", "sess", "", 0},
                            s3::Credentials{"AKSRC", "srcsecret", ""});
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->credentials.access_key_id, "ASIAIOSFODNN7EXAMPLE");
  const auto sent = http.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1].method, "POST");
  EXPECT_EQ(sent[1].url, "http://127.0.0.1:7480/");
  EXPECT_NE(sent[1].headers.Get("Authorization").find("AKSRC/"), std::string::npos);
  EXPECT_NE(sent[1].headers.Get("Authorization").find("/region-a/sts/aws4_request"),
            std::string::npos);
  EXPECT_EQ(sent[1].headers.Get("Authorization").find("srcsecret"), std::string::npos);
  EXPECT_NE(sent[1].body.find("RoleSessionName=sess"), std::string::npos);
  EXPECT_EQ(clock.sleeps().size(), 1u);
}

TEST(StsTest, ARefusalIsNotRetried) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  http.Push(FakeReply::S3Error(403, "AccessDenied", "no"));
  StsClient sts(StsEndpoint{"http://h", "us-east-1", std::nullopt}, http, clock);
  auto got = sts.AssumeRole({"arn:aws:iam:::role/r", "", "", 0}, s3::Credentials{"A", "B", ""});
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), ErrorCode::kPermissionDenied);
  EXPECT_NE(got.status().message().find("assuming role arn:aws:iam:::role/r at http://h"),
            std::string::npos);
  EXPECT_EQ(http.request_count(), 1u);
}

TEST(StsTest, WebIdentityReadsTheTokenFileAtEachFetchAndSendsItUnsigned) {
  testing::FakeTransport http;
  testing::FakeClock clock;
  const std::string file = ::testing::TempDir() + "/ferry-web-identity-token";
  auto sts = std::make_shared<StsClient>(StsEndpoint{"http://h", "us-east-1", std::nullopt}, http,
                                         clock);
  WebIdentitySource source(sts, {"arn:aws:iam::1:role/pod", "", "", 0}, file);
  std::remove(file.c_str());
  auto missing = source.Fetch();
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot be read"), std::string::npos);
  for (const char* token : {"first-token\n", "second-token"}) {
    {
      std::ofstream(file) << token;
    }
    http.Push(FakeReply::Ok(kAssumeRoleReply));
    ASSERT_TRUE(source.Fetch().ok());
  }
  const auto sent = http.requests();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_TRUE(sent[0].body.ends_with("WebIdentityToken=first-token"));
  EXPECT_TRUE(sent[1].body.ends_with("WebIdentityToken=second-token"));
  EXPECT_FALSE(sent[1].headers.Find("Authorization"));
  std::remove(file.c_str());
}

}  // namespace
}  // namespace ferry::credentials
