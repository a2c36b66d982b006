// backup::RestoreEntries: `ferry restore` (docs/design/backup.md). Writes backed-up object
// versions (catalog rows, catalog.h) from the archives of a backup location into a
// destination, reading only what they need:
//  - the targets are looked at first (one Stat each): a target whose size and recorded ferry
//    CRC32C are the entry's is read back, and left as it is (identical) when the CRC32C of its
//    bytes is the catalog's (a ferry-crc32c is a claim: docs/design/integrity.md §8); one that
//    differs is left as it is and reported (kept). `force` writes every target again, also
//    identical ones. Nothing is ever overwritten silently. An empty folder marker ("a/") is skipped where the
//    destination cannot hold one (a local folder: markers_skipped, as sync); a target that
//    cannot be looked at fails that key alone (failures), the others are restored.
//  - the rows still to write are grouped by archive; each archive is opened once and read
//    front to back, but only the frames that hold wanted entries: contiguous frames form one
//    run read with ranged reads of up to 8 MiB (archive::EntryStream over that run), frames
//    between runs are never read. One object costs its archive's opening and its own frames.
//    Opening is two ranged reads (the header; the last 64 KiB, trailer and manifest: a larger
//    manifest is a third), and an archive of at most 1 MiB is read whole by one
//    (archive::kReadAheadToOpen).
//  - every entry is checked (its frames' and its own CRC32C) before the object becomes
//    visible, and written with all its metadata by unpack's write path (unpack.h: PutEntry,
//    WriteLargeEntry above `whole_limit`). Targets are looked at, and small entries PUT, as
//    tasks of the process's executor (unpack's EntryWriters); large ones one at a time.
// A row that does not match its archive's manifest (another key or checksum at that index:
// the catalog is stale) fails with kDataLoss naming the archive.
//
// Errors: the first failure (a missing archive: kNotFound naming it; a corrupt entry:
// kDataLoss; the backends' errors) ends the restore; objects written before it stay (with
// writes in flight, some written after the failed one may stay too; a rerun leaves them as
// identical and writes the rest).
// Thread-safety: one call per thread; backends may be shared (they are used from several).
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "report/row.h"
#include "storage/backend.h"
#include "backup/catalog.h"

namespace ferry::transfer {
class Executor;
}  // namespace ferry::transfer

namespace ferry::backup {

struct RestoreOptions {
  bool force = false;                 // overwrite targets that exist and differ
  std::string storage_class;          // overrides the entries' storage class when not ""
  // Each object written with the retention and legal hold its entry recorded (unpack's
  // UnpackOptions::preserve_lock); the caller checked that the destination has object lock.
  bool preserve_lock = false;
  uint64_t whole_limit = 16ull << 20;  // larger entries go through a chunked write
  uint64_t part_size = 16ull << 20;
  // The process's executor (required): targets are looked at, and small entries written, as
  // its tasks (as many at a time as its concurrency). Not owned.
  transfer::Executor* executor = nullptr;
  // Checked before every write that makes an object visible (unpack's UnpackOptions::
  // before_write): a restore job's lease fence. A failure stops the restore with it.
  std::function<Status()> before_write;
  // The run's per-object report (`ferry restore --report`, docs/design/report.md), or null: one
  // row per entry (RestoreRows below). Added from the executor's tasks. Not owned.
  report::RowSink* report = nullptr;
};

// The rows a restore gives `RestoreOptions::report`, each entry exactly one, with the entry's
// key, source version and size:
//  - written: `copied`/`ok`, checksum `crc32c` (its bytes were checked against the catalog's
//    CRC32C before it became visible);
//  - identical at the target: `skipped`/`skipped`, checksum `crc32c` (the target's bytes read
//    back against it); a folder marker the destination cannot hold: `skipped`, `none`;
//  - a target that differs, kept without `force`: `failed`/`failed`, kAlreadyExists "restore:
//    the target exists and differs (--force overwrites)" (the run exits 1 for it);
//  - a target that could not be looked at: `failed` with its error;
//  - when an error ends the restore, every entry not written yet: `failed` with that error.
namespace restore_rows {
report::Row Written(const CatalogEntry& e);
report::Row Identical(const CatalogEntry& e);
report::Row Marker(const CatalogEntry& e);
report::Row Kept(const CatalogEntry& e);
report::Row Failed(const CatalogEntry& e, const Status& status);
}  // namespace restore_rows

struct RestoreResult {
  uint64_t objects_written = 0;  // overwritten ones included
  uint64_t bytes_written = 0;
  uint64_t overwritten = 0;      // targets that differed, replaced under `force`
  uint64_t identical = 0;        // targets that held the same bytes: not written
  uint64_t kept = 0;             // targets that differ, left as they are (no `force`)
  std::vector<std::string> kept_keys;
  // Empty folder markers ("a/") a destination without them (a local folder) cannot hold:
  // skipped, as sync skips them.
  uint64_t markers_skipped = 0;
  // Keys whose target could not be looked at (or that the destination cannot hold): each
  // with its reason; every other key is restored.
  std::vector<std::pair<std::string, std::string>> failures;
  uint64_t archives_read = 0;
  uint64_t ranged_reads = 0;
  uint64_t bytes_read = 0;       // by those reads (manifests included)
  uint64_t archive_bytes = 0;    // the sizes of the archives read
};

// Restores `entries` (rows of the backup location `backup`, one per key) into `dst` under
// their keys.
Result<RestoreResult> RestoreEntries(storage::Backend& backup,
                                     std::span<const CatalogEntry> entries, storage::Backend& dst,
                                     const RestoreOptions& options, std::stop_token stop);

}  // namespace ferry::backup
