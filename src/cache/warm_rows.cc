// The rows of `ferry cache warm --report` (warm_rows.h).
#include "cache/warm_rows.h"

namespace ferry::cache::warm_rows {

report::Row Cached(const storage::ObjectInfo& o, bool joined) {
  report::Row row;
  row.key = o.key;
  row.version_id = o.version_id;
  row.size = o.size;
  row.action = joined ? report::Action::kJoined : report::Action::kSkipped;
  row.outcome = report::Outcome::kSkipped;
  row.checksum = std::string(o.etag.empty() ? report::checksum_used::kMtime
                                            : report::checksum_used::kEtag);
  return row;
}

report::Row FailedByHolder(const storage::ObjectInfo& o, const std::string& holder,
                           const std::string& error) {
  report::Row row;
  row.key = o.key;
  row.version_id = o.version_id;
  row.size = o.size;
  row.action = report::Action::kFailed;
  row.outcome = report::Outcome::kFailed;
  row.error_code = "Unknown";  // the holder recorded its message only
  row.error_message = "copy (by request " + holder + "): " + error;
  return row;
}

report::Row CopyFailed(const storage::ObjectInfo& o, std::optional<report::Row> engine_row,
                       const Status& status) {
  if (engine_row && engine_row->outcome == report::Outcome::kFailed) return *std::move(engine_row);
  report::Row row = report::FailedRow(o.key, o.size, "copy", status);
  row.version_id = o.version_id;
  return row;
}

report::Row Copied(const storage::ObjectInfo& o, std::optional<report::Row> engine_row) {
  if (engine_row) return *std::move(engine_row);
  report::Row row;
  row.key = o.key;
  row.version_id = o.version_id;
  row.size = o.size;
  row.action = report::Action::kCopied;
  row.outcome = report::Outcome::kOk;
  return row;
}

void CopyRows::Add(report::Row row) {
  std::lock_guard lock(mu_);
  rows_.insert_or_assign(row.key, std::move(row));
}

std::optional<report::Row> CopyRows::Take(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = rows_.find(key);
  if (it == rows_.end()) return std::nullopt;
  report::Row row = std::move(it->second);
  rows_.erase(it);
  return row;
}

}  // namespace ferry::cache::warm_rows
