// CatalogStore: the backup catalog (docs/design/backup.md), kept in the state database
// (component "catalog", SQLite or PostgreSQL through state::SqlSession) like the archive
// progress store (store.h) and the level history (level_store.h).
//
// A backup location keeps ferry archives instead of unpacking them. The catalog says which
// archive, and where in it, holds each backed-up object version: one row per entry of every
// archive (key, source version id, size, ETag, CRC32C, source mtime, archive key, entry index,
// frames, the byte range of its frames in the archive, when it was backed up), and one row per
// archive. An archive and its entries are recorded in one transaction (RecordArchive), so no
// row ever points at an archive that is not complete; an archive on the location without rows
// is one whose pack died before recording it (a later attempt writes it again, or `ferry
// catalog rebuild` adopts it).
//
// Versions: every backup of a key adds a row, earlier ones are kept. The *latest* row of a key
// (as of a time) is the one with the greatest backed-up time (then archive key, then entry
// index: a key packed twice into one archive is its later entry).
//
// Deletions: a backup run whose complete source listing lacks a key the catalog holds as live
// records a *tombstone* (key, time, run). Its scans note such keys as they list
// (NoteGone: pending rows of the run, true facts of one listed interval each); only once every
// scan of the run is done are they made tombstones (CommitGone), so a failed or partial listing
// tombstones nothing. A key is *deleted* as of a time when its newest tombstone at or before
// that time is not older than its newest entry at or before it (SelectVersion); a later backup
// of the key is a new version again.
//
// Retention (catalog_prune.h) forgets versions and tombstones (ForgetRows) and archives none of
// whose entries is kept: their rows go first, the archive is listed as *doomed* in the same
// transaction, then deleted from the location, then forgotten (ForgetDoomed). A crash in
// between leaves a doomed row, never a row pointing into a deleted archive.
//
// Keys are stored as text: PostgreSQL refuses a key that is not valid UTF-8 (a local file
// name of other bytes), SQLite keeps it as it is.
//
// Errors: the session's (kUnavailable when the database cannot be reached, kFailedPrecondition
// for a database written by a newer ferry). Thread-safety: thread-safe (the session is).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "state/sql_session.h"

namespace ferry::backup {

// One backed-up object version: an entry of an archive at a backup location.
struct CatalogEntry {
  std::string location;    // the backup location's text ("remote:bucket/prefix/")
  std::string key;
  std::string version_id;  // the source version packed ("" = unversioned source)
  uint64_t size = 0;
  std::string etag;        // the source's ETag when packed ("" = none: a local file)
  uint32_t crc32c = 0;     // of the object's bytes (checked on restore)
  int64_t mtime_ns = 0;    // the source's modification time (ferry-mtime when it had one)
  std::string archive;     // the archive's key under the location
  uint64_t entry = 0;      // index in the archive's manifest
  uint64_t first_frame = 0;
  uint64_t frame_count = 0;      // 0 for an empty object
  uint64_t offset_in_frame = 0;  // of its first byte in the first frame's decoded bytes
  uint64_t data_offset = 0;      // of its first frame in the archive
  uint64_t data_bytes = 0;       // of its frames in the archive (the ranged read of a restore)
  int64_t backed_up_ms = 0;      // when its archive was recorded (unix ms)
  bool operator==(const CatalogEntry&) const = default;
};

// A key gone from the source: recorded by the backup run `run` at `deleted_ms` (unix ms).
struct Tombstone {
  std::string location;
  std::string key;
  int64_t deleted_ms = 0;
  int64_t run = 0;
  bool operator==(const Tombstone&) const = default;
};

// One archive at a backup location.
struct CatalogArchive {
  std::string location;
  std::string archive;
  uint64_t entries = 0;
  uint64_t archive_bytes = 0;
  int64_t backed_up_ms = 0;
  bool operator==(const CatalogArchive&) const = default;
};

class CatalogStore {
 public:
  // Keys looked up per statement by Latest (a fixed count: one prepared statement).
  static constexpr size_t kLookupBatch = 200;

  // Migrates component "catalog" of `session`'s database; `session` must outlive the store.
  static Result<std::unique_ptr<CatalogStore>> Open(state::SqlSession& session);

  // Records `archive` and its `entries` (all of that archive, location and archive fields as
  // in `archive`) in one transaction, replacing whatever the catalog held for that archive.
  Status RecordArchive(const CatalogArchive& archive, std::span<const CatalogEntry> entries);

  // As RecordArchive, for an archive a backup just packed: its keys' newest state. Its time
  // is `archive.backed_up_ms` raised above every row of its keys already recorded (entries of
  // other archives, tombstones), so that workers whose clocks disagree never make a new version
  // look older than what it replaces. Returns the time recorded.
  Result<int64_t> RecordNewestArchive(const CatalogArchive& archive,
                                      std::span<const CatalogEntry> entries);

  // Whether the archive is recorded.
  Result<bool> HasArchive(std::string_view location, std::string_view archive);

  // The archives of `location`, by key.
  Result<std::vector<CatalogArchive>> Archives(std::string_view location);

  // Removes the archives of `location` (and their entries) whose key is not in `keep`;
  // returns how many.
  Result<uint64_t> ForgetArchivesExcept(std::string_view location,
                                        const std::set<std::string>& keep);

  // The latest entry of each of `keys` at `location` (absent keys, and deleted ones: whose
  // newest row is a tombstone, have none), in any order.
  Result<std::vector<CatalogEntry>> Latest(std::string_view location,
                                           std::span<const std::string> keys);

  // Every entry of `key` at `location`, newest first.
  Result<std::vector<CatalogEntry>> Versions(std::string_view location, std::string_view key);

  // Every entry of `location` whose key starts with `prefix`, by key then newest first,
  // passed to `visit` (which may stop the walk with an error, returned).
  Status Visit(std::string_view location, std::string_view prefix,
               const std::function<Status(const CatalogEntry&)>& visit);

  // --- Deletions (catalog_deletions.cc) ---

  // Keys looked up per statement by LiveKeysBetween.
  static constexpr size_t kRangePage = 500;

  // The keys of `location` in (after, last] (byte order; nullopt `last` = no end) whose newest
  // row is an entry, not a tombstone: what a complete listing of that interval must show. In
  // byte order; pages of kRangePage keys.
  Result<std::vector<std::string>> LiveKeysBetween(std::string_view location,
                                                   std::string_view after,
                                                   const std::optional<std::string>& last);

  // Notes that the listing of backup run `run` lacked `keys` at `seen_ms` (pending until
  // CommitGone). Idempotent: a key noted again by the run (a retried scan) keeps its first row.
  Status NoteGone(std::string_view location, int64_t run, std::span<const std::string> keys,
                  int64_t seen_ms);

  // The runs with keys noted gone at `location`, ascending.
  Result<std::vector<int64_t>> RunsWithGone(std::string_view location);

  // Turns the keys noted gone by `run` into tombstones (run `run`, at the time they were seen,
  // raised above the key's newest entry: a deletion noted by a worker whose clock is behind the
  // packer's still hides the version it found gone) and removes the notes, in one transaction.
  // A key whose newest row is already a tombstone gets none. Returns the tombstones recorded.
  Result<uint64_t> CommitGone(std::string_view location, int64_t run);

  // Removes the notes of `run` without recording them (its listing never completed).
  Status DiscardGone(std::string_view location, int64_t run);

  // The source whose backups `location` holds: recorded by the first call (`source`), returned
  // as recorded by every later one. A backup of another source into the location would record
  // every key of the first as deleted; `ferry backup` refuses it.
  Result<std::string> ClaimSource(std::string_view location, std::string_view source);

  // Records tombstones as they are (tests and CommitGone's rows; replaces equal ones).
  Status RecordTombstones(std::span<const Tombstone> tombstones);

  // The tombstones of `location` whose key starts with `prefix`, by key then newest first.
  Result<std::vector<Tombstone>> Tombstones(std::string_view location, std::string_view prefix);

  // --- Retention (catalog_deletions.cc; the policy is catalog_prune.h) ---

  // In one transaction: removes `entries` and `tombstones` (matched by location, archive,
  // entry, key and time; by location, key and time), and for each of `doomed` that no entry row names any
  // more, its archive row, listing it as doomed (Doomed) instead. Returns the archives listed:
  // one with entries left was recorded (again) by a backup since the caller read the catalog,
  // and stays.
  Result<std::vector<CatalogArchive>> ForgetRows(std::span<const CatalogEntry> entries,
                                                 std::span<const Tombstone> tombstones,
                                                 std::span<const CatalogArchive> doomed);

  // The archives of `location` forgotten by a prune but maybe not yet deleted, by key.
  Result<std::vector<CatalogArchive>> Doomed(std::string_view location);

  // Removes `archive` from the doomed list (it was deleted from the location).
  Status ForgetDoomed(std::string_view location, std::string_view archive);

 private:
  explicit CatalogStore(state::SqlSession& session) : session_(session) {}
  state::SqlSession& session_;
};

// Whether `a` was backed up after `b` (the order that makes a row the latest of its key).
bool NewerThan(const CatalogEntry& a, const CatalogEntry& b);

// The entry of one key a restore takes among `versions` (any order): the one whose version id
// is `version_id` when that is given (the latest such), else the latest backed up at or before
// `at_ms` (0 = no bound). nullopt when none fits.
std::optional<CatalogEntry> PickVersion(std::span<const CatalogEntry> versions,
                                        std::string_view version_id, int64_t at_ms);

// What a restore (or `catalog ls`) sees of one key.
struct Selected {
  std::optional<CatalogEntry> entry;  // PickVersion's choice (none: nothing backed up then)
  // > 0: the key was deleted as of the time asked (a tombstone at or before it, not older than
  // `entry`): when its newest such tombstone was recorded. Never set when a version id is asked.
  int64_t deleted_ms = 0;
};

// The version of one key as of `at_ms` (0 = now) among `versions` and `tombstones` (of that key,
// any order), or the version `version_id` when given (deletions are then not considered).
Selected SelectVersion(std::span<const CatalogEntry> versions,
                       std::span<const Tombstone> tombstones, std::string_view version_id,
                       int64_t at_ms);

}  // namespace ferry::backup
