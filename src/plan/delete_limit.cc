#include "plan/delete_limit.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ferry::plan {
namespace {

// A percentage without an exponent or trailing zeros: 10 -> "10", 2.5 -> "2.5" (what
// ParseDeleteLimit reads back: a run's stored limit round-trips).
std::string PercentText(double p) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9f", p);
  std::string out = buf;
  while (out.ends_with('0')) out.pop_back();
  if (out.ends_with('.')) out.pop_back();
  return out;
}

}  // namespace

std::string DeleteLimit::Text() const {
  switch (kind) {
    case Kind::kCount:
      return std::to_string(count);
    case Kind::kPercent:
      return PercentText(percent) + "%";
    case Kind::kNone:
      break;
  }
  return "";
}

bool DeleteLimit::Exceeded(uint64_t planned, uint64_t scope) const {
  switch (kind) {
    case Kind::kCount:
      return planned > count;
    case Kind::kPercent:
      // planned / scope > percent / 100, without dividing by an empty scope.
      return static_cast<double>(planned) * 100.0 > percent * static_cast<double>(scope);
    case Kind::kNone:
      break;
  }
  return false;
}

Result<DeleteLimit> ParseDeleteLimit(std::string_view text) {
  DeleteLimit limit;
  const std::string shown = "'" + std::string(text) + "'";
  if (text.ends_with('%')) {
    const std::string_view number = text.substr(0, text.size() - 1);
    double p = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), p,
                                     std::chars_format::fixed);
    if (number.empty() || ec != std::errc() || end != number.data() + number.size() ||
        !std::isfinite(p) || p < 0 || p > 100) {
      return Status::InvalidArgument(shown + ": a percentage must be from 0% to 100%");
    }
    limit.kind = DeleteLimit::Kind::kPercent;
    limit.percent = p;
    return limit;
  }
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument(shown + ": want a whole number of deletes (0 or more) or a "
                                   "percentage such as 10%");
  }
  limit.kind = DeleteLimit::Kind::kCount;
  limit.count = n;
  return limit;
}

std::string DeleteLimitShare(const DeleteLimit& limit, uint64_t planned, uint64_t scope,
                             std::string_view what) {
  if (limit.kind != DeleteLimit::Kind::kPercent) return "";
  const double share = scope == 0 ? 100.0 : 100.0 * static_cast<double>(planned) /
                                                 static_cast<double>(scope);
  return " (" + PercentText(std::round(share * 10) / 10) + "% of the " + std::to_string(scope) +
         " " + std::string(what) + ")";
}

std::string DeleteLimitRefusal(const DeleteLimit& limit, uint64_t planned, uint64_t scope,
                               bool dry_run, std::string_view side) {
  std::string out = std::to_string(planned) + " deletes planned" +
                    DeleteLimitShare(limit, planned, scope,
                                     std::string(side) + " objects in scope");
  out += ", over " + limit.Name() + " " + limit.Text() + ": ";
  out += dry_run ? "a run would delete nothing" : "nothing was deleted";
  out += "; check the source and destination, then ";
  out += limit.from.empty() ? "rerun with a higher --max-delete (or without it)"
                            : "raise " + limit.from + " (or rerun with a higher --max-delete)";
  out += " to delete them";
  return out;
}

}  // namespace ferry::plan
