#include "obs/log.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "testing/fake_clock.h"

namespace ferry::obs {
namespace {

class VectorSink : public LineSink {
 public:
  void WriteLine(std::string_view line) override {
    std::lock_guard lock(mu_);
    lines.emplace_back(line);
  }
  std::mutex mu_;
  std::vector<std::string> lines;
};

// 2026-11-22T11:38:06.123Z
const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795347486123));

TEST(LoggerTest, TextLineHasLevelMessageAndFields) {
  VectorSink sink;
  Logger log(sink, Level::kDebug, Format::kText);
  EXPECT_EQ(log.FormatLine(Level::kWarn, "state store unreachable",
                           {{"job", 12}, {"store", "a b"}, {"ok", false}, {"empty", ""}}, kTime),
            "ferry: warn: state store unreachable job=12 store=\"a b\" ok=false empty=\"\"\n");
  EXPECT_EQ(log.FormatLine(Level::kInfo, "two\nlines", {{"k", "x\"y\nz"}}, kTime),
            "ferry: info: two lines k=\"x\\\"y z\"\n");
}

TEST(LoggerTest, JsonLineHasTimeLevelMessageAndTypedFields) {
  VectorSink sink;
  Logger log(sink, Level::kDebug, Format::kJson);
  const std::string line = log.FormatLine(
      Level::kError, "failed", {{"job", 12}, {"bytes", 5ull}, {"ok", true}, {"key", "a/b"}},
      kTime);
  EXPECT_EQ(line,
            "{\"time\":\"2026-11-22T11:38:06.123Z\",\"level\":\"error\",\"message\":\"failed\","
            "\"job\":12,\"bytes\":5,\"ok\":true,\"key\":\"a/b\"}\n");
}

TEST(LoggerTest, LinesAreStampedWithTheLoggersClock) {
  VectorSink sink;
  Logger log(sink, Level::kDebug, Format::kJson);
  ferry::testing::FakeClock clock(kTime);
  log.set_clock(&clock);
  log.Log(Level::kInfo, "one");
  clock.Advance(std::chrono::milliseconds(1500));
  log.Log(Level::kInfo, "two");
  log.set_clock(nullptr);  // the system clock again
  log.Log(Level::kInfo, "three");
  ASSERT_EQ(sink.lines.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(sink.lines[0])["time"], "2026-11-22T11:38:06.123Z");
  EXPECT_EQ(nlohmann::json::parse(sink.lines[1])["time"], "2026-11-22T11:38:07.623Z");
  EXPECT_NE(nlohmann::json::parse(sink.lines[2])["time"], "2026-11-22T11:38:07.623Z");
}

TEST(LoggerTest, JsonEscapesQuotesBackslashesAndControlCharacters) {
  VectorSink sink;
  Logger log(sink, Level::kDebug, Format::kJson);
  const std::string line =
      log.FormatLine(Level::kInfo, "say \"hi\"\\\n\t\x01", {{"k\"ey", "v\x7f"}}, kTime);
  EXPECT_NE(line.find(R"("message":"say \"hi\"\\\n\t\u0001")"), std::string::npos) << line;
  EXPECT_NE(line.find(R"("k\"ey":"v\u007f")"), std::string::npos) << line;
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  auto parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["message"], "say \"hi\"\\\n\t\x01");
  EXPECT_EQ(parsed["k\"ey"], "v\x7f");
}

TEST(LoggerTest, LevelsBelowTheThresholdAreDropped) {
  VectorSink sink;
  Logger log(sink, Level::kWarn, Format::kText);
  EXPECT_FALSE(log.Enabled(Level::kInfo));
  EXPECT_TRUE(log.Enabled(Level::kError));
  log.Log(Level::kDebug, "d");
  log.Log(Level::kInfo, "i");
  log.Log(Level::kWarn, "w");
  log.Log(Level::kError, "e");
  ASSERT_EQ(sink.lines.size(), 2u);
  EXPECT_EQ(sink.lines[0], "ferry: warn: w\n");
  EXPECT_EQ(sink.lines[1], "ferry: error: e\n");
  log.set_level(Level::kDebug);
  log.Log(Level::kDebug, "d");
  EXPECT_EQ(sink.lines.size(), 3u);
}

TEST(LoggerTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLevel("debug"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarn);
  EXPECT_EQ(ParseLevel("loud").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_EQ(ParseFormat("xml").status().code(), ErrorCode::kInvalidArgument);
}

// Many threads logging long lines to one file: every line comes out whole.
TEST(LoggerTest, ConcurrentWritersNeverInterleave) {
  char path[] = "/tmp/ferry-log-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  {
    FdSink sink(fd);
    Logger log(sink, Level::kInfo, Format::kJson);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&log, t] {
        const std::string filler(3000, static_cast<char>('a' + t));
        for (int i = 0; i < 200; ++i) log.Log(Level::kInfo, filler, {{"thread", t}, {"i", i}});
      });
    }
    for (auto& th : threads) th.join();
  }
  close(fd);
  std::ifstream in(path);
  std::string line;
  std::set<std::pair<int, int>> seen;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    ASSERT_FALSE(j.is_discarded()) << line.substr(0, 80);
    const int t = j["thread"];
    EXPECT_EQ(j["message"], std::string(3000, static_cast<char>('a' + t)));
    seen.insert({t, j["i"].get<int>()});
  }
  EXPECT_EQ(seen.size(), 8u * 200u);
  std::remove(path);
}

std::string ReadAll(const char* path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// While buffering, lines wait in memory; a warning goes out at once with the lines before it,
// in order; the end of the scope writes the rest.
TEST(LoggerTest, BufferedLinesWaitUntilAWarningOrTheEndOfTheScope) {
  char path[] = "/tmp/ferry-log-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  {
    FdSink sink(fd);
    Logger log(sink, Level::kInfo, Format::kText);
    {
      BufferedLines buffered(log);
      log.Log(Level::kInfo, "one");
      log.Log(Level::kInfo, "two");
      EXPECT_EQ(ReadAll(path), "");
      log.Log(Level::kWarn, "careful");
      EXPECT_EQ(ReadAll(path), "ferry: info: one\nferry: info: two\nferry: warn: careful\n");
      log.Log(Level::kInfo, "three");
      {
        BufferedLines nested(log);  // scopes nest: the outer one still buffers after this ends
        log.Log(Level::kInfo, "four");
      }
      EXPECT_EQ(ReadAll(path).find("three"), std::string::npos);
    }
    EXPECT_EQ(ReadAll(path),
              "ferry: info: one\nferry: info: two\nferry: warn: careful\nferry: info: three\n"
              "ferry: info: four\n");
    log.Log(Level::kInfo, "unbuffered");
    EXPECT_NE(ReadAll(path).find("unbuffered"), std::string::npos);
  }
  close(fd);
  std::remove(path);
}

// A full buffer is written at once, as whole lines, in few writes.
TEST(LoggerTest, AFullBufferIsWrittenAsWholeLines) {
  char path[] = "/tmp/ferry-log-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  {
    FdSink sink(fd);
    Logger log(sink, Level::kInfo, Format::kText);
    BufferedLines buffered(log);
    const std::string filler(100, 'x');
    int n = 0;
    while (ReadAll(path).empty()) {
      log.Log(Level::kInfo, filler, {{"i", n++}});
      ASSERT_LT(n, 10000);
    }
    const std::string out = ReadAll(path);
    EXPECT_GT(n * 120, static_cast<int>(FdSink::kBufferBytes) * 9 / 10);  // not flushed early
    EXPECT_LE(out.size(), FdSink::kBufferBytes);
    EXPECT_EQ(out.back(), '\n');
  }
  close(fd);
  std::remove(path);
}

// exit() while a scope is open still writes the buffered lines of the default logger.
TEST(LoggerTest, DefaultLoggerFlushesBufferedLinesAtExit) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    auto* scope = new BufferedLines();  // never ended
    (void)scope;
    for (int i = 0; i < 3; ++i) Log(Level::kInfo, "would copy", {{"key", i}});
    std::exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_EQ(out,
            "ferry: info: would copy key=0\nferry: info: would copy key=1\n"
            "ferry: info: would copy key=2\n");
}

}  // namespace
}  // namespace ferry::obs
