// The "restore" job kind: `ferry restore ... --detach` queued as a run that a `ferry worker`
// serves beside everything else it serves, on its executor and within its budgets
// (docs/design/backup.md, "Restores served by workers").
//
// A restore run's source is the backup location (its canonical text, as the catalog names it),
// its destination the restore's target; it has one job, whose payload is the request
// (RestoreJob). The job selects the catalog's rows as `ferry restore` does
// (restore_select.h; the catalog is in the state database the worker serves), and writes them
// with backup::RestoreEntries behind the job's lease fence. A retry writes again only what is
// not there yet (targets already written are identical and left).
//
// Outcomes: done when every target is written or identical; retried (with backoff) when a
// target could not be looked at, an archive could not be read, or the catalog does not match
// an archive (as any failure, up to the run's attempts); failed at once (dead, shown by `ferry
// jobs dlq`) when targets exist and differ (kept: the request said no --force) or the
// selection finds nothing.
//
// Thread-safety: the handler is shared by every job of its kind (kinds/handler.h).
#pragma once

#include <memory>
#include <string>

#include "backup/restore_select.h"
#include "jobs/kinds/handler.h"

namespace ferry::backup {

inline constexpr char kRestoreKind[] = "restore";
// A restore run's RunOptions::command.
inline constexpr char kRestoreCommand[] = "restore";

struct RestoreJob {
  RestoreSelection selection;
  bool force = false;
  std::string storage_class;
  bool preserve_lock = false;  // --preserve-lock (RestoreOptions::preserve_lock)
};

std::string EncodeRestoreJob(const RestoreJob& job);
Result<RestoreJob> DecodeRestoreJob(const std::string& json);

std::shared_ptr<const jobs::JobHandler> MakeRestoreHandler();

}  // namespace ferry::backup
