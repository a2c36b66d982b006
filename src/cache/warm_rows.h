// The rows `ferry cache warm --report` gives (WarmOptions::report, docs/design/report.md), each
// object listed exactly one (key, source version, size):
//  - copied and recorded in the index: the engine's row (`copied`/`ok`, the checksum that
//    proved the bytes, transfer/report_rows.h);
//  - cached and unchanged (renewed): `skipped`/`skipped`, checksum `etag` (or `mtime` for a
//    source without ETags: what CachedUnchanged compared, with the size);
//  - cached by an overlapping request while this one waited: `joined`/`skipped`, likewise;
//  - a copy that failed, was cancelled, or could not be recorded: `failed` with its error;
//    a key whose holder failed it: `failed`, error code `Unknown` (the holder's message).
//
// Thread-safety: pure functions; CopyRows is thread-safe.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "base/status.h"
#include "report/row.h"
#include "storage/object_info.h"

namespace ferry::cache::warm_rows {

// Cached and unchanged (renewed; `joined`: copied by an overlapping request while this one
// waited).
report::Row Cached(const storage::ObjectInfo& o, bool joined);
// A key whose holder (request `holder`) failed it with `error`.
report::Row FailedByHolder(const storage::ObjectInfo& o, const std::string& holder,
                           const std::string& error);
// A copy that failed: the engine's row when it made one, else one from `status`.
report::Row CopyFailed(const storage::ObjectInfo& o, std::optional<report::Row> engine_row,
                       const Status& status);
// A copy recorded in the index: the engine's row, else (none made) a copied row proved by
// nothing the report can name.
report::Row Copied(const storage::ObjectInfo& o, std::optional<report::Row> engine_row);

// The engine's row of each copy of a request (transfer/report_rows.h: its checksum used), held
// from the copy's end until its `done` takes it: the row is given to the report only once the
// outcome is recorded (a copy the index could not record is a failed row instead).
class CopyRows final : public report::RowSink {
 public:
  void Add(report::Row row) override;
  std::optional<report::Row> Take(const std::string& key);

 private:
  std::mutex mu_;
  std::unordered_map<std::string, report::Row> rows_;  // GUARDED_BY(mu_): copies in flight
};

}  // namespace ferry::cache::warm_rows
