#include "credentials/process.h"
#include "testing/wait_for.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <thread>

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

constexpr const char* kValidJson =
    R"(printf '{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "S"}')";

// The pid a test command wrote to `file`, or 0.
pid_t PidWrittenTo(const std::string& file) {
  std::ifstream in(file);
  long pid = 0;
  in >> pid;
  return static_cast<pid_t>(pid);
}

// True once `pid` is gone or a zombie (killed, waiting for whoever inherited it), within 5 s.
bool ProcessEndsWithin5s(pid_t pid) {
  return ferry::testing::WaitFor(
      [pid] {
        if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
        std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
        std::string pid_field, comm, state;
        return static_cast<bool>(stat >> pid_field >> comm >> state) && state == "Z";
      },
      std::chrono::seconds(5));
}

ProcessOptions QuickOptions() {
  ProcessOptions options;
  options.timeout = std::chrono::seconds(20);
  options.exit_grace = std::chrono::milliseconds(300);
  return options;
}

// A command that prints valid credentials, closes its output and stays: its exit status is
// what says the credentials are good, so without an exit within the grace it is killed and
// its output not used.
TEST(CredentialProcessTest, ACommandThatPrintsThenLingersIsKilledAndNotBelieved) {
  const std::string pid_file =
      ::testing::TempDir() + "/ferry-process-lingers-" + std::to_string(::getpid()) + ".pid";
  ProcessSource source(std::string(kValidJson) + "; echo $$ > " + pid_file +
                           "; exec >&- 2>&-; sleep 30",
                       "credential_process of profile \"lingers\"", QuickOptions());
  const auto started = std::chrono::steady_clock::now();
  auto c = source.Fetch();
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(c.status().message(),
            "credential_process of profile \"lingers\" printed its output but did not exit "
            "within 300 ms (killed; its output is not used)");
  EXPECT_LT(took, std::chrono::seconds(5));
  const pid_t pid = PidWrittenTo(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessEndsWithin5s(pid));
  std::remove(pid_file.c_str());
}

// The same with stderr left open: the document is whole once stdout is closed.
TEST(CredentialProcessTest, ACommandThatClosesOnlyItsStdoutAndLingersIsKilledToo) {
  ProcessSource source(std::string(kValidJson) + "; exec >&-; sleep 30",
                       "credential_process of profile \"lingers\"", QuickOptions());
  const auto started = std::chrono::steady_clock::now();
  auto c = source.Fetch();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "credential_process of profile \"lingers\" printed its output but did not exit "
            "within 300 ms (killed; its output is not used)");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

// The same under a wrapper: the outer shell holds stdout open while its child lingers, so no
// pipe ever closes; the complete document starts the grace (before, the 60 s timeout did).
TEST(CredentialProcessTest, AWrappedCommandThatPrintsThenLingersIsKilledToo) {
  const std::string script =
      ::testing::TempDir() + "/ferry-process-wrapped-" + std::to_string(::getpid()) + ".sh";
  {
    std::ofstream(script) << kValidJson << "\nexec >&- 2>&-\nsleep 30\n";
  }
  ProcessSource source("sh " + script + "; echo after", "credential_process of profile \"w\"",
                       QuickOptions());
  const auto started = std::chrono::steady_clock::now();
  auto c = source.Fetch();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "credential_process of profile \"w\" printed its output but did not exit within "
            "300 ms (killed; its output is not used)");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  std::remove(script.c_str());
}

// A document printed in pieces is whole only at its end; until then the run is not cut short.
TEST(CredentialProcessTest, ADocumentPrintedSlowlyIsWaitedFor) {
  ProcessSource source(
      R"(printf '{"Version": 1, '; sleep 0.5; printf '"AccessKeyId": "AK", "SecretAccessKey": "S"}')",
      "credential_process of profile \"slow\"", QuickOptions());
  auto c = source.Fetch();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->credentials.access_key_id, "AK");
}

// A command that exits but leaves a process of its own holding its output open: the output may
// not be complete, so it is not used either, and the leftover process is killed.
TEST(CredentialProcessTest, AChildHoldingTheOutputOpenIsKilledAndTheOutputNotBelieved) {
  const std::string pid_file =
      ::testing::TempDir() + "/ferry-process-child-" + std::to_string(::getpid()) + ".pid";
  ProcessSource source(std::string(kValidJson) + "; sleep 30 & echo $! > " + pid_file,
                       "credential_process of profile \"forks\"", QuickOptions());
  const auto started = std::chrono::steady_clock::now();
  auto c = source.Fetch();
  const auto took = std::chrono::steady_clock::now() - started;
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), ErrorCode::kUnavailable);
  EXPECT_EQ(c.status().message(),
            "credential_process of profile \"forks\" exited, but a process it started kept its "
            "output open for 300 ms (killed; its output is not used)");
  EXPECT_LT(took, std::chrono::seconds(5));
  const pid_t pid = PidWrittenTo(pid_file);
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(ProcessEndsWithin5s(pid));
  std::remove(pid_file.c_str());
}

// Closing the output a little before the exit is normal: within the grace, the set is used;
// the exit status still decides.
TEST(CredentialProcessTest, AnExitWithinTheGraceAfterTheOutputClosedCounts) {
  ProcessOptions options;
  options.exit_grace = std::chrono::seconds(10);
  ProcessSource ok(std::string(kValidJson) + "; exec >&- 2>&-; sleep 0.2",
                   "credential_process of profile \"p\"", options);
  auto c = ok.Fetch();
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->credentials.access_key_id, "AK");
  ProcessSource failing(std::string(kValidJson) + "; exec >&- 2>&-; sleep 0.2; exit 4",
                        "credential_process of profile \"p\"", options);
  auto refused = failing.Fetch();
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "credential_process of profile \"p\" exited with status 4");
}

// The overall timeout bounds the wait too when it is shorter than the grace.
TEST(CredentialProcessTest, TheTimeoutBoundsTheWaitForTheExit) {
  ProcessOptions options;
  options.timeout = std::chrono::milliseconds(400);
  options.exit_grace = std::chrono::seconds(60);
  ProcessSource source(std::string(kValidJson) + "; exec >&- 2>&-; sleep 30",
                       "credential_process of profile \"p\"", options);
  const auto started = std::chrono::steady_clock::now();
  auto c = source.Fetch();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().message(),
            "credential_process of profile \"p\" did not finish within 400 ms (killed)");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
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
