// backup::SelectForRestore: which catalog rows a restore writes (docs/design/backup.md): the
// version asked for of one key, or the one of each key under a prefix, as of a time. Used by
// `ferry restore` in its own process and by the restore job kind (kinds/restore_kind.h) that a
// `ferry worker` serves.
//
// Deleted keys (a tombstone as of `at_ms`, or now) are left out of a prefix (counted in
// RestoreRows::deleted_left_out) and refused for one key, unless `include_deleted` (or a
// version id) asks for them.
//
// Errors: kNotFound (nothing backed up that matches, with the reason: never backed up, no such
// version, deleted at the source), the catalog's. Thread-safety: as the catalog's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup/catalog.h"

namespace ferry::backup {

struct RestoreSelection {
  std::string key;     // one key (has_prefix false)
  std::string prefix;  // every key under it (has_prefix true; "" = the whole location)
  bool has_prefix = false;
  std::string version;  // one key's version id; "" = as of at_ms
  int64_t at_ms = 0;    // unix ms; 0 = now
  bool include_deleted = false;
};

struct RestoreRows {
  std::vector<CatalogEntry> rows;  // one per key, in key order
  uint64_t deleted_left_out = 0;   // keys under the prefix deleted as of the time
};

Result<RestoreRows> SelectForRestore(CatalogStore& catalog, const std::string& location,
                                     const RestoreSelection& selection);

// Unix milliseconds as "2026-11-23T01:02:03.456Z".
std::string TimeText(int64_t unix_ms);

}  // namespace ferry::backup
