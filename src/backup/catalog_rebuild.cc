// `ferry catalog rebuild`: the catalog of a backup location recreated from its archives'
// manifests (contract in backup.h).
#include <chrono>
#include <set>

#include "archive/backend_io.h"
#include "archive/reader.h"
#include "backup/backup.h"

namespace ferry::backup {
namespace {

bool IsArchiveKey(const std::string& key) {
  return key.size() > 4 && key.compare(key.size() - 4, 4, ".fza") == 0;
}

}  // namespace

Result<RebuildResult> RebuildCatalog(CatalogStore& catalog, storage::Backend& backup,
                                     const std::string& location, std::stop_token stop) {
  struct Found {
    std::string key;
    uint64_t size = 0;
    int64_t mtime_ms = 0;
  };
  std::vector<Found> found;
  // Archives a prune forgot but did not delete yet (catalog_prune.h) stay forgotten.
  std::set<std::string> doomed;
  FERRY_ASSIGN_OR_RETURN(std::vector<CatalogArchive> doomed_rows, catalog.Doomed(location));
  for (const CatalogArchive& a : doomed_rows) doomed.insert(a.archive);
  FERRY_ASSIGN_OR_RETURN(auto cursor, backup.List(""));
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr) break;
    if (!IsArchiveKey(o->key) || doomed.count(o->key) != 0) continue;
    found.push_back(Found{.key = o->key,
                          .size = o->size,
                          .mtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                          o->mtime.time_since_epoch())
                                          .count()});
  }
  RebuildResult result;
  std::set<std::string> keep;
  for (const Found& f : found) {
    if (stop.stop_requested()) return Status::Cancelled("catalog rebuild interrupted");
    keep.insert(f.key);
    archive::BackendRangeSource source(backup, f.key, f.size, stop, archive::kReadAheadToOpen);
    auto reader = archive::Reader::Open(source);
    result.bytes_read += source.bytes_requested();
    if (!reader.ok()) {
      // Not an archive, or a damaged one: its rows (if any) stay as they were.
      if (reader.status().code() != ErrorCode::kDataLoss) return reader.status();
      result.failed.push_back(f.key + ": " + reader.status().message());
      continue;
    }
    const CatalogArchive row{.location = location,
                             .archive = f.key,
                             .entries = (*reader)->entries().size(),
                             .archive_bytes = f.size,
                             .backed_up_ms = f.mtime_ms};
    FERRY_RETURN_IF_ERROR(catalog.RecordArchive(
        row, CatalogRowsOf((*reader)->manifest(), location, f.key, f.mtime_ms)));
    ++result.archives;
    result.entries += row.entries;
  }
  FERRY_ASSIGN_OR_RETURN(result.forgotten, catalog.ForgetArchivesExcept(location, keep));
  return result;
}

}  // namespace ferry::backup
