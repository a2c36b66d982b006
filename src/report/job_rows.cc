// JobRows, RecordedPart and the run's summary (job_rows.h).
#include "report/job_rows.h"

#include <nlohmann/json.hpp>
#include <span>

namespace ferry::report {
namespace {

using nlohmann::json;

Status PutJobReportObject(storage::Backend& location, const std::string& name,
                          const std::string& text, std::string_view content_type) {
  storage::WriteSpec spec;
  spec.size = text.size();
  spec.content.content_type = std::string(content_type);
  const auto bytes = std::as_bytes(std::span<const char>(text.data(), text.size()));
  return location.Put(name, bytes, spec, std::stop_token{}).status();
}

// WriteRunSummary's error when a recorded part was lost (IsIncompleteReport)
constexpr std::string_view kIncomplete = "report incomplete: ";

}  // namespace

void Tally::Add(const Row& row, bool kept) {
  const auto a = static_cast<size_t>(row.action);
  counts[a][static_cast<size_t>(row.outcome)] += 1;
  if (row.outcome == Outcome::kOk) {
    bytes[a] += row.size;
    if (row.action == Action::kCopied && row.checksum == checksum_used::kNone) ++unchecked;
  }
  ++rows;
  if (kept) ++rows_written;
}

void Tally::Merge(const Tally& o) {
  for (int a = 0; a < kActionCount; ++a) {
    for (int k = 0; k < kOutcomeCount; ++k) counts[a][k] += o.counts[a][k];
    bytes[a] += o.bytes[a];
  }
  rows += o.rows;
  rows_written += o.rows_written;
  unchecked += o.unchecked;
}

std::string EncodeRecordedPart(const RecordedPart& part) {
  json counts = json::array();
  for (int a = 0; a < kActionCount; ++a) {
    for (int k = 0; k < kOutcomeCount; ++k) {
      if (part.tally.counts[a][k] > 0) counts.push_back({a, k, part.tally.counts[a][k]});
    }
  }
  json bytes = json::array();
  for (int a = 0; a < kActionCount; ++a) {
    if (part.tally.bytes[a] > 0) bytes.push_back({a, part.tally.bytes[a]});
  }
  json j = {{"name", part.name},       {"rows", part.tally.rows},
            {"written", part.tally.rows_written}, {"unchecked", part.tally.unchecked},
            {"counts", counts},        {"bytes", bytes}};
  if (!part.error.empty()) j["error"] = part.error;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<RecordedPart> DecodeRecordedPart(std::string_view text) {
  try {
    const json j = json::parse(text);
    RecordedPart p;
    p.name = j.at("name").get<std::string>();
    if (j.contains("error")) p.error = j["error"].get<std::string>();
    p.tally.rows = j.at("rows").get<uint64_t>();
    p.tally.rows_written = j.at("written").get<uint64_t>();
    p.tally.unchecked = j.at("unchecked").get<uint64_t>();
    for (const json& c : j.at("counts")) {
      const int a = c.at(0).get<int>(), k = c.at(1).get<int>();
      if (a < 0 || a >= kActionCount || k < 0 || k >= kOutcomeCount) {
        return Status::InvalidArgument("report part record: unknown action or outcome");
      }
      p.tally.counts[a][k] = c.at(2).get<uint64_t>();
    }
    for (const json& b : j.at("bytes")) {
      const int a = b.at(0).get<int>();
      if (a < 0 || a >= kActionCount) {
        return Status::InvalidArgument("report part record: unknown action");
      }
      p.tally.bytes[a] = b.at(1).get<uint64_t>();
    }
    return p;
  } catch (const json::exception& e) {
    return Status::InvalidArgument(std::string("report part record: ") + e.what());
  }
}

void JobRows::Add(Row row) {
  if (!row.time) row.time = clock_.Now();
  std::lock_guard lock(mu_);
  rows_.push_back(std::move(row));
}

void JobRows::DropIf(const std::function<bool(const Row&)>& drop) {
  std::lock_guard lock(mu_);
  std::erase_if(rows_, drop);
}

void JobRows::Clear() {
  std::lock_guard lock(mu_);
  rows_.clear();
}

bool JobRows::empty() const {
  std::lock_guard lock(mu_);
  return rows_.empty();
}

RecordedPart JobRows::Write(storage::Backend& location, const std::string& stem) {
  std::lock_guard lock(mu_);
  RecordedPart part;
  std::string text;
  for (const Row& row : rows_) {
    const bool kept = Keeps(level_, row);
    part.tally.Add(row, kept);
    if (!kept) continue;
    if (text.empty() && format_ == Format::kCsv) text = CsvHeader();
    text += EncodeRow(format_, row);
  }
  if (part.tally.rows_written == 0) return part;
  part.name = stem + (format_ == Format::kCsv ? ".csv" : ".jsonl");
  const Status s = PutJobReportObject(location, part.name, text,
                                     format_ == Format::kCsv ? "text/csv" : "application/x-ndjson");
  if (!s.ok()) part.error = s.message();
  return part;
}

bool IsIncompleteReport(const Status& s) {
  return s.code() == ErrorCode::kDataLoss && s.message().rfind(kIncomplete, 0) == 0;
}

Status WriteRunSummary(storage::Backend& location, const RunSummaryInput& in) {
  Tally total;
  json parts = json::array();
  json failed = json::array();
  for (const RecordedPart& p : in.parts) {
    total.Merge(p.tally);
    if (p.name.empty()) continue;  // counts only: the level kept none of its rows
    if (p.error.empty()) {
      parts.push_back({{"name", p.name}, {"rows", p.tally.rows_written}});
    } else {
      failed.push_back({{"name", p.name}, {"rows", p.tally.rows_written}, {"error", p.error}});
    }
  }
  json counts = json::object();
  json bytes = json::object();
  for (int a = 0; a < kActionCount; ++a) {
    for (int k = 0; k < kOutcomeCount; ++k) {
      if (total.counts[a][k] == 0) continue;
      counts[ActionName(static_cast<Action>(a))][OutcomeName(static_cast<Outcome>(k))] =
          total.counts[a][k];
    }
    if (total.bytes[a] > 0) bytes[ActionName(static_cast<Action>(a))] = total.bytes[a];
  }
  json j = {{"run_id", in.run_id},
            {"started", Rfc3339(in.started)},
            {"ended", Rfc3339(in.ended)},
            {"format", FormatName(in.format)},
            {"level", LevelName(in.level)},
            {"rows", total.rows},
            {"rows_written", total.rows_written},
            {"counts", counts},
            {"bytes", bytes},
            {"copied_unchecked", total.unchecked},
            {"parts", parts},
            {"parts_failed", failed},
            {"complete", failed.empty()},
            {"not_checked", in.not_checked}};
  const std::string text = j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
  FERRY_RETURN_IF_ERROR(PutJobReportObject(location, "summary.json", text, "application/json"));
  if (failed.empty()) return Status::Ok();
  return Status::DataLoss(std::string(kIncomplete) + "could not write " +
                          failed[0]["name"].get<std::string>() + " (" +
                          std::to_string(failed[0]["rows"].get<uint64_t>()) +
                          " rows): " + failed[0]["error"].get<std::string>());
}

}  // namespace ferry::report
