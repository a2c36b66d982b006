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
