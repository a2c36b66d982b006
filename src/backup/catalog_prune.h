// Retention of a backup location (`ferry catalog prune`, docs/design/backup.md): a policy says
// which object versions of each key to keep; the others are forgotten by the catalog, and an
// archive none of whose entries is kept any more is deleted from the location. Archives that
// still hold a kept entry stay whole (repacking them is not done).
//
// The policy, per key, over its *states* newest first (each version, and each tombstone: the
// key deleted at the source):
//  - the newest version of a live key (newest state a version) is always kept;
//  - keep_last N: the versions among the N newest states (a key deleted at the source counts its
//    deletion as one: with N = 1 nothing of it is kept);
//  - keep_within W: every version that was still the current state at some time within W
//    before now (superseded, or deleted, less than W ago): every point in time of the window
//    can still be restored as it was;
//  - a version either rule keeps is kept; a tombstone is kept while a kept version is older
//    than it (it still hides that version), else forgotten with the versions.
//
// Crash order (PruneCatalog): the rows go first, in one transaction that also lists each
// archive to delete as doomed (CatalogStore::ForgetRows); then each archive is deleted from the
// location and taken off the doomed list. A crash in between leaves a doomed archive that the
// next prune deletes (and `catalog rebuild` leaves alone), never a row pointing into a deleted
// archive.
//
// Beside a backup: a prune may run while a backup of the same location records archives. The
// catalog is read archives first, so an archive is only ever doomed for entries the plan saw
// superseded, and ForgetRows keeps an archive recorded again since (its entries were not
// planned). A prune never deletes what a backup just recorded.
//
// Thread-safety: PlanPrune is pure; PruneCatalog is one call per thread (the catalog and the
// backend may be shared).
#pragma once

#include <functional>
#include <cstdint>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/backend.h"
#include "backup/catalog.h"

namespace ferry::backup {

struct RetentionPolicy {
  uint64_t keep_last = 0;      // the N newest states of each key (0: not this rule)
  int64_t keep_within_ms = 0;  // versions current within this long before now (0: not this rule)
  bool any() const { return keep_last > 0 || keep_within_ms > 0; }
};

// An archive kept whole although some of its entries are dropped.
struct PartlyKept {
  CatalogArchive archive;
  uint64_t dropped_entries = 0;
  uint64_t dropped_bytes = 0;  // the frames of the dropped entries (still stored)
};

struct PrunePlan {
  std::vector<CatalogEntry> dropped;       // versions forgotten
  std::vector<Tombstone> dropped_tombstones;
  std::vector<CatalogArchive> doomed;      // archives none of whose entries is kept: deleted
  std::vector<PartlyKept> partly_kept;
  uint64_t kept = 0;                       // versions kept
  uint64_t doomed_bytes = 0;               // the sizes of the doomed archives
};

// The plan for `entries` and `tombstones` (every row of one location, any order) and its
// `archives`, under `policy`, at `now_ms`. Archives with no entry kept (or none at all) are
// doomed. Dropped rows come by key, newest first; archives by key.
PrunePlan PlanPrune(std::span<const CatalogEntry> entries, std::span<const Tombstone> tombstones,
                    std::span<const CatalogArchive> archives, const RetentionPolicy& policy,
                    int64_t now_ms);

struct PruneResult {
  PrunePlan plan;
  uint64_t archives_deleted = 0;  // of this plan
  uint64_t bytes_freed = 0;
  uint64_t earlier_doomed = 0;    // archives an interrupted prune had forgotten, deleted now
};

// One prune of a backup location (PruneCatalog).
struct PruneRequest {
  std::string location;    // the location's text (its rows in the catalog)
  RetentionPolicy policy;  // which versions are kept
  int64_t now_ms = 0;      // the time the policy counts back from (PlanPrune)
  bool dry_run = false;    // plan only: no row forgotten, no archive deleted
  // When set, checked on the plan before any row is forgotten or archive deleted (a dry run's
  // too): its error ends the prune with nothing of the plan done (`--max-delete`).
  std::function<Status(const PrunePlan&)> approve;
};

// Prunes `request.location` (the text of `backup`): first deletes the archives an earlier
// prune left doomed, then reads the whole catalog of the location, plans (PlanPrune) and,
// unless `request.dry_run`, forgets the rows and deletes the doomed archives (in the crash
// order above). kInvalidArgument when `request.policy` has no rule. Errors: the catalog's and
// the backend's (the first failed archive delete ends the prune; the next one finishes it).
Result<PruneResult> PruneCatalog(CatalogStore& catalog, storage::Backend& backup,
                                 const PruneRequest& request, std::stop_token stop);

}  // namespace ferry::backup
