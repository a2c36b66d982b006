// An S3 Inventory opened from a LOCATION, for `ferry inventory ls` (and, next, the runs that
// list from an inventory): the manifest located (inventory/locate.h), read and checked
// (inventory/manifest.h), and a cursor over its rows (inventory/rows.h).
//
// LOCATION is an S3 location (s3://bucket/key or NAME:bucket/key) or a local path naming
// either a manifest.json or an inventory configuration's prefix
// (<destination-prefix>/<source-bucket>/<configuration-id>), whose newest run is read. The
// store is opened at the bucket's root (a local path: at "/"), since the manifest lists its
// data files by their keys in the destination bucket.
//
// Thread-safety: not thread-safe (start-up); the cursor is used by one thread.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "app/wiring.h"
#include "base/status.h"
#include "inventory/rows.h"
#include "storage/backend.h"

namespace ferry::app {

struct OpenedInventory {
  std::unique_ptr<storage::Backend> store;  // the destination bucket's root (or "/")
  std::string manifest_key;                 // in `store`
  std::unique_ptr<inventory::RowCursor> rows;  // refers to `store`: destroyed first
  ~OpenedInventory() { rows.reset(); }
  OpenedInventory() = default;
  OpenedInventory(OpenedInventory&&) = default;
  OpenedInventory& operator=(OpenedInventory&&) = default;
};

// Opens the inventory `location_text` names. Errors, one line each: a malformed location
// (kInvalidArgument), the store's (Backend::Check), no manifest there (kNotFound), a manifest
// refused (inventory/manifest.h). The data files are read by the cursor's Next.
Result<OpenedInventory> OpenInventory(Wiring& wiring, std::string_view location_text,
                                      inventory::RowsOptions options, std::stop_token stop);

}  // namespace ferry::app
