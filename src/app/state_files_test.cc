// The automatic state file policy: where it lives, one per command and pair of locations, and
// when it goes.
#include "app/state_files.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

namespace ferry::app {
namespace {

TEST(StateFilesTest, OneFilePerCommandAndLocationsUnderTheStateDir) {
  ::setenv("FERRY_STATE_DIR", "/tmp/ferry-state-dir-test", 1);
  const std::string cp = AutoStatePath("cp", "a", "b");
  EXPECT_EQ(cp.rfind("/tmp/ferry-state-dir-test/run-", 0), 0u) << cp;
  EXPECT_EQ(cp.size(), std::string("/tmp/ferry-state-dir-test/run-").size() + 20 + 3);
  EXPECT_EQ(AutoStatePath("cp", "a", "b"), cp);
  EXPECT_NE(AutoStatePath("sync", "a", "b"), cp);
  EXPECT_NE(AutoStatePath("cp", "a", "c"), cp);
  ::unsetenv("FERRY_STATE_DIR");
  ::setenv("XDG_STATE_HOME", "/tmp/xdg", 1);
  EXPECT_EQ(StateDir(), "/tmp/xdg/ferry");
  ::unsetenv("XDG_STATE_HOME");
}

TEST(StateFilesTest, OnlyADoneAutomaticRunsFileGoes) {
  EXPECT_FALSE(KeepStateFile(/*automatic=*/true, /*run_done=*/true));
  EXPECT_TRUE(KeepStateFile(true, false));
  EXPECT_TRUE(KeepStateFile(false, true));
  char tmpl[] = "/tmp/ferry-state-files-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/run.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::ofstream(path + suffix) << "x";
  RemoveStateFile(path);
  for (const char* suffix : {"", "-wal", "-shm"}) {
    EXPECT_FALSE(std::filesystem::exists(path + suffix)) << suffix;
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace ferry::app

namespace ferry::app {
namespace {

// `ferry jobs list --state typo.db` reports the missing file instead of creating an empty store.
TEST(StateFilesTest, AMissingSqliteStateIsReportedAndAPresentOneOrAUrlPasses) {
  const std::string dir = ::testing::TempDir() + "/ferry-state-exists-test";
  std::filesystem::create_directories(dir);
  const std::string missing = dir + "/no-such.db";
  std::filesystem::remove(missing);
  Status s = CheckStateExists(missing);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no state store at " + missing), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(missing));
  std::ofstream(dir + "/present.db") << "";
  EXPECT_TRUE(CheckStateExists(dir + "/present.db").ok());
  EXPECT_TRUE(CheckStateExists("postgresql://u@127.0.0.1:1/db").ok());
}

}  // namespace
}  // namespace ferry::app
