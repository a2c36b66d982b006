// A backup as `ferry backup` and serve's scheduled backups ([[schedules]] command = "backup")
// queue it (docs/design/backup.md): the backup location's canonical text (the catalog's key for
// it), the run's options checked, the location claimed for its source in the catalog, and the
// deletions of earlier runs settled. Both callers call these; neither holds its own copy.
// Thread-safety: one call per thread (the store's and the wiring's own rules hold).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "app/durable.h"
#include "app/location.h"
#include "app/wiring.h"
#include "backup/catalog.h"
#include "base/status.h"
#include "jobs/job_store.h"

namespace ferry::app {

struct BackupLocation {
  Location location;
  // "remote:bucket/prefix/" or "s3://bucket/prefix/": how the catalog names the location,
  // whatever the spelling on the command line ("rb:b/p" and "rb:b/p/" are one location).
  std::string text;
};

// Parses BACKUP_LOC. kInvalidArgument (exit 2) for a malformed or local location: archives are
// written as multipart uploads, so a backup location is an S3 one.
Result<BackupLocation> ParseBackupLocation(const std::string& text);

// What a backup run is made of: the command's arguments or a schedule's entry.
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
  DurableRunRequest request;  // source, destination and options set; the caller sets the
                              // worker, detach, restart
  std::unique_ptr<backup::CatalogStore> catalog;  // of the store (null: a store without SQL)
};

// Checks `spec` and claims its location for its source in the catalog of `store` (one source
// per backup location: kInvalidArgument when another source's backups are there), and builds
// the request that app::RunDurable queues on `store`. The adaptive level weighs the config's
// [costs] of the link the archives cross (the source's region to the location's). The store's
// catalog is the one `ferry restore --state` of the same store reads.
Result<PreparedBackup> PrepareBackupRun(jobs::JobStore& store, Wiring& wiring,
                                        const BackupRunSpec& spec);

// Keys gone from the source become tombstones once the listing that noted them is complete:
// every scan job of its run done (backup::CatalogStore::CommitGone). Notes of runs that
// ended otherwise (failed, abandoned by --restart, purged) are dropped; those of runs still in
// progress wait. Returns the tombstones recorded for `run` (0: settle the earlier runs only).
Result<uint64_t> SettleDeletions(jobs::JobStore& store, backup::CatalogStore& catalog,
                                 const std::string& location, jobs::RunId run);

}  // namespace ferry::app
