// Completion report (contract in report.h).
#include "replicate/report.h"

#include <fstream>

#include <nlohmann/json.hpp>

namespace ferry::replicate {
namespace {

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::Unavailable("cannot write report " + path);
  return Status::Ok();
}

}  // namespace

std::vector<ReportRow> ReportRows(const std::vector<VersionStatus>& rows, std::string_view bucket,
                                  std::string_view prefix) {
  std::vector<ReportRow> out;
  out.reserve(rows.size());
  for (const VersionStatus& s : rows) {
    ReportRow r;
    r.bucket = std::string(bucket);
    r.key = std::string(prefix) + s.key;
    r.version_id = s.source_version;
    const std::string what = std::string(s.delete_marker ? "delete marker " : "") + "rule " +
                             s.rule + " to " + s.destination;
    switch (s.state) {
      case VersionState::kCompleted:
        r.task_status = "succeeded";
        r.http_status = 200;
        r.result_message = "COMPLETED: " + what +
                           (s.dest_version.empty() ? "" : " as version " + s.dest_version);
        break;
      case VersionState::kReplica:
        r.task_status = "succeeded";
        r.http_status = 200;
        r.result_message = "REPLICA: " + what + ": a replica, not replicated back";
        break;
      case VersionState::kFailed:
        r.task_status = "failed";
        r.error_code = s.error_code;
        r.http_status = s.http_status;
        r.result_message = "FAILED: " + what + ": " + s.message;
        break;
      case VersionState::kPending:
        r.task_status = "pending";
        r.result_message = "PENDING: " + what + ": started, not confirmed";
        break;
    }
    out.push_back(std::move(r));
  }
  return out;
}

report::Row PerObjectRow(const VersionStatus& s, std::string_view prefix) {
  report::Row r;
  r.key = std::string(prefix) + s.key;
  r.version_id = s.source_version;
  r.size = s.size > 0 ? static_cast<uint64_t>(s.size) : 0;
  r.checksum = std::string(report::checksum_used::kNone);
  const std::string what = std::string(s.delete_marker ? "delete marker " : "") + "rule " +
                           s.rule + " to " + s.destination;
  switch (s.state) {
    case VersionState::kCompleted:
      r.action = report::Action::kCopied;
      r.outcome = report::Outcome::kOk;
      r.error_message = "COMPLETED: " + what +
                        (s.dest_version.empty() ? "" : " as version " + s.dest_version);
      break;
    case VersionState::kReplica:
      r.action = report::Action::kSkipped;
      r.outcome = report::Outcome::kSkipped;
      r.error_message = "REPLICA: " + what + ": a replica, not replicated back";
      break;
    case VersionState::kFailed:
      r.action = report::Action::kFailed;
      r.outcome = report::Outcome::kFailed;
      r.error_code = s.error_code.empty() ? "Unknown" : s.error_code;
      r.error_message = "FAILED: " + what + ": " + s.message;
      break;
    case VersionState::kPending:
      r.action = report::Action::kNotCopied;
      r.outcome = report::Outcome::kFailed;
      r.error_code = "NotDone";
      r.error_message = "PENDING: " + what + ": started, not confirmed; rerun the pass";
      break;
  }
  return r;
}

std::string ReportCsv(const std::vector<ReportRow>& rows) {
  std::string out = "Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage\n";
  for (const ReportRow& r : rows) {
    out += CsvField(r.bucket) + "," + CsvField(r.key) + "," + CsvField(r.version_id) + "," +
           CsvField(r.task_status) + "," + CsvField(r.error_code) + "," +
           (r.http_status == 0 ? std::string() : std::to_string(r.http_status)) + "," +
           CsvField(r.result_message) + "\n";
  }
  return out;
}

std::string ReportJson(const std::vector<ReportRow>& rows) {
  nlohmann::json list = nlohmann::json::array();
  for (const ReportRow& r : rows) {
    list.push_back({{"Bucket", r.bucket},
                    {"Key", r.key},
                    {"VersionId", r.version_id},
                    {"TaskStatus", r.task_status},
                    {"ErrorCode", r.error_code},
                    {"HTTPStatusCode", r.http_status},
                    {"ResultMessage", r.result_message}});
  }
  return nlohmann::json{{"rows", list}}.dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Status WriteReport(const std::vector<ReportRow>& rows, const std::string& prefix) {
  FERRY_RETURN_IF_ERROR(WriteFile(prefix + ".csv", ReportCsv(rows)));
  return WriteFile(prefix + ".json", ReportJson(rows));
}

}  // namespace ferry::replicate
