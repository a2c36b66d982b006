// The JobStore conformance suite against SQLite (a fresh database file per test), the SQLite
// store's own checks, and OpenJobStore's URL handling (which needs no server).
#include "jobs/sqlite/sqlite_job_store.h"

#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "conformance/job_store_factory.h"

namespace ferry::conformance {
namespace {

namespace fs = std::filesystem;

// A new temporary folder; "" (and a test failure) when it cannot be made.
fs::path MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "ferry-jobs-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return {};
  }
  return pattern;
}

Result<TestJobStore> MakeSqlite(Clock& clock) {
  const fs::path dir = MakeTempDir();
  const std::string path = (dir / "state.db").string();
  FERRY_ASSIGN_OR_RETURN(auto store, jobs::OpenSqliteJobStore(path, clock));
  TestJobStore out;
  out.store = std::move(store);
  out.reopen = [path](Clock& c) { return jobs::OpenSqliteJobStore(path, c); };
  out.cleanup = [dir] {
    std::error_code ec;
    fs::remove_all(dir, ec);
  };
  return out;
}

INSTANTIATE_TEST_SUITE_P(Sqlite, JobStoreConformanceTest,
                         ::testing::Values(JobStoreFactory{"Sqlite", &MakeSqlite}),
                         JobStoreFactoryName);

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = MakeTempDir(); }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  ferry::testing::FakeClock clock_;
};

TEST_F(SqliteJobStoreTest, OpenJobStoreAcceptsPathsAndSqliteUrlsAndMakesFolders) {
  const std::string nested = (dir_ / "a" / "b" / "state.db").string();
  for (const std::string& url : {nested, "sqlite://" + nested}) {
    auto store = jobs::OpenJobStore(url);
    ASSERT_OK(store);
    ASSERT_OK((*store)->CreateRun({"s", "d", ""}));
  }
  EXPECT_TRUE(fs::is_regular_file(nested));
  auto store = jobs::OpenJobStore("sqlite://" + nested);  // the same file: both runs are there
  ASSERT_OK(store);
  auto runs = (*store)->ListRuns(10);
  ASSERT_OK(runs);
  EXPECT_EQ(runs->size(), 2u);
}

TEST_F(SqliteJobStoreTest, RelativeSqliteUrlIsRelativeToTheWorkingDirectory) {
  const fs::path old = fs::current_path();
  fs::current_path(dir_);
  auto store = jobs::OpenJobStore("sqlite://rel/state.db");
  fs::current_path(old);
  ASSERT_OK(store);
  EXPECT_TRUE(fs::is_regular_file(dir_ / "rel" / "state.db"));
}

TEST_F(SqliteJobStoreTest, UsesWriteAheadLogging) {
  const std::string path = (dir_ / "state.db").string();
  ASSERT_OK(jobs::OpenSqliteJobStore(path, clock_));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, nullptr), SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "wal");
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST_F(SqliteJobStoreTest, ANewerSchemaIsRefused) {
  const std::string path = (dir_ / "state.db").string();
  ASSERT_OK(jobs::OpenSqliteJobStore(path, clock_));
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE schema_version SET version = 99", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = jobs::OpenSqliteJobStore(path, clock_);
  EXPECT_CODE(kFailedPrecondition, store);
  EXPECT_NE(store.status().message().find("upgrade ferry"), std::string::npos);
}

TEST_F(SqliteJobStoreTest, AFileThatIsNotADatabaseIsDataLoss) {
  const fs::path path = dir_ / "not.db";
  std::ofstream(path) << std::string(4096, 'x');
  EXPECT_CODE(kDataLoss, jobs::OpenSqliteJobStore(path.string(), clock_));
}

TEST_F(SqliteJobStoreTest, AnUnwritablePlaceIsUnavailable) {
  const fs::path file = dir_ / "file";
  std::ofstream(file) << "x";
  EXPECT_CODE(kUnavailable, jobs::OpenSqliteJobStore((file / "state.db").string(), clock_));
}

TEST(OpenJobStoreTest, MalformedUrlsAreInvalidArgumentWithOneClearLine) {
  for (const char* url :
       {"", "mysql://x", "sqlite://", "postgres:x", "postgres://[::1", "postgres://h:notaport/db",
        "postgresql://h:0/db", "postgres://h/db?nonsense=1", "postgres://%zz@h/db"}) {
    auto store = jobs::OpenJobStore(url);
    EXPECT_CODE(kInvalidArgument, store);
    const std::string& m = store.status().message();
    EXPECT_EQ(m.rfind("malformed state URL", 0), 0u) << url << ": " << m;
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  }
}

TEST(OpenJobStoreTest, MessagesNeverShowThePassword) {
  for (const char* url :
       {"mysql://root:hunter2@db/x", "postgres://u:hunter2@[::1/db",
        "postgres://u:hunter2@h/db?nonsense=1", "postgres://u@h/db?password=hunter2&nonsense=1",
        "postgres://u:hunter2@127.0.0.1:1/db"}) {
    auto store = jobs::OpenJobStore(url);
    ASSERT_FALSE(store.ok()) << url;
    EXPECT_EQ(store.status().message().find("hunter2"), std::string::npos)
        << store.status().message();
  }
}

// Port 1 refuses at once, so this needs no server and fails fast.
TEST(OpenJobStoreTest, UnreachablePostgresIsUnavailableAndNamesTheServer) {
  const auto start = std::chrono::steady_clock::now();
  auto store = jobs::OpenJobStore("postgresql://ferry:secret@127.0.0.1:1/ferrydb");
  EXPECT_CODE(kUnavailable, store);
  EXPECT_EQ(store.status().message().rfind(
                "cannot reach state store postgresql://ferry@127.0.0.1:1/ferrydb: ", 0),
            0u)
      << store.status().message();
  EXPECT_EQ(store.status().message().find('\n'), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(6));
}

}  // namespace
}  // namespace ferry::conformance
