// ferry move's flags and --backup-dir/--suffix (ferry cp, sync, move): registered and checked
// here, so that copy.cc only wires them in. The work is transfer's: transfer/move_source.h
// (the source deletes) and transfer/backup_dir.h (the backups); docs/design/guards.md.
#pragma once

#include <memory>
#include <stop_token>
#include <string>

#include <CLI/CLI.hpp>

#include "app/location.h"
#include "app/wiring.h"
#include "base/status.h"
#include "storage/backend.h"
#include "transfer/sync.h"

namespace ferry::cli {

struct BackupDirArgs {
  std::string dir;     // --backup-dir LOCATION ("" = none)
  std::string suffix;  // --suffix TEXT, appended to each key kept there
};

void AddBackupDirOptions(CLI::App* cmd, BackupDirArgs& args);

// The backup location, opened and checked (null without --backup-dir). kInvalidArgument, one
// line naming the flag: --suffix without --backup-dir, a location that cannot copy from the
// destination on the server (another store, another remote or a folder), or one that overlaps
// the destination's prefix. Its Check's error otherwise. A durable run records the location
// (jobs::RunOptions::backup_dir) and its workers open it again.
Result<std::unique_ptr<storage::Backend>> OpenBackupDir(const BackupDirArgs& a,
                                                        const app::Location& dst_loc,
                                                        storage::Backend& dst,
                                                        app::Wiring& wiring,
                                                        std::stop_token stop);

// ferry move's own flags: --max-delete (of source objects) and --delete-empty-src-dirs (a local
// source's folders the move emptied are removed, deepest first, never the source folder
// itself nor one that still holds anything; without it they all stay, as with rclone; an
// object-store source has no folders, so the flag changes nothing there). The flag takes effect
// through the wiring the command opens the source with (app::WiringOptions::
// local_remove_emptied_folders), as the source's deletes are made.
void AddMoveOptions(CLI::App* cmd, std::string& max_delete, bool& delete_empty_src_dirs);

// What ferry move asks of the flags it shares with cp (one kInvalidArgument line otherwise): no
// --size-only (a move deletes only what a checksum proved); a durable move (`durable`: --state
// or --detach; without them a move runs in memory, and a rerun resumes it) takes no --compress
// yet. Sets `out`'s move, its --checksum comparison and
// the --max-delete of its source deletes.
struct MoveFlags {
  std::string max_delete;
  bool durable = false;
  bool size_only = false;
  bool compress = false;
};
Status ApplyMoveFlags(const MoveFlags& flags, transfer::SyncOptions& out);

// A move between overlapping locations (one inside the other) is refused in one line, as
// rclone's: the source listing would see the copies and move them again, deleting the first.
Status CheckMoveLocations(const app::Location& src, const app::Location& dst);

}  // namespace ferry::cli
