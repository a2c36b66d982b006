#include "credentials/process.h"

#include <gtest/gtest.h>

namespace ferry::credentials {
namespace {

TEST(CredentialProcessTest, ParsesTheDocument) {
  auto c = ParseProcessOutput(R"({"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "S",
      "SessionToken": "T", "Expiration": "2026-01-01T00:10:00Z"})");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->credentials.access_key_id, "AK");
  EXPECT_EQ(c->credentials.session_token, "T");
  ASSERT_TRUE(c->expiration);
  auto fixed = ParseProcessOutput(R"({"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "S"})");
  ASSERT_TRUE(fixed.ok());
  EXPECT_FALSE(fixed->expiration);
}

TEST(CredentialProcessTest, RefusesMalformedDocumentsWithoutQuotingThem) {
  for (const char* doc :
       {"", "SECRET-not-json", R"({"Version": 2, "AccessKeyId": "AK", "SecretAccessKey": "SECRET"})",
        R"({"AccessKeyId": "AK", "SecretAccessKey": "SECRET"})",
        R"({"Version": 1, "AccessKeyId": "AK"})",
        R"({"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SECRET", "Expiration": "x"})",
        R"({"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SECRET", "Expiration": 5})"}) {
    auto c = ParseProcessOutput(doc);
    ASSERT_FALSE(c.ok()) << doc;
    EXPECT_EQ(c.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(c.status().message().find("SECRET"), std::string::npos) << c.status().message();
  }
}

TEST(CredentialProcessTest, RunsTheCommandThroughTheShell) {
  ProcessSource source(
      R"x(echo progress >&2; printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "S"}' "$((40 + 2))")x",
      "credential_process of profile \"p\"");
  auto c = source.Fetch();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->credentials.access_key_id, "42");
}

TEST(CredentialProcessTest, AFailingCommandIsOneLineWithItsLastErrorLine) {
  ProcessSource source("echo '{\"SecretAccessKey\": \"SECRET\"}'; echo first >&2; "
                       "echo 'token expired, log in again' >&2; exit 3",
                       "credential_process of profile \"p\"");
  auto c = source.Fetch();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "credential_process of profile \"p\" exited with status 3: token expired, log in "
            "again");
  EXPECT_EQ(c.status().message().find("SECRET"), std::string::npos);
}

TEST(CredentialProcessTest, ANonJsonAnswerIsRefusedWithoutQuotingIt) {
  ProcessSource source("echo SECRET", "credential_process of remote 'ra'");
  auto c = source.Fetch();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "credential_process of remote 'ra': its output is not a JSON object");
}

TEST(CredentialProcessTest, ACommandThatHangsIsKilledAtTheTimeout) {
  ProcessOptions options;
  options.timeout = std::chrono::seconds(1);
  ProcessSource source("sleep 30", "credential_process of profile \"slow\"", options);
  const auto started = std::chrono::steady_clock::now();
  auto c = source.Fetch();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(c.status().message().find("did not finish within 1 s"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

}  // namespace
}  // namespace ferry::credentials
