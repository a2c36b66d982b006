// The JobStore's tables: component "jobs" of the state database (state/migrate.h runs them).
// Each entry of kMigrations takes the component from version i to i + 1.
//
// To change the schema: append a migration, never edit a released one.
#include <string>

#include "jobs/sql/sql_job_store.h"
#include "state/migrate.h"

namespace ferry::jobs::internal {
namespace {

using state::Migration;

// Version 1: runs, jobs, upload checkpoints and their parts.
Status CreateTables(SqlTx& tx, const Dialect& d) {
  const std::string id(d.id_column);
  const std::string statements[] = {
      "CREATE TABLE runs (id " + id +
          ", source TEXT NOT NULL, destination TEXT NOT NULL, options TEXT NOT NULL,"
          " state TEXT NOT NULL, created BIGINT NOT NULL, updated BIGINT NOT NULL)",
      "CREATE INDEX runs_by_location ON runs (source, destination)",
      "CREATE TABLE jobs (id " + id +
          ", run BIGINT NOT NULL REFERENCES runs (id), kind TEXT NOT NULL, payload TEXT NOT NULL,"
          " objects BIGINT NOT NULL, bytes BIGINT NOT NULL, max_attempts BIGINT NOT NULL,"
          " state TEXT NOT NULL, attempts BIGINT NOT NULL, last_error TEXT NOT NULL,"
          " lease_owner TEXT NOT NULL, lease_expires BIGINT NOT NULL, not_before BIGINT NOT NULL,"
          " created BIGINT NOT NULL, updated BIGINT NOT NULL)",
      // Claim walks one of these in id order, past neither finished nor parked jobs (see
      // ClaimSql in enqueue_claim.cc).
      "CREATE INDEX jobs_runnable ON jobs (id) WHERE " + RunnableIndexPredicate(),
      "CREATE INDEX jobs_runnable_by_run ON jobs (run, id) WHERE " + RunnableIndexPredicate() +
          " AND run > 0",
      // For CountJobs, ListJobs and deleting runs. Not on state: every state change would
      // rewrite it, and SQLite would pick an index on state for Claim and sort its result.
      "CREATE INDEX jobs_by_run ON jobs (run)",
      "CREATE TABLE uploads (job BIGINT PRIMARY KEY REFERENCES jobs (id), object_key TEXT NOT NULL,"
      " upload_id TEXT NOT NULL, part_size BIGINT NOT NULL)",
      "CREATE TABLE parts (job BIGINT NOT NULL REFERENCES uploads (job),"
      " part_number BIGINT NOT NULL, etag TEXT NOT NULL, crc32c BIGINT NOT NULL,"
      " size BIGINT NOT NULL, PRIMARY KEY (job, part_number))",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

// Version 2: the uploads ferry started, by destination. A row outlives its job (no foreign
// key): the unfinished upload of a purged job is exactly what the clean-up must find. finished
// is 0 until the upload completed or was aborted.
Status AddStartedUploads(SqlTx& tx, const Dialect& d) {
  (void)d;
  const std::string statements[] = {
      "CREATE TABLE started_uploads (destination TEXT NOT NULL, upload_id TEXT NOT NULL,"
      " object_key TEXT NOT NULL, job BIGINT NOT NULL, run BIGINT NOT NULL,"
      " started BIGINT NOT NULL, finished BIGINT NOT NULL, PRIMARY KEY (destination, upload_id))",
      // ClearUpload finds a job's unfinished upload.
      "CREATE INDEX started_uploads_unfinished ON started_uploads (job) WHERE finished = 0",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

// Version 3: which version of the source an upload's parts came from (ETag, version id, size,
// mtime): checkpoints of an earlier schema have none and are never adopted.
Status AddUploadSource(SqlTx& tx, const Dialect& d) {
  (void)d;
  return tx.Exec("ALTER TABLE uploads ADD COLUMN source TEXT NOT NULL DEFAULT ''").status();
}

// Version 4: kinds are handlers with phases (docs/design/job-kinds.md). A run records the
// phase it reached instead of a state per phase ("scanning"/"transferring" are phase 0,
// "deleting" phase 1, all now "running"), and may be continuous; a job may name a region.
Status AddPhasesAndRegions(SqlTx& tx, const Dialect& d) {
  (void)d;
  const std::string statements[] = {
      "ALTER TABLE runs ADD COLUMN phase BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE runs ADD COLUMN continuous BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE runs ADD COLUMN rescan_interval BIGINT NOT NULL DEFAULT 0",
      "UPDATE runs SET phase = 1 WHERE state = 'deleting'",
      "UPDATE runs SET state = 'running' WHERE state IN ('scanning', 'transferring', 'deleting')",
      "ALTER TABLE jobs ADD COLUMN region TEXT NOT NULL DEFAULT ''",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

// Version 5: when a job recorded that it was about to create an upload (upload_id still '').
Status AddUploadCreating(SqlTx& tx, const Dialect& d) {
  (void)d;
  return tx.Exec("ALTER TABLE uploads ADD COLUMN creating BIGINT NOT NULL DEFAULT 0").status();
}

// Version 6: until when the jobs of an abandoned run may still be at work (the latest lease
// they held when AbandonRun removed them): a new pass of its source waits for it.
Status AddRunLeasesUntil(SqlTx& tx, const Dialect& d) {
  (void)d;
  return tx.Exec("ALTER TABLE runs ADD COLUMN leases_until BIGINT NOT NULL DEFAULT 0").status();
}

// Version 7: a job may checkpoint several uploads, one per (destination, object key): a
// replicate-keys job writes the parts of several large versions at once, to the destinations
// of its rules. The checkpoints of earlier versions move over with destination '' (the run's).
Status AddUploadsPerKey(SqlTx& tx, const Dialect& d) {
  (void)d;
  const std::string statements[] = {
      "CREATE TABLE upload_checkpoints (job BIGINT NOT NULL REFERENCES jobs (id),"
      " destination TEXT NOT NULL, object_key TEXT NOT NULL, upload_id TEXT NOT NULL,"
      " part_size BIGINT NOT NULL, source TEXT NOT NULL, creating BIGINT NOT NULL,"
      " PRIMARY KEY (job, destination, object_key))",
      "CREATE TABLE part_checkpoints (job BIGINT NOT NULL, destination TEXT NOT NULL,"
      " object_key TEXT NOT NULL, part_number BIGINT NOT NULL, etag TEXT NOT NULL,"
      " crc32c BIGINT NOT NULL, size BIGINT NOT NULL,"
      " PRIMARY KEY (job, destination, object_key, part_number),"
      " FOREIGN KEY (job, destination, object_key)"
      " REFERENCES upload_checkpoints (job, destination, object_key))",
      "INSERT INTO upload_checkpoints (job, destination, object_key, upload_id, part_size,"
      " source, creating) SELECT job, '', object_key, upload_id, part_size, source, creating"
      " FROM uploads",
      "INSERT INTO part_checkpoints (job, destination, object_key, part_number, etag, crc32c,"
      " size) SELECT p.job, '', u.object_key, p.part_number, p.etag, p.crc32c, p.size"
      " FROM parts p JOIN uploads u ON u.job = p.job",
      "DROP TABLE parts",
      "DROP TABLE uploads",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

// Version 8: event-driven work. A job may name a coalesce key: a queued job of its run with the
// same key already covers it (an event for a key whose job has not started yet adds nothing).
// Key locks: the keys a job is writing, held by its lease, so that two jobs (an event's and a
// scan's) never write one key at once.
Status AddCoalesceAndKeyLocks(SqlTx& tx, const Dialect& d) {
  (void)d;
  const std::string statements[] = {
      "ALTER TABLE jobs ADD COLUMN coalesce_key TEXT NOT NULL DEFAULT ''",
      "CREATE INDEX jobs_coalesce ON jobs (run, coalesce_key)"
      " WHERE coalesce_key <> '' AND state = 'queued'",
      "CREATE TABLE key_locks (scope TEXT NOT NULL, object_key TEXT NOT NULL,"
      " job BIGINT NOT NULL, attempt BIGINT NOT NULL, PRIMARY KEY (scope, object_key))",
      "CREATE INDEX key_locks_by_job ON key_locks (job)",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

// Version 9: a job's tally, what its committed attempts did (Outcome::tally): the work of kinds
// known only as they run (a cache warm's copies), which objects/bytes (set at enqueue) cannot say.
Status AddJobTally(SqlTx& tx, const Dialect& d) {
  (void)d;
  const std::string statements[] = {
      "ALTER TABLE jobs ADD COLUMN tally_objects BIGINT NOT NULL DEFAULT 0",
      "ALTER TABLE jobs ADD COLUMN tally_bytes BIGINT NOT NULL DEFAULT 0",
  };
  for (const std::string& sql : statements) {
    FERRY_RETURN_IF_ERROR(tx.Exec(sql).status());
  }
  return Status::Ok();
}

constexpr Migration kMigrations[] = {&CreateTables,        &AddStartedUploads,
                                     &AddUploadSource,     &AddPhasesAndRegions,
                                     &AddUploadCreating,   &AddRunLeasesUntil,
                                     &AddUploadsPerKey,    &AddCoalesceAndKeyLocks,
                                     &AddJobTally};

}  // namespace

Status SqlJobStore::Migrate() {
  return state::Migrate(*session_, state::Component{.name = "jobs", .migrations = kMigrations});
}

}  // namespace ferry::jobs::internal

namespace ferry::jobs::internal {

Result<std::unique_ptr<JobStore>> SqlJobStore::Open(std::unique_ptr<SqlSession> session,
                                                    Clock& clock) {
  std::unique_ptr<SqlJobStore> store(new SqlJobStore(std::move(session), clock));
  FERRY_RETURN_IF_ERROR(store->Migrate());
  return std::unique_ptr<JobStore>(std::move(store));
}

}  // namespace ferry::jobs::internal
