// What `ferry backup` (backup.cc), `ferry restore` (restore.cc) and `ferry catalog`
// (catalog.cc, catalog_prune.cc) share: the backup location's canonical text (the catalog's
// key for it), the state store that holds its catalog, and times on the command line.
// docs/design/backup.md.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include "app/durable.h"
#include "app/location.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "base/status.h"
#include "jobs/job_store.h"
#include "state/sql_session.h"
#include "backup/catalog.h"
#include "backup/catalog_prune.h"
#include "backup/restore_select.h"

namespace ferry::cli {

struct BackupLocation {
  app::Location location;
  // "remote:bucket/prefix/" or "s3://bucket/prefix/": how the catalog names the location,
  // whatever the spelling on the command line ("rb:b/p" and "rb:b/p/" are one location).
  std::string text;
};

// Parses BACKUP_LOC. kInvalidArgument (exit 2) for a malformed or local location: archives are
// written as multipart uploads, so a backup location is an S3 one.
Result<BackupLocation> ParseBackupLocation(const std::string& text);

// The state store that holds the catalog of `location`: `state_flag` when given, else the
// automatic SQLite file StateDir()/run-<hash of "backup" and the location>.db. Unlike a
// cp/sync run's file it is never removed: the catalog is what restores read.
std::string BackupStateUrl(const std::string& state_flag, const BackupLocation& location);

// The catalog in the state store at `url` (opened, migrated).
struct OpenedCatalog {
  std::unique_ptr<state::SqlSession> session;
  std::unique_ptr<backup::CatalogStore> store;
};
Result<OpenedCatalog> OpenCatalog(const std::string& url);

// What `catalog rebuild` and `catalog prune` work on: the config at `config_path`, the backup
// location `location_text` with its backend (checked: an error names the "backup location")
// and its catalog (`state_flag`, else the automatic file). The backend is destroyed before the
// wiring that made it.
struct OpenedBackup {
  BackupLocation location;
  std::unique_ptr<app::Wiring> wiring;
  std::unique_ptr<storage::Backend> backend;
  OpenedCatalog catalog;
};
Result<OpenedBackup> OpenBackup(const std::string& config_path, const std::string& location_text,
                                const std::string& state_flag, std::stop_token stop);

// Queueing a backup (backup_queue.cc): what `ferry backup SRC BACKUP_LOC` and serve's
// scheduled backups ([[schedules]] command = "backup") share.
struct BackupRunSpec {
  std::string source;        // SRC as written
  std::string location;      // BACKUP_LOC as written
  int compress_level = 0;    // --compress-level: 1..19, 0 = adaptive per content class
  std::string archive_size;  // --archive-size: raw bytes per archive, 1MiB..4GiB ("": 64MiB)
  int max_attempts = 5;      // --max-attempts: at least 1
};
// The run options of a backup of `spec` (command "backup", archives kept, no unpack jobs).
// kInvalidArgument naming the flag for an option out of range.
Result<jobs::RunOptions> BackupRunOptions(const BackupRunSpec& spec);
struct PreparedBackup {
  BackupLocation location;
  app::DurableRunRequest request;  // source, destination and options set; the caller sets
                                   // the worker, detach, restart
  std::unique_ptr<backup::CatalogStore> catalog;  // of the store (null: a store without SQL)
};
// Checks `spec` and claims its location for its source in the catalog of `store` (one source
// per backup location: kInvalidArgument when another source's backups are there), and builds
// the request that app::RunDurable queues on `store`. The store's catalog is the one `ferry
// restore --state` of the same store reads.
Result<PreparedBackup> PrepareBackupRun(jobs::JobStore& store, app::Wiring& wiring,
                                        const BackupRunSpec& spec);
// Keys gone from the source become tombstones once the listing that noted them is complete:
// every scan job of its run done (backup::CatalogStore::CommitGone). Notes of runs that
// ended otherwise (failed, abandoned by --restart, purged) are dropped; those of runs still in
// progress wait. Returns the tombstones recorded for `run` (0: settle the earlier runs only).
Result<uint64_t> SettleDeletions(jobs::JobStore& store, backup::CatalogStore& catalog,
                                 const std::string& location, jobs::RunId run);

// A time on the command line (--at): "2026-11-23T01:02:03Z" (optionally with a fraction of a
// second, or a space for the T; always UTC) or unix seconds ("1763859723" or "1763859723.5").
// Unix milliseconds. kInvalidArgument naming `flag` otherwise.
Result<int64_t> ParseTimeMs(const std::string& text, const char* flag);

// Unix milliseconds as "2026-11-23T01:02:03.456Z".
using backup::TimeText;

// `ferry catalog prune` (catalog_prune.cc), registered by catalog.cc.
struct PruneArgs {
  std::string location;
  std::string state;
  uint64_t keep_last = 0;
  std::string keep_within;
  bool dry_run = false;
  bool json = false;
};
int RunCatalogPrune(const PruneArgs& args, Context& ctx);
// One prune of `location` (backup::PruneCatalog at the present time), as `ferry catalog prune`
// and serve's scheduled prunes ([[schedules]] command = "catalog-prune") run it. kNotFound, one
// line, when the catalog records nothing at the location (a typo, or another state store).
Result<backup::PruneResult> PruneBackupLocation(backup::CatalogStore& catalog,
                                                storage::Backend& backend,
                                                const BackupLocation& location,
                                                const backup::RetentionPolicy& policy,
                                                bool dry_run, std::stop_token stop);

}  // namespace ferry::cli
