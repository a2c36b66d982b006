#include "plan/filter.h"

#include <cstddef>
#include <limits>
#include <utility>

namespace ferry::plan {
namespace {

using TimePoint = std::chrono::system_clock::time_point;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Reads a run of decimal digits at text[*i] into *out. False when there is none or it
// overflows uint64.
bool ReadNumber(std::string_view text, size_t* i, uint64_t* out) {
  size_t start = *i;
  uint64_t value = 0;
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  while (*i < text.size() && IsDigit(text[*i])) {
    uint64_t digit = static_cast<uint64_t>(text[*i] - '0');
    if (value > (kMax - digit) / 10) return false;
    value = value * 10 + digit;
    ++*i;
  }
  *out = value;
  return *i > start;
}

// value * factor, or false on overflow.
bool Multiply(uint64_t value, uint64_t factor, uint64_t* out) {
  if (factor != 0 && value > std::numeric_limits<uint64_t>::max() / factor) return false;
  *out = value * factor;
  return true;
}

Status BadAge(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("bad age \"" + std::string(text) + "\": " + std::string(why));
}

Status BadSize(std::string_view text, std::string_view why) {
  return Status::InvalidArgument("bad size \"" + std::string(text) + "\": " + std::string(why));
}

Result<std::vector<Glob>> CompileAll(const std::vector<std::string>& patterns,
                                     std::string_view flag) {
  std::vector<Glob> globs;
  globs.reserve(patterns.size());
  for (const std::string& pattern : patterns) {
    Result<Glob> glob = Glob::Compile(pattern);
    if (!glob.ok()) return glob.status().WithContext(flag);
    globs.push_back(std::move(glob).value());
  }
  return globs;
}

bool AnyMatches(const std::vector<Glob>& globs, std::string_view key) {
  for (const Glob& glob : globs) {
    if (glob.Matches(key)) return true;
  }
  return false;
}

}  // namespace

Result<Filter> Filter::Make(const FilterOptions& options, TimePoint now) {
  Filter filter;
  FERRY_ASSIGN_OR_RETURN(filter.include_, CompileAll(options.include, "--include"));
  FERRY_ASSIGN_OR_RETURN(filter.exclude_, CompileAll(options.exclude, "--exclude"));
  if (options.min_size && options.max_size && *options.min_size > *options.max_size) {
    return Status::InvalidArgument("--min-size " + std::to_string(*options.min_size) +
                                   " is larger than --max-size " +
                                   std::to_string(*options.max_size) + ": nothing would pass");
  }
  if (options.newer_than && options.older_than && *options.newer_than > *options.older_than) {
    return Status::InvalidArgument(
        "--newer-than and --older-than exclude each other: an object cannot be newer than the "
        "first limit and older than the second (use --newer-than with the larger age)");
  }
  if ((options.newer_than && *options.newer_than > now) ||
      (options.older_than && *options.older_than > now)) {
    return Status::InvalidArgument("--newer-than/--older-than limit lies in the future");
  }
  filter.bounds_.min_size = options.min_size;
  filter.bounds_.max_size = options.max_size;
  filter.bounds_.newer_than = options.newer_than;
  filter.bounds_.older_than = options.older_than;
  return filter;
}

bool Filter::Matches(const storage::ObjectInfo& object) const {
  if (bounds_.min_size && object.size < *bounds_.min_size) return false;
  if (bounds_.max_size && object.size > *bounds_.max_size) return false;
  if (bounds_.newer_than && object.mtime < *bounds_.newer_than) return false;
  if (bounds_.older_than && object.mtime > *bounds_.older_than) return false;
  if (!include_.empty() && !AnyMatches(include_, object.key)) return false;
  return !AnyMatches(exclude_, object.key);
}

bool Filter::AcceptsAll() const {
  return include_.empty() && exclude_.empty() && !bounds_.min_size && !bounds_.max_size &&
         !bounds_.newer_than && !bounds_.older_than;
}

Result<std::chrono::seconds> ParseAge(std::string_view text) {
  if (text.empty()) return BadAge(text, "empty");
  using Rep = std::chrono::seconds::rep;
  constexpr uint64_t kMaxSeconds = static_cast<uint64_t>(std::numeric_limits<Rep>::max());
  uint64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    uint64_t count;
    if (!ReadNumber(text, &i, &count)) {
      if (i < text.size() && IsDigit(text[i])) return BadAge(text, "number too large");
      return BadAge(text, "expected a whole number followed by a unit (s, m, h, d, w)");
    }
    if (i == text.size()) return BadAge(text, "missing unit after the number (s, m, h, d, w)");
    uint64_t unit;
    switch (text[i]) {
      case 's':
        unit = 1;
        break;
      case 'm':
        unit = 60;
        break;
      case 'h':
        unit = 3600;
        break;
      case 'd':
        unit = 86400;
        break;
      case 'w':
        unit = 7 * 86400;
        break;
      default:
        return BadAge(text, "unknown unit '" + std::string(1, text[i]) + "' (use s, m, h, d or w)");
    }
    ++i;
    uint64_t seconds;
    if (!Multiply(count, unit, &seconds) || seconds > kMaxSeconds - total) {
      return BadAge(text, "too large");
    }
    total += seconds;
  }
  return std::chrono::seconds(static_cast<Rep>(total));
}

Result<uint64_t> ParseSize(std::string_view text) {
  if (text.empty()) return BadSize(text, "empty");
  size_t i = 0;
  uint64_t count;
  if (!ReadNumber(text, &i, &count)) {
    if (IsDigit(text[0])) return BadSize(text, "number too large");
    return BadSize(text, "expected a whole number of bytes, optionally followed by K, M, G or T");
  }
  std::string suffix;
  for (size_t k = i; k < text.size(); ++k) suffix.push_back(Lower(text[k]));
  uint64_t factor = 1;
  if (!suffix.empty() && suffix != "b") {
    static constexpr std::string_view kPrefixes = "kmgt";
    size_t power = kPrefixes.find(suffix[0]);
    std::string_view rest = std::string_view(suffix).substr(1);
    uint64_t base;
    if (power == std::string_view::npos) {
      return BadSize(text, "unknown suffix \"" + std::string(text.substr(i)) +
                               "\" (use K, M, G, T; KiB = 1024, KB = 1000)");
    } else if (rest.empty() || rest == "i" || rest == "ib") {
      base = 1024;
    } else if (rest == "b") {
      base = 1000;
    } else {
      return BadSize(text, "unknown suffix \"" + std::string(text.substr(i)) +
                               "\" (use K, M, G, T; KiB = 1024, KB = 1000)");
    }
    for (size_t k = 0; k <= power; ++k) factor *= base;
  }
  uint64_t bytes;
  if (!Multiply(count, factor, &bytes)) return BadSize(text, "too large");
  return bytes;
}

}  // namespace ferry::plan
