#include "http/curl_verbose.h"

#include <gtest/gtest.h>

namespace ferry::http::internal {
namespace {

TEST(RedactHeadersTest, HidesCredentialsKeepsTheRest) {
  const std::string in =
      "PUT /b/k HTTP/1.1\r\n"
      "Host: 127.0.0.1:7480\r\n"
      "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20261122/us-east-1/s3/aws4_request, "
      "Signature=abc\r\n"
      "X-Amz-Security-Token: FQoGZXIvYXdzEJr//////////secret\r\n"
      "x-amz-content-sha256: e3b0c442\r\n"
      "\r\n";
  const std::string out = RedactHeaders(in);
  EXPECT_EQ(out.find("Signature=abc"), std::string::npos);
  EXPECT_EQ(out.find("FQoGZXIvYXdzEJr"), std::string::npos);
  EXPECT_NE(out.find("Authorization: <redacted>\r\n"), std::string::npos);
  EXPECT_NE(out.find("X-Amz-Security-Token: <redacted>\r\n"), std::string::npos);
  EXPECT_NE(out.find("Host: 127.0.0.1:7480\r\n"), std::string::npos);
  EXPECT_NE(out.find("x-amz-content-sha256: e3b0c442\r\n"), std::string::npos);
  EXPECT_TRUE(out.starts_with("PUT /b/k HTTP/1.1\r\n"));
}

TEST(RedactHeadersTest, OneLineWithoutNewline) {
  EXPECT_EQ(RedactHeaders("x-amz-security-token: t"), "x-amz-security-token: <redacted>");
  EXPECT_EQ(RedactHeaders("Content-Length: 5"), "Content-Length: 5");
  // an S3 Express session's token is a credential too
  EXPECT_EQ(RedactHeaders("x-amz-s3session-token: s"), "x-amz-s3session-token: <redacted>");
}

// Every header ferry sends or receives that carries a credential, whatever its case.
TEST(RedactHeadersTest, EverySecretHeaderInAnyCase) {
  for (const char* name : {
           "Authorization", "authorization", "AUTHORIZATION", "Proxy-Authorization",
           "X-Amz-Security-Token", "x-amz-s3session-token", "X-Amz-S3Session-Token",
           "x-amz-sso_bearer_token", "X-Amz-SSO_Bearer_Token",  // the SSO portal's access token
           "x-aws-ec2-metadata-token", "X-AWS-EC2-Metadata-Token",  // the IMDSv2 session token
           "x-amz-server-side-encryption-customer-key",
           "X-Amz-Server-Side-Encryption-Customer-Key",
           "x-amz-copy-source-server-side-encryption-customer-key", "Cookie", "Set-Cookie",
           "X-Auth-Token", "X-Storage-Token", "X-Subject-Token",  // Swift / Keystone tokens
           "X-Api-Key"}) {
    const std::string line = std::string(name) + ": SECRETVALUE\r\n";
    EXPECT_EQ(RedactHeaders(line), std::string(name) + ": <redacted>\r\n") << name;
    // the value's own spacing does not matter
    EXPECT_EQ(RedactHeaders(std::string(name) + ":SECRETVALUE").find("SECRETVALUE"),
              std::string::npos)
        << name;
  }
  // not secrets: a digest of the key, the token's lifetime, the algorithm; kept for debugging
  for (const char* kept : {"x-amz-server-side-encryption-customer-key-MD5: bWQ1",
                           "x-aws-ec2-metadata-token-ttl-seconds: 21600",
                           "x-amz-server-side-encryption-customer-algorithm: AES256",
                           "x-amz-server-side-encryption-aws-kms-key-id: arn:aws:kms:k",
                           "x-amz-content-sha256: UNSIGNED-PAYLOAD"}) {
    EXPECT_EQ(RedactHeaders(kept), kept);
  }
}

// A query parameter ferry does not know to be harmless has its value hidden in the request
// line: a webhook's token, a presigned URL's signature, an SNS confirmation token.
TEST(RedactHeadersTest, TheRequestLinesQueryTokensAreHidden) {
  for (const char* target : {
           "/hook?token=SECRETVALUE", "/hook?a=1&token=SECRETVALUE", "/hook?TOKEN=SECRETVALUE",
           "/hook?access_token=SECRETVALUE", "/hook?sig=SECRETVALUE", "/hook?code=SECRETVALUE",
           "/hook?key=SECRETVALUE#frag", "/hook?apikey=SECRETVALUE&x",
           "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIASECRETVALUE%2F20261127"
           "&X-Amz-Signature=SECRETVALUE&X-Amz-Security-Token=SECRETVALUE",
           "/b/k?x-amz-signature=SECRETVALUE", "/b/k?Signature=SECRETVALUE&AWSAccessKeyId=AKIA",
           "/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:r:1:t&Token=SECRETVALUE",
           "http://proxy.example/hook?token=SECRETVALUE",
           "http://user:SECRETVALUE@proxy.example/hook"}) {
    for (const char* method : {"GET", "POST", "PUT"}) {
      const std::string out =
          RedactHeaders(std::string(method) + " " + target + " HTTP/1.1\r\nHost: h\r\n\r\n");
      EXPECT_EQ(out.find("SECRETVALUE"), std::string::npos) << out;
      EXPECT_TRUE(out.starts_with(std::string(method) + " ")) << out;
      EXPECT_NE(out.find(" HTTP/1.1\r\nHost: h\r\n"), std::string::npos) << out;
    }
  }
  EXPECT_EQ(RedactHeaders("POST /hook?token=s3cr3t&a=1 HTTP/1.1\r\n"),
            "POST /hook?token=<redacted>&a=<redacted> HTTP/1.1\r\n");
  // S3's own parameters are kept: a trace must still say which part, listing or version it was
  for (const char* s3 : {
           "PUT /b/k?partNumber=3&uploadId=2~abc HTTP/1.1\r\n",
           "GET /b?list-type=2&prefix=a%2F&delimiter=%2F&continuation-token=1Abc&max-keys=1000"
           "&encoding-type=url&start-after=k&fetch-owner=true HTTP/1.1\r\n",
           "GET /b?versions&key-marker=k&version-id-marker=v&max-keys=10 HTTP/1.1\r\n",
           "GET /b/k?versionId=3HL4kqtJlcpXroDTDmJ HTTP/1.1\r\n", "GET /b?tagging HTTP/1.1\r\n",
           "GET /b/k?attributes&x-id=GetObjectAttributes HTTP/1.1\r\n",
           "GET /b?uploads&upload-id-marker=u&key-marker=k HTTP/1.1\r\n",
           "GET /b/k?uploadId=u&part-number-marker=2&max-parts=100 HTTP/1.1\r\n",
           "GET /federation/credentials?account_id=1234&role_name=r HTTP/1.1\r\n",
           "GET /b/k?response-content-type=text%2Fplain HTTP/1.1\r\n"}) {
    EXPECT_EQ(RedactHeaders(s3), s3);
  }
}

// libcurl's own text lines can quote a URL with a user name and password (a proxy from the
// environment): the login never reaches the trace.
TEST(TraceLinesTest, ALoginInAUrlOfAnInformationLineIsHidden) {
  const std::vector<std::string> lines =
      TraceLines(CURLINFO_TEXT,
                 "Uses proxy env variable http_proxy == 'http://user:SECRETVALUE@proxy:3128'\n");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("SECRETVALUE"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("proxy:3128"), std::string::npos) << lines[0];
  EXPECT_EQ(TraceLines(CURLINFO_TEXT, "Connected to h (127.0.0.1) port 80 (#0)\n"),
            std::vector<std::string>{"* Connected to h (127.0.0.1) port 80 (#0)"});
}

TEST(TraceLinesTest, OneLinePerHeaderRedactedAndBodiesByLength) {
  const std::vector<std::string> lines = TraceLines(
      CURLINFO_HEADER_OUT, "GET /b HTTP/1.1\r\nAuthorization: AWS4 secret\r\n\r\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "> GET /b HTTP/1.1");
  EXPECT_EQ(lines[1], "> Authorization: <redacted>");
  EXPECT_EQ(TraceLines(CURLINFO_HEADER_IN, "HTTP/1.1 200 OK\r\n"),
            std::vector<std::string>{"< HTTP/1.1 200 OK"});
  EXPECT_EQ(TraceLines(CURLINFO_TEXT, "Connected\n"), std::vector<std::string>{"* Connected"});
  EXPECT_EQ(TraceLines(CURLINFO_DATA_IN, "abcd"),
            std::vector<std::string>{"< [4 bytes of body]"});
}

}  // namespace
}  // namespace ferry::http::internal
