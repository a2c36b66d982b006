#include "report/row.h"

#include <time.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace ferry::report {
namespace {

constexpr std::array<std::string_view, kActionCount> kActionNames = {
    "copied", "skipped", "deleted", "would-copy", "would-delete",
    "differs", "missing", "extra", "not-copied", "failed", "identical",
    "delete-source", "would-delete-source", "joined"};
constexpr std::array<std::string_view, kOutcomeCount> kOutcomeNames = {"ok", "failed", "skipped"};

// RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled.
void AppendCsvField(std::string& out, std::string_view field) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out += field;
    return;
  }
  out += '"';
  for (char c : field) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

}  // namespace

std::string_view ActionName(Action action) { return kActionNames[static_cast<size_t>(action)]; }
std::string_view OutcomeName(Outcome outcome) {
  return kOutcomeNames[static_cast<size_t>(outcome)];
}

Row FailedRow(std::string key, uint64_t size, std::string_view what, const Status& status) {
  Row row;
  row.key = std::move(key);
  row.size = size;
  row.action = Action::kFailed;
  row.outcome = Outcome::kFailed;
  row.error_code = std::string(ErrorCodeName(status.code()));
  row.error_message = std::string(what) + ": " + status.message();
  return row;
}

bool Keeps(Level level, const Row& row) {
  switch (level) {
    case Level::kErrors:
      return row.outcome == Outcome::kFailed;
    case Level::kChanges:
      return row.outcome == Outcome::kFailed || !row.error_code.empty() ||
             (row.action != Action::kSkipped && row.action != Action::kNotCopied &&
              row.action != Action::kIdentical && row.action != Action::kJoined);
    case Level::kAll:
      return true;
  }
  return true;
}

Result<Format> ParseFormat(std::string_view text) {
  if (text == "csv") return Format::kCsv;
  if (text == "json") return Format::kJsonLines;
  return Status::InvalidArgument("--report-format: \"" + std::string(text) +
                                 "\" is not csv or json");
}

Result<Level> ParseLevel(std::string_view text) {
  if (text == "errors") return Level::kErrors;
  if (text == "changes") return Level::kChanges;
  if (text == "all") return Level::kAll;
  return Status::InvalidArgument("--report-level: \"" + std::string(text) +
                                 "\" is not errors, changes or all");
}

std::string_view FormatName(Format format) {
  return format == Format::kCsv ? "csv" : "json";
}

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kErrors:
      return "errors";
    case Level::kChanges:
      return "changes";
    case Level::kAll:
      return "all";
  }
  return "changes";
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const time_t secs = static_cast<time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  const int millis = static_cast<int>(ms - static_cast<int64_t>(secs) * 1000);
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char day[32];
  std::strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", day, millis);
  return out;
}

std::string_view CsvHeader() {
  return "key,version_id,size,action,result,error_code,error_message,checksum,time\n";
}

std::string EncodeRow(Format format, const Row& row) {
  const std::string when = Rfc3339(row.time.value_or(std::chrono::system_clock::time_point{}));
  if (format == Format::kJsonLines) {
    nlohmann::json j = {{"key", row.key},
                        {"version_id", row.version_id},
                        {"size", row.size},
                        {"action", ActionName(row.action)},
                        {"result", OutcomeName(row.outcome)},
                        {"error_code", row.error_code},
                        {"error_message", row.error_message},
                        {"checksum", row.checksum},
                        {"time", when}};
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string out;
  out.reserve(row.key.size() + row.error_message.size() + 96);
  AppendCsvField(out, row.key);
  out += ',';
  AppendCsvField(out, row.version_id);
  out += ',';
  out += std::to_string(row.size);
  out += ',';
  out += ActionName(row.action);
  out += ',';
  out += OutcomeName(row.outcome);
  out += ',';
  AppendCsvField(out, row.error_code);
  out += ',';
  AppendCsvField(out, row.error_message);
  out += ',';
  AppendCsvField(out, row.checksum);
  out += ',';
  out += when;
  out += '\n';
  return out;
}

}  // namespace ferry::report
