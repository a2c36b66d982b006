// The backup module (docs/design/backup.md), and its front door: backup mode of compressed
// transport, a compressed run whose archives stay at the backup location, recorded in the
// catalog, never unpacked. Its headers:
//  - catalog.h: the backup catalog (CatalogStore, component "catalog" of the state database),
//    its deletions (tombstones) and the rows a prune forgets;
//  - backup.h (this one): the incremental selection against the catalog, an archive's catalog
//    rows, the catalog rebuilt from manifests;
//  - catalog_prune.h: retention (keep-last/keep-within), rows before archives;
//  - restore.h: `ferry restore`, reading only the frames it needs, writing through unpack's
//    write path (transport/unpack_pipeline.h): backup depends on transport, never the reverse.
//
// A backup is a durable run of the usual scan and pack jobs (`jobs::TransportOptions::backup`);
// this header holds what backup adds to them:
//  - the incremental selection: a scan compares each listed source object with the catalog's
//    latest entry of its key (NeedsBackup) and plans only what changed (ChangedObjects), and
//    notes the live keys its listing lacks (deletions, GoneTracking);
//  - the catalog rows of a packed archive, read back from its manifest and recorded in one
//    transaction (RecordBackupArchive), the pack job's last step;
//  - `ferry catalog rebuild`: the catalog recreated from the manifests of the archives found
//    at the location (RebuildCatalog).
//
// Thread-safety: NeedsBackup and CatalogRowsOf are pure; a ChangedObjects cursor is used by one
// thread; the others are one call per thread (backends and the catalog may be shared).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "archive/format.h"
#include "archive/io.h"
#include "base/clock.h"
#include "base/status.h"
#include "backup/catalog.h"
#include "storage/backend.h"

namespace ferry::backup {

struct BackupVerdict {
  bool pack = false;
  std::string_view reason;  // "missing", "size differs", "etag differs", "modified since
                            // backup", "mtime differs", "unchanged"
};

// Whether `listed` (a source listing's entry) must be packed again, given the catalog's
// latest entry of its key (nullptr: never backed up). Unchanged means: same size, and
//  - with ETags on both (S3 sources): the same ETag, and the source not modified after that
//    backup was recorded (its LastModified at or before the entry's backed-up time: a metadata
//    or tag change by a copy onto itself keeps the ETag but not the time);
//  - without (local files): the same modification time in whole seconds (source_mtime()).
BackupVerdict NeedsBackup(const storage::ObjectInfo& listed, const CatalogEntry* latest);

// What a scan tells ChangedObjects so that it notes the keys its listing lacks.
struct GoneTracking {
  int64_t run = 0;          // the backup run (0: nothing is noted)
  std::string start_after;  // the listing covers keys after this one...
  // ...up to what this returns once `inner` has ended (inclusive; nullopt: every key after):
  // the last key listed when the chunk was cut, else the end of the scan's range.
  std::function<std::optional<std::string>()> covered_to;
  // Tells the time a note is taken (unix ms). Null: SystemClock::Default().
  Clock* clock = nullptr;
};

// A listing cursor over `inner` (a scan's source listing, in byte order) that yields only the
// objects NeedsBackup says to pack, looking their keys up in the catalog `kLookupBatch` at a
// time (read ahead of what it yields). Unchanged ones are counted.
//
// With GoneTracking, every interval the listing has covered (after the previous batch's last
// key, up to this batch's last; at the end, up to covered_to()) is compared with the catalog's
// live keys there (LiveKeysBetween): those not listed are noted gone for the run (NoteGone,
// before the batch is yielded), to become tombstones once the whole run's listing is complete.
// An interval is noted only after the listing returned all of it, so a failing listing notes
// only what it really listed around. Keys under a folder the listing could not read or did not
// enter (an unreadable "a/" entry, a symbolic link to a folder: ObjectInfo::not_followed) are
// unknown, not gone: never noted.
class ChangedObjects : public storage::ListingCursor {
 public:
  ChangedObjects(storage::ListingCursor& inner, CatalogStore& catalog, std::string location,
                 GoneTracking gone = {})
      : inner_(inner),
        catalog_(catalog),
        location_(std::move(location)),
        gone_(std::move(gone)),
        covered_(gone_.start_after) {}
  Result<const storage::ObjectInfo*> Next() override;
  uint64_t unchanged() const { return unchanged_; }
  uint64_t noted_gone() const { return noted_gone_; }

 private:
  Status Fill();
  // Notes the live keys of (covered_, to] missing from `listed` (sorted) and moves covered_.
  Status NoteGone(const std::optional<std::string>& to, const std::vector<std::string>& listed);
  storage::ListingCursor& inner_;
  CatalogStore& catalog_;
  const std::string location_;
  const GoneTracking gone_;
  std::string covered_;  // every key up to here has been compared
  std::deque<storage::ObjectInfo> ready_;  // to yield, in listing order
  // Folders listed as unreadable or not followed whose keys may still come in a later
  // interval (dropped once the listing is past them).
  std::vector<std::string> unknown_folders_;
  storage::ObjectInfo current_;
  bool ended_ = false;
  uint64_t unchanged_ = 0;
  uint64_t noted_gone_ = 0;
};

// The catalog rows of the entries of `manifest`, the archive `archive` at `location`.
std::vector<CatalogEntry> CatalogRowsOf(const archive::Manifest& manifest,
                                        const std::string& location, const std::string& archive,
                                        int64_t backed_up_ms);

// Records the archive `row.archive` of `backup` (at `row.location`, `row.archive_bytes` long,
// complete) with its entries in the catalog, from its manifest (one or two ranged reads:
// archive::kReadAheadToOpen), backed up at `row.backed_up_ms`; `row.entries` is the manifest's
// count. Returns the row recorded.
// kDataLoss when it is not a readable archive.
Result<CatalogArchive> RecordBackupArchive(CatalogStore& catalog, storage::Backend& backup,
                                           CatalogArchive row, std::stop_token stop);

struct RebuildResult {
  uint64_t archives = 0;    // recorded
  uint64_t entries = 0;
  uint64_t forgotten = 0;   // archives the catalog had that the location has not
  uint64_t bytes_read = 0;  // ranged reads of headers, trailers and manifests
  std::vector<std::string> failed;  // "key: reason" of archives that could not be read
};

// Recreates the catalog of `location` (the text of `backup`) from the archives found there:
// every "*.fza" object is opened (one or two ranged reads) and recorded with its entries, backed up
// at the archive's LastModified; rows of archives no longer there are removed. An archive that
// cannot be read is listed in `failed` and its rows are left as they were. Archives a prune
// doomed (catalog_prune.h) are left out. Tombstones are not in archives: those the catalog has
// stay; a catalog rebuilt from nothing has none (the next backup records the keys still gone).
Result<RebuildResult> RebuildCatalog(CatalogStore& catalog, storage::Backend& backup,
                                     const std::string& location, std::stop_token stop);

}  // namespace ferry::backup
