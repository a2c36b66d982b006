#include "s3/restore.h"

#include "s3/time_format.h"

namespace ferry::s3 {
namespace {

// The value of `name="..."` in an x-amz-restore header ("" when absent). Names are matched
// case-insensitively, as S3-compatible stores differ in case.
std::string_view QuotedField(std::string_view header, std::string_view name) {
  for (size_t at = 0; at < header.size();) {
    const size_t eq = header.find('=', at);
    if (eq == std::string_view::npos) return {};
    size_t start = at;
    while (start < eq && (header[start] == ' ' || header[start] == ',')) ++start;
    const std::string_view field = header.substr(start, eq - start);
    bool same = field.size() == name.size();
    for (size_t i = 0; same && i < field.size(); ++i) {
      const char c = field[i] >= 'A' && field[i] <= 'Z' ? static_cast<char>(field[i] + 32)
                                                         : field[i];
      same = c == name[i];
    }
    if (eq + 1 >= header.size() || header[eq + 1] != '"') return {};
    const size_t close = header.find('"', eq + 2);
    if (close == std::string_view::npos) return {};
    if (same) return header.substr(eq + 2, close - eq - 2);
    at = close + 1;
  }
  return {};
}

}  // namespace

bool IsRestoreTier(std::string_view tier) {
  return tier == "Standard" || tier == "Bulk" || tier == "Expedited";
}

std::string BuildRestoreRequest(int days, std::string_view tier) {
  std::string xml =
      "<RestoreRequest xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Days>";
  xml += std::to_string(days);
  xml += "</Days><GlacierJobParameters><Tier>";
  xml += tier;
  xml += "</Tier></GlacierJobParameters></RestoreRequest>";
  return xml;
}

RestoreState ParseRestoreHeader(std::string_view value) {
  RestoreState state;
  if (value.empty()) return state;
  state.requested = true;
  const std::string_view ongoing = QuotedField(value, "ongoing-request");
  state.ongoing = ongoing != "false";
  if (!state.ongoing) {
    if (auto t = ParseHttpDate(QuotedField(value, "expiry-date"))) state.expiry = *t;
  }
  return state;
}

void ParseArchiveHeaders(const http::Headers& headers, ObjectHead& head) {
  head.restore = ParseRestoreHeader(headers.Get("x-amz-restore"));
  head.archive_status = headers.Get("x-amz-archive-status");
}

}  // namespace ferry::s3
