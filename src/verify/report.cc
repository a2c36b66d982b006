#include "verify/report.h"

#include <nlohmann/json.hpp>

namespace ferry::verify {

char MarkChar(Mark m) {
  switch (m) {
    case Mark::kIdentical: return '=';
    case Mark::kMissing: return '-';
    case Mark::kExtra: return '+';
    case Mark::kDiffer: return '*';
    case Mark::kError: return '!';
    case Mark::kSizeOnly: return '~';
  }
  return '!';
}

const char* MarkName(Mark m) {
  switch (m) {
    case Mark::kIdentical: return "identical";
    case Mark::kMissing: return "missing";
    case Mark::kExtra: return "extra";
    case Mark::kDiffer: return "differ";
    case Mark::kError: return "error";
    case Mark::kSizeOnly: return "size_only";
  }
  return "error";
}

std::string FormatLine(const Entry& e, bool json) {
  if (!json) return std::string(1, MarkChar(e.mark)) + " " + e.key;
  nlohmann::json j;
  j["key"] = e.key;
  j["result"] = MarkName(e.mark);
  j["reason"] = e.reason;
  j["src_size"] = e.src_size ? nlohmann::json(*e.src_size) : nlohmann::json(nullptr);
  j["dst_size"] = e.dst_size ? nlohmann::json(*e.dst_size) : nlohmann::json(nullptr);
  j["src_etag"] = e.src_etag;
  j["dst_etag"] = e.dst_etag;
  // Keys are bytes: one that is not UTF-8 is written with replacement characters.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string SummaryLine(const Counts& c) {
  return "verify: " + std::to_string(c.identical) + " identical, " + std::to_string(c.differ) +
         " differ, " + std::to_string(c.missing) + " missing, " + std::to_string(c.extra) +
         " extra, " + std::to_string(c.errors) + " errors, " + std::to_string(c.size_only) +
         " size-only (sizes agree, content not checked)";
}

int ExitCodeFor(const Counts& c) {
  if (c.errors > 0) return 3;
  return c.differences() > 0 ? 1 : 0;
}

report::Row ReportRowOf(const Entry& e) {
  report::Row row;
  row.key = e.key;
  row.size = e.src_size.value_or(e.dst_size.value_or(0));
  row.outcome = report::Outcome::kFailed;  // a difference is a failed verification
  row.checksum = e.reason.empty() ? std::string(report::checksum_used::kNone) : e.reason;
  switch (e.mark) {
    case Mark::kIdentical:
      row.action = report::Action::kIdentical;
      row.outcome = report::Outcome::kOk;
      break;
    case Mark::kSizeOnly:
      row.action = report::Action::kIdentical;
      row.outcome = report::Outcome::kOk;
      row.checksum = std::string(report::checksum_used::kSizeOnly);
      // Not a difference, not proven either: the row says why nothing checked the content.
      row.error_message = "unverified: " + (e.reason.empty() ? std::string("size only") : e.reason);
      break;
    case Mark::kMissing:
      row.action = report::Action::kMissing;
      row.error_message = "not in DST";
      row.checksum = std::string(report::checksum_used::kNone);
      break;
    case Mark::kExtra:
      row.action = report::Action::kExtra;
      row.error_message = "not in SRC";
      row.checksum = std::string(report::checksum_used::kNone);
      break;
    case Mark::kDiffer:
      row.action = report::Action::kDiffers;
      row.error_message = "differs by " + row.checksum;
      break;
    case Mark::kError:
      row.action = report::Action::kFailed;
      row.error_code = "error";
      row.error_message = e.reason;
      row.checksum = std::string(report::checksum_used::kNone);
      break;
  }
  return row;
}

void Report::Add(const Entry& e) {
  if (rows_ != nullptr) rows_->Add(ReportRowOf(e));
  const std::string line = out_ != nullptr ? FormatLine(e, json_) + "\n" : std::string();
  std::lock_guard lock(mu_);
  switch (e.mark) {
    case Mark::kIdentical: ++counts_.identical; break;
    case Mark::kMissing: ++counts_.missing; break;
    case Mark::kExtra: ++counts_.extra; break;
    case Mark::kDiffer: ++counts_.differ; break;
    case Mark::kError: ++counts_.errors; break;
    case Mark::kSizeOnly: ++counts_.size_only; break;
  }
  if (seen_) seen_(e);
  if (out_ != nullptr) std::fwrite(line.data(), 1, line.size(), out_);
}

Counts Report::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace ferry::verify
