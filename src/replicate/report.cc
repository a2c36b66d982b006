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

ReportRow ReportRowOf(const VersionStatus& s, std::string_view bucket, std::string_view prefix) {
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
  return r;
}

std::vector<ReportRow> ReportRows(const std::vector<VersionStatus>& rows, std::string_view bucket,
                                  std::string_view prefix) {
  std::vector<ReportRow> out;
  out.reserve(rows.size());
  for (const VersionStatus& s : rows) out.push_back(ReportRowOf(s, bucket, prefix));
  return out;
}

report::Row PerObjectRow(const VersionStatus& s, std::string_view prefix,
                         int64_t pass_started_ns) {
  report::Row r;
  r.key = std::string(prefix) + s.key;
  r.version_id = s.source_version;
  r.size = s.size > 0 ? static_cast<uint64_t>(s.size) : 0;
  r.checksum = std::string(report::checksum_used::kNone);
  const std::string what = std::string(s.delete_marker ? "delete marker " : "") + "rule " +
                           s.rule + " to " + s.destination;
  switch (s.state) {
    case VersionState::kCompleted: {
      const bool earlier = s.updated_ns < pass_started_ns;
      r.action = earlier ? report::Action::kSkipped : report::Action::kCopied;
      r.outcome = earlier ? report::Outcome::kSkipped : report::Outcome::kOk;
      r.error_message = "COMPLETED: " + what +
                        (s.dest_version.empty() ? "" : " as version " + s.dest_version) +
                        (earlier ? ": replicated by an earlier pass" : "");
      break;
    }
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

namespace {

constexpr std::string_view kCsvHeader =
    "Bucket,Key,VersionId,TaskStatus,ErrorCode,HTTPStatusCode,ResultMessage\n";

std::string CsvLine(const ReportRow& r) {
  return CsvField(r.bucket) + "," + CsvField(r.key) + "," + CsvField(r.version_id) + "," +
         CsvField(r.task_status) + "," + CsvField(r.error_code) + "," +
         (r.http_status == 0 ? std::string() : std::to_string(r.http_status)) + "," +
         CsvField(r.result_message) + "\n";
}

// One row as the element of "rows" in the document ReportJson writes (indent 1, the element
// at depth 2): its own dump, each line moved 2 spaces in.
std::string JsonElement(const ReportRow& r) {
  const nlohmann::json row = {{"Bucket", r.bucket},
                              {"Key", r.key},
                              {"VersionId", r.version_id},
                              {"TaskStatus", r.task_status},
                              {"ErrorCode", r.error_code},
                              {"HTTPStatusCode", r.http_status},
                              {"ResultMessage", r.result_message}};
  const std::string text = row.dump(1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out = "  ";
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

// The document around the elements: {"rows": [...]} as nlohmann's dump(1) writes it.
constexpr std::string_view kJsonOpen = "{\n \"rows\": [";
std::string JsonSeparator(uint64_t index) { return index == 0 ? "\n" : ",\n"; }
std::string_view JsonClose(uint64_t rows) { return rows == 0 ? "]\n}\n" : "\n ]\n}\n"; }

}  // namespace

std::string ReportCsv(const std::vector<ReportRow>& rows) {
  std::string out(kCsvHeader);
  for (const ReportRow& r : rows) out += CsvLine(r);
  return out;
}

std::string ReportJson(const std::vector<ReportRow>& rows) {
  std::string out(kJsonOpen);
  for (size_t i = 0; i < rows.size(); ++i) out += JsonSeparator(i) + JsonElement(rows[i]);
  return out + std::string(JsonClose(rows.size()));
}

Status WriteReport(const std::vector<ReportRow>& rows, const std::string& prefix) {
  FERRY_RETURN_IF_ERROR(WriteFile(prefix + ".csv", ReportCsv(rows)));
  return WriteFile(prefix + ".json", ReportJson(rows));
}

Result<std::unique_ptr<ReportFiles>> ReportFiles::Open(const std::string& prefix) {
  std::unique_ptr<ReportFiles> f(new ReportFiles(prefix));
  f->csv_.open(prefix + ".csv", std::ios::binary | std::ios::trunc);
  if (!f->csv_) return Status::Unavailable("cannot write report " + prefix + ".csv");
  f->json_.open(prefix + ".json", std::ios::binary | std::ios::trunc);
  if (!f->json_) return Status::Unavailable("cannot write report " + prefix + ".json");
  f->csv_ << kCsvHeader;
  f->json_ << kJsonOpen;
  return f;
}

Status ReportFiles::Add(const ReportRow& row) {
  csv_ << CsvLine(row);
  json_ << JsonSeparator(rows_++) << JsonElement(row);
  if (!csv_) return Status::Unavailable("cannot write report " + prefix_ + ".csv");
  if (!json_) return Status::Unavailable("cannot write report " + prefix_ + ".json");
  return Status::Ok();
}

Status ReportFiles::Finish() {
  json_ << JsonClose(rows_);
  csv_.close();
  json_.close();
  if (!csv_) return Status::Unavailable("cannot write report " + prefix_ + ".csv");
  if (!json_) return Status::Unavailable("cannot write report " + prefix_ + ".json");
  return Status::Ok();
}

}  // namespace ferry::replicate
