// The completion report of replication passes, in the columns S3 Batch Operations reports use:
// Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage; one row per
// (source version, rule, destination) the status store holds, so that a pass interrupted and
// run again still reports every version. Written as PREFIX.csv (a header line, RFC 4180
// quoting) and PREFIX.json ({"rows": [{"Bucket": ..., ...}, ...]}) by `ferry replicate --report`.
//
// TaskStatus is "succeeded" for COMPLETED and REPLICA rows, "failed" for FAILED, "pending" for
// PENDING (a pass that did not finish). ResultMessage names the state, the rule, the destination
// and the version made there, or the error.
// Thread-safety: pure functions, except the files WriteReport and ReportFiles write.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "replicate/status_store.h"
#include "report/row.h"

namespace ferry::replicate {

struct ReportRow {
  std::string bucket;
  std::string key;  // the full object key (the location's prefix + key)
  std::string version_id;
  std::string task_status;
  std::string error_code;
  int http_status = 0;
  std::string result_message;
};

// `bucket` and `prefix` of the source location the rows' keys are relative to.
ReportRow ReportRowOf(const VersionStatus& status, std::string_view bucket,
                      std::string_view prefix);
std::vector<ReportRow> ReportRows(const std::vector<VersionStatus>& rows, std::string_view bucket,
                                  std::string_view prefix);
std::string ReportCsv(const std::vector<ReportRow>& rows);
std::string ReportJson(const std::vector<ReportRow>& rows);
// One status row as a row of the common per-object report (report/row.h,
// docs/design/report.md), `prefix` put before its key, for the pass that began at
// `pass_started_ns` (unix ns; 0: every COMPLETED row is this pass's):
//   COMPLETED -> copied/ok; COMPLETED before the pass began (updated_ns < pass_started_ns) ->
//   skipped/skipped, "replicated by an earlier pass" (this pass wrote nothing for it);
//   REPLICA -> skipped/skipped (a replica is not replicated back);
//   FAILED -> failed/failed with the row's error code and message;
//   PENDING -> not-copied/failed, error code "NotDone" (the pass did not finish it: rerun).
// The message (error_message) names the state, the rule and the destination for every row,
// and the version the destination made. size: the store's (0 for a delete marker and in rows
// of older ferry). checksum: "none", since the store does not record what proved the bytes.
report::Row PerObjectRow(const VersionStatus& status, std::string_view prefix,
                         int64_t pass_started_ns);

// Writes PREFIX.csv and PREFIX.json. kUnavailable naming the file when it cannot be written.
Status WriteReport(const std::vector<ReportRow>& rows, const std::string& prefix);

// The same two files written a row at a time (memory bounded by one row, however many there
// are), byte for byte what WriteReport writes for the same rows. Open truncates both; the
// files are complete once Finish returned Ok. kUnavailable naming the file when one cannot be
// opened or written. Not thread-safe.
class ReportFiles {
 public:
  static Result<std::unique_ptr<ReportFiles>> Open(const std::string& prefix);
  Status Add(const ReportRow& row);
  Status Finish();

 private:
  explicit ReportFiles(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string prefix_;
  std::ofstream csv_;
  std::ofstream json_;
  uint64_t rows_ = 0;
};

}  // namespace ferry::replicate
