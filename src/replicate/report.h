// The completion report of replication passes, in the columns S3 Batch Operations reports use:
// Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage; one row per
// (source version, rule, destination) the status store holds, so that a pass interrupted and
// run again still reports every version. Written as PREFIX.csv (a header line, RFC 4180
// quoting) and PREFIX.json ({"rows": [{"Bucket": ..., ...}, ...]}) by `ferry replicate --report`.
//
// TaskStatus is "succeeded" for COMPLETED and REPLICA rows, "failed" for FAILED, "pending" for
// PENDING (a pass that did not finish). ResultMessage names the state, the rule, the destination
// and the version made there, or the error.
// Thread-safety: pure functions, except the files WriteReport writes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replicate/status_store.h"

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
std::vector<ReportRow> ReportRows(const std::vector<VersionStatus>& rows, std::string_view bucket,
                                  std::string_view prefix);
std::string ReportCsv(const std::vector<ReportRow>& rows);
std::string ReportJson(const std::vector<ReportRow>& rows);
// Writes PREFIX.csv and PREFIX.json. kUnavailable naming the file when it cannot be written.
Status WriteReport(const std::vector<ReportRow>& rows, const std::string& prefix);

}  // namespace ferry::replicate
