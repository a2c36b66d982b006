// The rows of an S3 Inventory, read file after file as a storage::ListingCursor of ObjectInfo
// (key decoded, version id, size, ETag, last modified, storage class, is-latest, delete
// marker: csv_row.h), in the inventory's order: nothing promises key order within or across
// its files.
//
// No row of a damaged file is handed on. Each data file is first copied from the store to an
// unlinked temporary file on local disk (the spool), its bytes counted and hashed as they pass
// (MD5, the manifest's MD5checksum; the size, the manifest's size); only a file whose size and
// MD5 match is then decoded (gzip, found by its magic bytes: lists/line_source.h) and parsed.
// A mismatch fails the cursor (kDataLoss naming the file, both digests) before any row of that
// file is returned. A file that does not decode (a truncated or corrupt gzip that still has
// the MD5 the manifest says: a damaged inventory) fails when the reader reaches the damage,
// after its earlier rows were returned: a caller that must not act on part of an inventory
// reads it to its end first (as a sorted merge does, which sorts it before planning).
//
// A row that cannot be read (a bad %-escape in its key, a Size that is not a number, a field
// count other than fileSchema's, an unclosed quote) is an error, not a skip: "<file> row N:
// <reason>", kInvalidArgument, and the cursor stops. A skipped row would be a key that a run
// from the inventory silently leaves out.
//
// Memory: one range buffer (RowsOptions::range_bytes, 1 MiB) while spooling, then the line
// reader's buffers (128 KiB and one line, at most 64 KiB) and one row: bounded whatever the
// file or row count. Local disk: one data file (compressed, as stored) at a time.
//
// Thread-safety: one thread at a time (a ListingCursor).
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"
#include "inventory/manifest.h"
#include "storage/backend.h"

namespace ferry::inventory {

struct RowsOptions {
  // Where data files are spooled (unlinked at once: nothing is left behind). "": $TMPDIR, else
  // /tmp.
  std::string spool_dir;
  size_t range_bytes = 1u << 20;  // bytes per read from the store
};

struct RowsStats {
  uint64_t files = 0;  // data files read and verified so far
  uint64_t rows = 0;   // rows returned so far
  uint64_t bytes = 0;  // bytes of data files read (as stored)
};

// The key in `store` of a data file the manifest at `manifest_key` lists. The manifest's keys
// are keys of the destination bucket; `store` may be rooted elsewhere (a local copy of the
// bucket, a folder above it): the root is found from the manifest's own key, which ends in
// <source-bucket>/<configuration-id>/<run>/manifest.json as the data file's key has
// <source-bucket>/<configuration-id>/ in it. Where that cannot be found, the key as listed.
std::string DataFileKey(std::string_view manifest_key, const Manifest& manifest,
                        const DataFile& file);

class RowCursor : public storage::ListingCursor {
 public:
  // A cursor over the rows of `manifest` (read at `manifest_key` of `store`, which must outlive
  // the cursor). No I/O until the first Next.
  RowCursor(storage::Backend& store, std::string manifest_key, Manifest manifest,
            RowsOptions options, std::stop_token stop);
  ~RowCursor() override;

  // The next row, nullptr after the last row of the last file. Errors are final.
  Result<const storage::ObjectInfo*> Next() override;

  const Manifest& manifest() const { return manifest_; }
  const RowsStats& stats() const { return stats_; }

 private:
  struct OpenFile;
  // Spools and checks manifest_.files[next_file_], and opens its lines.
  Status OpenNextFile();

  storage::Backend& store_;
  const std::string manifest_key_;
  const Manifest manifest_;
  const RowsOptions options_;
  std::stop_token stop_;
  std::unique_ptr<OpenFile> file_;
  size_t next_file_ = 0;
  storage::ObjectInfo row_;
  RowsStats stats_;
  Status error_;
};

}  // namespace ferry::inventory
