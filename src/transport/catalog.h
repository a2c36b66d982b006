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

namespace ferry::transport {

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

  // Whether the archive is recorded.
  Result<bool> HasArchive(std::string_view location, std::string_view archive);

  // The archives of `location`, by key.
  Result<std::vector<CatalogArchive>> Archives(std::string_view location);

  // Removes the archives of `location` (and their entries) whose key is not in `keep`;
  // returns how many.
  Result<uint64_t> ForgetArchivesExcept(std::string_view location,
                                        const std::set<std::string>& keep);

  // The latest entry of each of `keys` at `location` (absent keys have none), in any order.
  Result<std::vector<CatalogEntry>> Latest(std::string_view location,
                                           std::span<const std::string> keys);

  // Every entry of `key` at `location`, newest first.
  Result<std::vector<CatalogEntry>> Versions(std::string_view location, std::string_view key);

  // Every entry of `location` whose key starts with `prefix`, by key then newest first,
  // passed to `visit` (which may stop the walk with an error, returned).
  Status Visit(std::string_view location, std::string_view prefix,
               const std::function<Status(const CatalogEntry&)>& visit);

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

}  // namespace ferry::transport
