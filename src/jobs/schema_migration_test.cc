// A state store of schema version 1 (before started_uploads and uploads.source) is migrated on
// open, keeping its runs and jobs, and then records started uploads.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "jobs/sqlite/sqlite_job_store.h"
#include "testing/fake_clock.h"

namespace ferry::jobs {
namespace {

TEST(SchemaMigrationTest, VersionOneGainsStartedUploads) {
  char tmpl[] = "/tmp/ferry-migration-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  const std::string path = (dir / "state.db").string();
  testing::FakeClock clock;
  JobId job = 0;
  {
    auto store = OpenSqliteJobStore(path, clock);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto run = (*store)->CreateRun({"src", "dst", ""});
    ASSERT_TRUE(run.ok());
    JobSpec spec;
    spec.run = *run;
    auto ids = (*store)->Enqueue({spec});
    ASSERT_TRUE(ids.ok());
    job = ids->at(0);
  }
  // Back to version 1, as an older ferry left it.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TABLE started_uploads; ALTER TABLE uploads DROP COLUMN source;"
                         " ALTER TABLE runs DROP COLUMN phase;"
                         " ALTER TABLE runs DROP COLUMN continuous;"
                         " ALTER TABLE runs DROP COLUMN rescan_interval;"
                         " ALTER TABLE jobs DROP COLUMN region;"
                         " UPDATE runs SET state = 'scanning';"
                         " UPDATE schema_version SET version = 1",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto store = OpenSqliteJobStore(path, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto claimed = (*store)->Claim("w", std::chrono::seconds(60), 1);
  ASSERT_TRUE(claimed.ok() && claimed->size() == 1u);
  EXPECT_EQ((*claimed)[0].job.id, job);
  ASSERT_TRUE((*store)->SaveUpload((*claimed)[0].lease, {"k", "u1", 5, "", {}}).ok());
  auto started = (*store)->ListStartedUploads("dst");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_EQ(started->size(), 1u);
  EXPECT_EQ((*started)[0].upload_id, "u1");
  EXPECT_TRUE((*started)[0].live);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::jobs
