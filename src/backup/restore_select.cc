#include "backup/restore_select.h"

#include <ctime>
#include <cstdio>
#include <span>

#include "storage/key.h"

namespace ferry::backup {

std::string TimeText(int64_t unix_ms) {
  const time_t t = static_cast<time_t>(unix_ms / 1000);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(unix_ms % 1000));
  return buf;
}

namespace {

Result<RestoreRows> SelectKey(CatalogStore& catalog, const std::string& loc,
                              const RestoreSelection& a, const std::string& when) {
  FERRY_ASSIGN_OR_RETURN(auto versions, catalog.Versions(loc, a.key));
  if (versions.empty()) {
    return Status::NotFound("no backup of " + storage::PrintableKey(a.key) + " in " + loc);
  }
  FERRY_ASSIGN_OR_RETURN(auto tombstones, catalog.Tombstones(loc, a.key));
  std::erase_if(tombstones, [&](const Tombstone& t) { return t.key != a.key; });
  auto pick = SelectVersion(versions, tombstones, a.version, a.at_ms);
  if (!pick.entry) {
    return Status::NotFound("no backup of " + storage::PrintableKey(a.key) +
                            (a.version.empty() ? when : " with version " + a.version) + " in " +
                            loc);
  }
  if (pick.deleted_ms > 0 && !a.include_deleted) {
    // Deleted at the source: its last version only when asked for.
    return Status::NotFound(
        storage::PrintableKey(a.key) + " was deleted from the source (recorded " +
        TimeText(pick.deleted_ms) + "; last backed up " + TimeText(pick.entry->backed_up_ms) +
        "): --include-deleted, --version V or --as-of TIME before the deletion restores it");
  }
  RestoreRows out;
  out.rows.push_back(std::move(*pick.entry));
  return out;
}

}  // namespace

Result<RestoreRows> SelectForRestore(CatalogStore& catalog, const std::string& loc,
                                     const RestoreSelection& a) {
  const std::string when = a.at_ms > 0 ? " backed up at or before " + TimeText(a.at_ms) : "";
  if (!a.has_prefix) return SelectKey(catalog, loc, a, when);
  RestoreRows out;
  FERRY_ASSIGN_OR_RETURN(auto tombstones, catalog.Tombstones(loc, a.prefix));
  size_t next_tombstone = 0;  // both sorted by key
  std::vector<CatalogEntry> versions;  // of one key
  auto flush = [&] {
    if (versions.empty()) return;
    const std::string& key = versions.front().key;
    while (next_tombstone < tombstones.size() && tombstones[next_tombstone].key < key) {
      ++next_tombstone;
    }
    size_t end = next_tombstone;
    while (end < tombstones.size() && tombstones[end].key == key) ++end;
    auto pick = SelectVersion(
        versions,
        std::span<const Tombstone>(tombstones.data() + next_tombstone, end - next_tombstone), "",
        a.at_ms);
    if (pick.entry && (pick.deleted_ms == 0 || a.include_deleted)) {
      out.rows.push_back(std::move(*pick.entry));
    } else if (pick.entry) {
      ++out.deleted_left_out;
    }
    versions.clear();
  };
  FERRY_RETURN_IF_ERROR(catalog.Visit(loc, a.prefix, [&](const CatalogEntry& e) {
    if (!versions.empty() && versions.front().key != e.key) flush();
    versions.push_back(e);
    return Status::Ok();
  }));
  flush();
  if (out.rows.empty()) {
    return Status::NotFound(
        "nothing backed up under \"" + storage::PrintableKey(a.prefix) + "\"" + when + " in " +
        loc +
        (out.deleted_left_out > 0
             ? " (" + std::to_string(out.deleted_left_out) + " deleted at the source: --include-deleted)"
             : ""));
  }
  return out;
}

}  // namespace ferry::backup
