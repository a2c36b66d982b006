// A state store of schema version 1 (before started_uploads, uploads.source and checkpoints per
// key) is migrated on open, keeping its runs, jobs and upload checkpoints, and then records
// started uploads.
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
                         "DROP TABLE started_uploads; DROP TABLE part_checkpoints;"
                         " DROP TABLE upload_checkpoints;"
                         " CREATE TABLE uploads (job BIGINT PRIMARY KEY REFERENCES jobs (id),"
                         " object_key TEXT NOT NULL, upload_id TEXT NOT NULL,"
                         " part_size BIGINT NOT NULL);"
                         " CREATE TABLE parts (job BIGINT NOT NULL REFERENCES uploads (job),"
                         " part_number BIGINT NOT NULL, etag TEXT NOT NULL,"
                         " crc32c BIGINT NOT NULL, size BIGINT NOT NULL,"
                         " PRIMARY KEY (job, part_number));"
                         " INSERT INTO uploads VALUES (1, 'old', 'u0', 5);"
                         " INSERT INTO parts VALUES (1, 1, 'e1', 7, 5);"
                         " ALTER TABLE runs DROP COLUMN phase;"
                         " ALTER TABLE runs DROP COLUMN continuous;"
                         " ALTER TABLE runs DROP COLUMN rescan_interval;"
                         " ALTER TABLE runs DROP COLUMN leases_until;"
                         " ALTER TABLE jobs DROP COLUMN region;"
                         " DROP INDEX jobs_coalesce; ALTER TABLE jobs DROP COLUMN coalesce_key;"
                         " DROP TABLE key_locks;"
                         " ALTER TABLE jobs DROP COLUMN tally_objects;"
                         " ALTER TABLE jobs DROP COLUMN tally_bytes;"
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
  // The checkpoint of version 1 is the job's upload of its key on the run's destination.
  ASSERT_EQ(job, 1);
  auto old = (*store)->LoadUpload(job, {"", "old"});
  ASSERT_TRUE(old.ok()) << old.status().ToString();
  ASSERT_TRUE(old->has_value());
  EXPECT_EQ((*old)->upload_id, "u0");
  ASSERT_EQ((*old)->parts.size(), 1u);
  EXPECT_EQ((*old)->parts[0].crc32c, 7u);
  EXPECT_EQ((*old)->source, "") << "no source pin: never adopted";
  ASSERT_TRUE((*store)->SaveUpload((*claimed)[0].lease, {"k", "u1", 5, "", {}, {}}).ok());
  auto started = (*store)->ListStartedUploads("dst");
  ASSERT_TRUE(started.ok()) << started.status().ToString();
  ASSERT_EQ(started->size(), 1u);
  EXPECT_EQ((*started)[0].upload_id, "u1");
  EXPECT_TRUE((*started)[0].live);
  // Version 9's tally: a job of an older database starts at 0 and adds what Finish says.
  jobs::Outcome done;
  done.tally = {.objects = 2, .bytes = 10};
  ASSERT_TRUE((*store)->Finish((*claimed)[0].lease, done).ok());
  auto counts = (*store)->CountJobs((*claimed)[0].job.spec.run);
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(counts->of((*claimed)[0].job.spec.kind).tally.objects, 2u);
  store->reset();
  std::filesystem::remove_all(dir);
}

// A database as ferry left it before components and phases (schema_version with one row,
// version 3; runs in per-phase states): it opens, becomes component "jobs" at the latest
// version, and keeps its runs and jobs, with "scanning" as phase 0 and "deleting" as phase 1 of "running".
TEST(SchemaMigrationTest, AVersionThreeDatabaseKeepsItsRuns) {
  char tmpl[] = "/tmp/ferry-migration-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir = tmpl;
  const std::string path = (dir / "state.db").string();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* kVersion3 =
      "CREATE TABLE schema_version (version BIGINT NOT NULL);"
      "INSERT INTO schema_version (version) VALUES (3);"
      "CREATE TABLE runs (id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL,"
      " destination TEXT NOT NULL, options TEXT NOT NULL, state TEXT NOT NULL,"
      " created BIGINT NOT NULL, updated BIGINT NOT NULL);"
      "CREATE INDEX runs_by_location ON runs (source, destination);"
      "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, run BIGINT NOT NULL REFERENCES"
      " runs (id), kind TEXT NOT NULL, payload TEXT NOT NULL, objects BIGINT NOT NULL,"
      " bytes BIGINT NOT NULL, max_attempts BIGINT NOT NULL, state TEXT NOT NULL,"
      " attempts BIGINT NOT NULL, last_error TEXT NOT NULL, lease_owner TEXT NOT NULL,"
      " lease_expires BIGINT NOT NULL, not_before BIGINT NOT NULL, created BIGINT NOT NULL,"
      " updated BIGINT NOT NULL);"
      "CREATE INDEX jobs_by_run ON jobs (run);"
      "CREATE TABLE uploads (job BIGINT PRIMARY KEY REFERENCES jobs (id), object_key TEXT NOT"
      " NULL, upload_id TEXT NOT NULL, part_size BIGINT NOT NULL, source TEXT NOT NULL"
      " DEFAULT '');"
      "CREATE TABLE parts (job BIGINT NOT NULL REFERENCES uploads (job), part_number BIGINT NOT"
      " NULL, etag TEXT NOT NULL, crc32c BIGINT NOT NULL, size BIGINT NOT NULL,"
      " PRIMARY KEY (job, part_number));"
      "CREATE TABLE started_uploads (destination TEXT NOT NULL, upload_id TEXT NOT NULL,"
      " object_key TEXT NOT NULL, job BIGINT NOT NULL, run BIGINT NOT NULL, started BIGINT NOT"
      " NULL, finished BIGINT NOT NULL, PRIMARY KEY (destination, upload_id));"
      "INSERT INTO runs VALUES (1, 'a', 'b', '{}', 'scanning', 10, 11);"
      "INSERT INTO runs VALUES (2, 'c', 'd', '{}', 'deleting', 20, 21);"
      "INSERT INTO runs VALUES (3, 'e', 'f', '{}', 'done', 30, 31);"
      "INSERT INTO jobs VALUES (1, 2, 'delete', '{\"keys\":[\"x\"]}', 1, 0, 5, 'queued', 0, '',"
      " '', 0, 22, 20, 22);";
  char* error = nullptr;
  ASSERT_EQ(sqlite3_exec(db, kVersion3, nullptr, nullptr, &error), SQLITE_OK) << error;
  sqlite3_close(db);

  testing::FakeClock clock;
  auto store = OpenSqliteJobStore(path, clock);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto runs = (*store)->ListRuns(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 3u);
  EXPECT_EQ((*runs)[2].spec.source, "a");
  EXPECT_EQ((*runs)[2].state, RunState::kRunning);
  EXPECT_EQ((*runs)[2].phase, 0);
  EXPECT_EQ((*runs)[1].state, RunState::kRunning);
  EXPECT_EQ((*runs)[1].phase, 1);
  EXPECT_EQ((*runs)[0].state, RunState::kDone);
  EXPECT_FALSE((*runs)[1].spec.continuous);
  auto job = (*store)->GetJob(1);
  ASSERT_TRUE(job.ok()) << job.status().ToString();
  EXPECT_EQ(job->spec.kind, kDeleteKind);
  EXPECT_EQ(job->spec.payload, "{\"keys\":[\"x\"]}");
  EXPECT_EQ(job->spec.region, "");
  auto found = (*store)->FindUnfinishedRun("c", "d");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->id, 2);
  store->reset();
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT component, version FROM schema_version", -1, &stmt,
                               nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)), "jobs");
  EXPECT_EQ(sqlite3_column_int64(stmt, 1), 9);  // the latest (schema.cc)
  EXPECT_EQ(sqlite3_step(stmt), SQLITE_DONE) << "one row";
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ferry::jobs
