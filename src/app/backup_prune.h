// One retention pass over a backup location (backup::PruneCatalog at the clock's present), as
// `ferry catalog prune` and serve's scheduled prunes ([[schedules]] command = "catalog-prune")
// run it (docs/design/backup.md, "Retention").
#pragma once

#include <functional>
#include <stop_token>

#include "app/backup_run.h"
#include "backup/catalog.h"
#include "backup/catalog_prune.h"
#include "base/clock.h"
#include "base/status.h"
#include "storage/backend.h"

namespace ferry::app {

// Prunes `location`'s catalog rows outside `policy` and then the archives none of whose entries
// is kept (nothing changed with `dry_run`: the result says what would go). kNotFound, one line,
// when the catalog records nothing at the location (a typo, or another state store), which
// "0 versions dropped" would hide. `clock` gives the present the policy's ages count from.
// `approve`: backup::PruneRequest::approve (e.g. --max-delete).
Result<backup::PruneResult> PruneBackupLocation(
    backup::CatalogStore& catalog, storage::Backend& backend, const BackupLocation& location,
    const backup::RetentionPolicy& policy, bool dry_run, const Clock& clock, std::stop_token stop,
    std::function<Status(const backup::PrunePlan&)> approve = nullptr);

}  // namespace ferry::app
