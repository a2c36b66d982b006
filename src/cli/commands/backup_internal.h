// What `ferry backup` (backup.cc), `ferry restore` (restore.cc) and `ferry catalog`
// (catalog.cc, catalog_prune.cc) share: the state store that holds a backup location's catalog,
// and times on the command line. The location itself, a backup's run and a prune are app's
// (app/backup_run.h, app/backup_prune.h), which serve's schedules call too.
// docs/design/backup.md.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>

#include "app/backup_run.h"
#include "app/location.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "base/status.h"
#include "jobs/job_store.h"
#include "state/sql_session.h"
#include "backup/catalog.h"
#include "backup/restore_select.h"

namespace ferry::cli {

// The backup location and a backup's run (app/backup_run.h), shared with serve's schedules.
using app::BackupLocation;
using app::BackupRunSpec;
using app::ParseBackupLocation;

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
  std::string max_delete;  // --max-delete N|P%: of the versions the catalog holds
};
int RunCatalogPrune(const PruneArgs& args, Context& ctx);

}  // namespace ferry::cli
