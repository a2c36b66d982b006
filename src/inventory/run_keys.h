// The keys a run from an S3 Inventory considers (`--source-inventory`, `--dest-inventory`):
// an inventory's rows turned into a lists::KeyStream of keys relative to the run's prefix, for
// lists::SortKeys and the --files-from lookups (app/files_from.h). Rows are claims: only the
// keys are taken from them; every decision is made on each key's current facts, read from the
// store when the run reaches it (storage/find_keys.h).
//
// A row is the "current" listing of its key when it is not a delete marker and is the latest
// version (an unversioned inventory, without an IsLatest column, has only latest rows). Rows
// of older versions and delete markers are skipped (counted), as are rows outside the run's
// prefix (counted): a run under a prefix reads the bucket's whole inventory and uses its part.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "base/status.h"
#include "inventory/manifest.h"
#include "lists/key_list.h"
#include "storage/backend.h"

namespace ferry::inventory {

struct RunKeysStats {
  uint64_t rows = 0;            // rows read
  uint64_t keys = 0;            // keys yielded
  uint64_t not_current = 0;     // rows of older versions and delete markers, skipped
  uint64_t outside_prefix = 0;  // current rows whose key is not under the prefix, skipped
};

// kInvalidArgument in one line when `manifest` is of another bucket than `bucket` (`side`,
// "--source-inventory" or "--dest-inventory", names the flag).
Status CheckInventoryBucket(const Manifest& manifest, const std::string& bucket,
                            const std::string& side);

// Yields the current rows' keys of `rows` that start with `prefix`, the prefix removed (an
// empty remainder, the prefix's own folder marker, is skipped as outside). `rows` must outlive
// the stream. The rows' errors are handed on unchanged. With `whole_rows`, each key comes with
// its row's metadata, as one record (run_rows.h: EncodeRunRow), for a run that plans from the
// rows; a row EncodeRunRow refuses is an error.
class RunKeyStream : public lists::KeyStream {
 public:
  RunKeyStream(storage::ListingCursor& rows, const Manifest& manifest, std::string prefix,
               bool whole_rows = false);
  Result<std::optional<std::string>> Next() override;
  const RunKeysStats& stats() const { return stats_; }

 private:
  storage::ListingCursor& rows_;
  const bool versioned_;  // the schema has IsLatest
  const std::string prefix_;
  const bool whole_rows_;
  RunKeysStats stats_;
};

}  // namespace ferry::inventory
