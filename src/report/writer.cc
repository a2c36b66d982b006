#include "report/writer.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <span>

namespace ferry::report {
namespace {

std::span<const std::byte> ReportBytes(const std::string& text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

Status PutReportObject(storage::Backend& location, const std::string& name,
                       const std::string& text, std::string_view content_type) {
  storage::WriteSpec spec;
  spec.size = text.size();
  spec.content.content_type = std::string(content_type);
  auto written = location.Put(name, ReportBytes(text), spec, std::stop_token{});
  return written.status();
}

}  // namespace

ReportWriter::ReportWriter(storage::Backend& location, WriterOptions options)
    : location_(location),
      options_(std::move(options)),
      clock_(ClockOr(options_.clock)),
      started_(clock_.Now()) {}

std::string ReportWriter::PartName(uint64_t sequence) const {
  char seq[24];
  std::snprintf(seq, sizeof seq, "%06llu", static_cast<unsigned long long>(sequence));
  const std::string& id = options_.writer_id.empty() ? options_.run_id : options_.writer_id;
  return "part-" + id + "-" + seq + (options_.format == Format::kCsv ? ".csv" : ".jsonl");
}

bool ReportWriter::PartDueLocked() const {
  if (buffer_rows_ == 0) return false;
  return buffer_rows_ >= options_.rows_per_part || buffer_.size() >= options_.part_bytes ||
         clock_.MonoNow() - buffer_started_ >= options_.part_interval;
}

ReportWriter::Part ReportWriter::TakePartLocked() {
  Part part{next_sequence_++, buffer_rows_, std::move(buffer_)};
  buffer_.clear();
  buffer_rows_ = 0;
  return part;
}

void ReportWriter::Add(Row row) {
  if (!row.time) row.time = clock_.Now();
  std::unique_lock lock(mu_);
  const auto a = static_cast<size_t>(row.action);
  counts_[a][static_cast<size_t>(row.outcome)] += 1;
  if (row.outcome == Outcome::kOk) {
    bytes_[a] += row.size;
    if (row.action == Action::kCopied && row.checksum == checksum_used::kNone) ++unchecked_;
  }
  ++rows_added_;
  if (Keeps(options_.level, row)) {
    if (buffer_rows_ == 0) {
      buffer_started_ = clock_.MonoNow();
      if (options_.format == Format::kCsv) buffer_ = CsvHeader();
    }
    buffer_ += EncodeRow(options_.format, row);
    ++buffer_rows_;
  }
  if (!PartDueLocked()) return;
  // One part written at a time: the others' Adds wait here (bounded memory, see writer.h).
  writing_done_.wait(lock, [this] { return !writing_; });
  if (!PartDueLocked()) return;  // another thread cut it meanwhile
  Part part = TakePartLocked();
  writing_ = true;
  lock.unlock();
  WritePart(std::move(part));
}

void ReportWriter::WritePart(Part part) {
  const std::string name = PartName(part.sequence);
  const Status s = PutReportObject(location_, name, part.text,
                                   options_.format == Format::kCsv ? "text/csv"
                                                                   : "application/x-ndjson");
  std::lock_guard lock(mu_);
  parts_.push_back(PartRecord{name, part.rows, s.ok() ? "" : s.ToString()});
  if (s.ok()) rows_written_ += part.rows;
  writing_ = false;
  writing_done_.notify_all();
}

Status ReportWriter::Finish(const FinishInfo& info) {
  {
    std::unique_lock lock(mu_);
    writing_done_.wait(lock, [this] { return !writing_; });
    if (buffer_rows_ > 0) {
      Part part = TakePartLocked();
      writing_ = true;
      lock.unlock();
      WritePart(std::move(part));
    }
  }
  const Status summary = WriteSummary(info);
  std::string lost;
  for (const PartRecord& p : parts()) {
    if (p.error.empty()) continue;
    if (!lost.empty()) lost += "; ";
    lost += p.name + " (" + std::to_string(p.rows) + " rows): " + p.error;
  }
  if (!summary.ok()) {
    if (!lost.empty()) lost += "; ";
    lost += "summary.json: " + summary.ToString();
  }
  if (lost.empty()) return Status::Ok();
  return Status::DataLoss("report incomplete: could not write " + lost);
}

Status ReportWriter::WriteSummary(const FinishInfo& info) {
  nlohmann::json j;
  std::vector<PartRecord> records = parts();
  {
    std::lock_guard lock(mu_);
    j["run_id"] = options_.run_id;
    j["started"] = Rfc3339(started_);
    j["ended"] = Rfc3339(clock_.Now());
    j["format"] = FormatName(options_.format);
    j["level"] = LevelName(options_.level);
    j["rows"] = rows_added_;
    j["rows_written"] = rows_written_;
    nlohmann::json counts = nlohmann::json::object();
    nlohmann::json bytes = nlohmann::json::object();
    for (int a = 0; a < kActionCount; ++a) {
      for (int o = 0; o < kOutcomeCount; ++o) {
        if (counts_[a][o] == 0) continue;
        counts[ActionName(static_cast<Action>(a))][OutcomeName(static_cast<Outcome>(o))] =
            counts_[a][o];
      }
      if (bytes_[a] > 0) bytes[ActionName(static_cast<Action>(a))] = bytes_[a];
    }
    j["counts"] = counts;
    j["bytes"] = bytes;
    j["copied_unchecked"] = unchecked_;
  }
  bool complete = true;
  nlohmann::json parts = nlohmann::json::array();
  nlohmann::json failed = nlohmann::json::array();
  for (const PartRecord& p : records) {
    if (p.error.empty()) {
      parts.push_back({{"name", p.name}, {"rows", p.rows}});
    } else {
      complete = false;
      failed.push_back({{"name", p.name}, {"rows", p.rows}, {"error", p.error}});
    }
  }
  j["parts"] = parts;
  j["parts_failed"] = failed;
  j["complete"] = complete;
  j["not_checked"] = info.not_checked;
  if (!info.cost_json.empty()) {
    nlohmann::json cost = nlohmann::json::parse(info.cost_json, nullptr, /*allow_exceptions=*/false);
    if (cost.is_object()) j["cost"] = std::move(cost);
  }
  const std::string text =
      j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  return PutReportObject(location_, "summary.json", text, "application/json");
}

uint64_t ReportWriter::Count(Action action, Outcome outcome) const {
  std::lock_guard lock(mu_);
  return counts_[static_cast<size_t>(action)][static_cast<size_t>(outcome)];
}

uint64_t ReportWriter::rows_added() const {
  std::lock_guard lock(mu_);
  return rows_added_;
}

uint64_t ReportWriter::rows_written() const {
  std::lock_guard lock(mu_);
  return rows_written_;
}

std::vector<ReportWriter::PartRecord> ReportWriter::parts() const {
  std::lock_guard lock(mu_);
  std::vector<PartRecord> out = parts_;
  std::sort(out.begin(), out.end(),
            [](const PartRecord& x, const PartRecord& y) { return x.name < y.name; });
  return out;
}

}  // namespace ferry::report
