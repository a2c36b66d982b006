// Backup mode's side of a run: the incremental selection and the catalog rows of a packed
// archive (contracts in backup.h).
#include "backup/backup.h"

#include <algorithm>
#include <chrono>
#include <map>

#include "archive/backend_io.h"
#include "archive/reader.h"

namespace ferry::backup {
namespace {

bool SameEtag(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if ((a[i] | 0x20) != (b[i] | 0x20)) return false;  // hex: case-insensitive
  }
  return true;
}

int64_t Millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

int64_t WholeSeconds(int64_t ns) {
  return std::chrono::floor<std::chrono::seconds>(std::chrono::nanoseconds(ns)).count();
}

}  // namespace

BackupVerdict NeedsBackup(const storage::ObjectInfo& listed, const CatalogEntry* latest) {
  if (latest == nullptr) return {true, "missing"};
  if (listed.size != latest->size) return {true, "size differs"};
  if (!listed.etag.empty() && !latest->etag.empty()) {
    if (!SameEtag(listed.etag, latest->etag)) return {true, "etag differs"};
    if (Millis(listed.mtime) > latest->backed_up_ms) return {true, "modified since backup"};
    return {false, "unchanged"};
  }
  const int64_t listed_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                listed.source_mtime().time_since_epoch())
                                .count();
  if (WholeSeconds(listed_ns) != WholeSeconds(latest->mtime_ns)) return {true, "mtime differs"};
  return {false, "unchanged"};
}

Status ChangedObjects::Fill() {
  while (ready_.empty() && !ended_) {
    std::vector<storage::ObjectInfo> batch;
    while (batch.size() < CatalogStore::kLookupBatch) {
      FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, inner_.Next());
      if (o == nullptr) {
        ended_ = true;
        break;
      }
      batch.push_back(*o);
    }
    if (batch.empty()) {
      if (ended_) FERRY_RETURN_IF_ERROR(NoteGone(gone_.covered_to ? gone_.covered_to()
                                                                  : std::nullopt, {}));
      break;
    }
    std::vector<std::string> keys;
    keys.reserve(batch.size());
    for (const auto& o : batch) {
      keys.push_back(o.key);
      if (o.key.ends_with('/') && (o.not_followed || !o.unreadable.empty())) {
        unknown_folders_.push_back(o.key);
      }
    }
    FERRY_RETURN_IF_ERROR(NoteGone(keys.back(), keys));
    if (ended_) {
      FERRY_RETURN_IF_ERROR(NoteGone(gone_.covered_to ? gone_.covered_to() : std::nullopt, {}));
    }
    FERRY_ASSIGN_OR_RETURN(std::vector<CatalogEntry> latest, catalog_.Latest(location_, keys));
    std::map<std::string_view, const CatalogEntry*> by_key;
    for (const CatalogEntry& e : latest) by_key[e.key] = &e;
    for (storage::ObjectInfo& o : batch) {
      auto it = by_key.find(o.key);
      // An unreadable entry is handed on: its pack fails and says why (never skipped).
      if (o.unreadable.empty() &&
          !NeedsBackup(o, it == by_key.end() ? nullptr : it->second).pack) {
        ++unchanged_;
        continue;
      }
      ready_.push_back(std::move(o));
    }
  }
  return Status::Ok();
}

Status ChangedObjects::NoteGone(const std::optional<std::string>& to,
                                const std::vector<std::string>& listed) {
  if (gone_.run == 0) return Status::Ok();
  if (to && *to <= covered_) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(std::vector<std::string> live,
                         catalog_.LiveKeysBetween(location_, covered_, to));
  std::vector<std::string> missing;
  for (std::string& key : live) {
    if (std::binary_search(listed.begin(), listed.end(), key)) continue;
    const bool unknown =
        std::any_of(unknown_folders_.begin(), unknown_folders_.end(),
                    [&](const std::string& folder) { return key.starts_with(folder); });
    if (!unknown) missing.push_back(std::move(key));
  }
  const Clock& clock = ClockOr(gone_.clock);
  const int64_t now = Millis(clock.Now());
  FERRY_RETURN_IF_ERROR(catalog_.NoteGone(location_, gone_.run, missing, now));
  noted_gone_ += missing.size();
  covered_ = to ? *to : covered_;
  // Every key still to come is after `to`: a folder `to` is past holds none of them.
  if (to) {
    std::erase_if(unknown_folders_, [&](const std::string& folder) {
      return *to > folder && !to->starts_with(folder);
    });
  }
  return Status::Ok();
}

Result<const storage::ObjectInfo*> ChangedObjects::Next() {
  FERRY_RETURN_IF_ERROR(Fill());
  if (ready_.empty()) return static_cast<const storage::ObjectInfo*>(nullptr);
  current_ = std::move(ready_.front());
  ready_.pop_front();
  return &current_;
}

std::vector<CatalogEntry> CatalogRowsOf(const archive::Manifest& manifest,
                                        const std::string& location, const std::string& archive,
                                        int64_t backed_up_ms) {
  std::vector<CatalogEntry> rows;
  rows.reserve(manifest.entries.size());
  for (size_t i = 0; i < manifest.entries.size(); ++i) {
    const archive::Entry& e = manifest.entries[i];
    CatalogEntry row;
    row.location = location;
    row.key = e.header.key;
    row.version_id = e.header.version_id;
    row.size = e.header.size;
    row.etag = e.header.etag;
    row.crc32c = e.crc32c;
    row.mtime_ns = e.header.mtime_ns;
    row.archive = archive;
    row.entry = i;
    row.first_frame = e.first_frame;
    row.frame_count = e.frame_count;
    row.offset_in_frame = e.offset_in_frame;
    if (e.frame_count > 0) {
      row.data_offset = manifest.frames[e.first_frame].offset;
      for (uint32_t f = e.first_frame; f < e.first_frame + e.frame_count; ++f) {
        row.data_bytes += manifest.frames[f].stored_size;
      }
    }
    row.backed_up_ms = backed_up_ms;
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<CatalogArchive> RecordBackupArchive(CatalogStore& catalog, storage::Backend& backup,
                                           CatalogArchive row, std::stop_token stop) {
  archive::BackendRangeSource source(backup, row.archive, row.archive_bytes, stop,
                                     archive::kReadAheadToOpen);
  FERRY_ASSIGN_OR_RETURN(auto reader, archive::Reader::Open(source));
  row.entries = reader->entries().size();
  FERRY_ASSIGN_OR_RETURN(
      row.backed_up_ms,
      catalog.RecordNewestArchive(row, CatalogRowsOf(reader->manifest(), row.location,
                                                     row.archive, row.backed_up_ms)));
  return row;
}

}  // namespace ferry::backup
