// A dry run's estimate of the requests a run would send (docs/design/cost.md, "--dry-run"):
// the one estimator that `sync|cp|move --dry-run`, `replicate --dry-run` and
// `restore --dry-run` share. The caller plans (what to copy, delete, restore) without sending a
// write; these functions turn the plan into requests by op class and bytes out per store,
// which store_prices.h prices.
//
// Stores are named by the label their requests are counted under (the config's remote, "s3"
// for s3:// without one); "" is a store that sends no requests (a local folder): not counted.
// Not foreseen: multipart parts (one PUT per object), the HEADs a run sends to check what it
// wrote, retries.
//
// Thread-safety: pure functions over values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "estimate/store_prices.h"

namespace ferry::estimate {

// The usage of each store by its label.
using StoreUsages = std::map<std::string, StoreUsage>;

// Copies and deletes planned between two stores.
struct PlannedCopies {
  std::string from;              // the source's label
  std::string to;                // the destination's label
  uint64_t objects = 0;          // objects to copy
  uint64_t bytes = 0;            // their bytes
  uint64_t deletes = 0;          // objects to delete at the destination
  uint64_t source_deletes = 0;   // objects to delete at the source (a move)
};

// Adds to `usages` what `plan` sends: per object a CopyObject at the destination when source
// and destination are one store, else a GetObject at the source (its bytes out) and a
// PutObject at the destination; a DeleteObject per delete.
void AddPlannedCopies(StoreUsages& usages, const PlannedCopies& plan);

// The part of one archive an object to restore is read from (backup/catalog.h CatalogEntry).
struct PlannedArchiveRead {
  std::string archive;       // the archive's key
  uint64_t data_offset = 0;  // of the object's frames in the archive
  uint64_t data_bytes = 0;   // of its frames
};

// Objects to restore from a backup location's archives into a destination.
struct PlannedRestore {
  std::string from;  // the backup location's label
  std::string to;    // the destination's label
  std::vector<PlannedArchiveRead> reads;  // one per object
  // The archives' sizes (backup/catalog.h CatalogArchive), where the catalog knows them.
  std::map<std::string, uint64_t> archive_bytes;
};

// The ranged reads backup::RestoreEntries makes (backup/restore.h, archive::kReadAheadToOpen):
// the largest range it reads at once, the tail read when opening an archive (its trailer and
// manifest), and the size below which an archive is read whole by one GET.
inline constexpr uint64_t kRestoreRangeBytes = 8ull << 20;
inline constexpr uint64_t kRestoreOpenTailBytes = 64ull << 10;
inline constexpr uint64_t kRestoreWholeBelow = 1ull << 20;

// Adds to `usages` what restoring `plan` sends, as backup::RestoreEntries reads: at the
// destination a HEAD per object (its target looked at) and a PUT per object (every target
// assumed absent); at the backup location per archive a HEAD, then one GET of the whole archive
// when it is known to be under 1 MiB, else two ranged GETs opening it (header, and the last
// 64 KiB: counted as bytes out) and per run of contiguous frames of wanted objects one GET per
// 8 MiB of the run (its bytes out).
void AddPlannedRestore(StoreUsages& usages, const PlannedRestore& plan);

}  // namespace ferry::estimate
