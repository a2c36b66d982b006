// RunKeyStream (run_keys.h): an inventory's current rows as a run's keys.
#include "inventory/run_keys.h"

#include <algorithm>
#include <utility>

#include "inventory/run_rows.h"

namespace ferry::inventory {

Status CheckInventoryBucket(const Manifest& manifest, const std::string& bucket,
                            const std::string& side) {
  if (manifest.source_bucket == bucket) return Status::Ok();
  return Status::InvalidArgument(side + " " + manifest.location + " is an inventory of bucket \"" +
                                 manifest.source_bucket + "\", not of the run's bucket \"" +
                                 bucket + "\"");
}

RunKeyStream::RunKeyStream(storage::ListingCursor& rows, const Manifest& manifest,
                           std::string prefix, bool whole_rows)
    : rows_(rows),
      versioned_(std::find(manifest.columns.begin(), manifest.columns.end(), Field::kIsLatest) !=
                 manifest.columns.end()),
      prefix_(std::move(prefix)),
      whole_rows_(whole_rows) {}

Result<std::optional<std::string>> RunKeyStream::Next() {
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* row, rows_.Next());
    if (row == nullptr) return std::optional<std::string>();
    ++stats_.rows;
    if (row->delete_marker || (versioned_ && !row->is_latest)) {
      ++stats_.not_current;
      continue;
    }
    if (!row->key.starts_with(prefix_) || row->key.size() == prefix_.size()) {
      ++stats_.outside_prefix;
      continue;
    }
    ++stats_.keys;
    std::string key = row->key.substr(prefix_.size());
    if (!whole_rows_) return std::optional<std::string>(std::move(key));
    FERRY_ASSIGN_OR_RETURN(std::string record, EncodeRunRow(*row, key));
    return std::optional<std::string>(std::move(record));
  }
}

}  // namespace ferry::inventory
