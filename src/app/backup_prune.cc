// PruneBackupLocation (backup_prune.h).
#include "app/backup_prune.h"

#include <chrono>
#include <utility>

namespace ferry::app {

Result<backup::PruneResult> PruneBackupLocation(
    backup::CatalogStore& catalog, storage::Backend& backend, const BackupLocation& location,
    const backup::RetentionPolicy& policy, bool dry_run, const Clock& clock, std::stop_token stop,
    std::function<Status(const backup::PrunePlan&)> approve) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             clock.Now().time_since_epoch())
                             .count();
  FERRY_ASSIGN_OR_RETURN(
      backup::PruneResult r,
      backup::PruneCatalog(
          catalog, backend,
          {.location = location.text,
           .policy = policy,
           .now_ms = now_ms,
           .dry_run = dry_run,
           .approve = std::move(approve)},
          stop));
  const backup::PrunePlan& plan = r.plan;
  if (plan.kept == 0 && plan.dropped.empty() && plan.dropped_tombstones.empty() &&
      plan.doomed.empty() && r.earlier_doomed == 0) {
    return Status::NotFound(
        "catalog prune: no backup recorded at " + location.text +
        " in this state store (check the location and --state; `ferry catalog rebuild` records "
        "archives made elsewhere)");
  }
  return r;
}

}  // namespace ferry::app
