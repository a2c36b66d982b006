// Filter: which objects a copy or sync considers at all (--include, --exclude, --min-size,
// --max-size, --newer-than, --older-than), plus the parsers for the size and age flags.
// The CLI and the job spec build a FilterOptions; the sync driver builds one Filter per job and
// asks it about each object of the merged listing (plan/merge.h) before calling Decide.
//
// How the sync driver must use it (rclone semantics):
//   - source only, or on both sides: the object takes part only if Matches(src); otherwise the
//     key is ignored (neither copied nor deleted).
//   - destination only (a --delete candidate): delete only if Matches(dst). A destination
//     object that does not pass the filter is outside the sync's scope and is kept, so that
//     "sync --include '*.jpg' --delete" never deletes the destination's other objects.
// Matches looks only at listing fields (key, size, mtime), never at details, so its answer is
// the same before and after a Stat. Time filters compare `mtime` (S3 LastModified, or the
// local file's mtime), not the ferry-mtime recorded in metadata.
//
// Thread-safety: a Filter is immutable; Matches may be called from many threads. The parsers
// are pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "plan/glob.h"
#include "storage/object_info.h"

namespace ferry::plan {

struct FilterOptions {
  // Glob patterns; syntax and anchoring in plan/glob.h. Empty include = include everything.
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::optional<uint64_t> min_size;  // keep objects with size >= min_size
  std::optional<uint64_t> max_size;  // keep objects with size <= max_size
  // Keep objects with mtime >= newer_than (--newer-than AGE: newer_than = now - AGE).
  std::optional<std::chrono::system_clock::time_point> newer_than;
  // Keep objects with mtime <= older_than (--older-than AGE: older_than = now - AGE).
  std::optional<std::chrono::system_clock::time_point> older_than;
};

class Filter {
 public:
  // Matches every object.
  Filter() = default;

  // Compiles the patterns and checks the options. kInvalidArgument (message names the
  // offending pattern or flag) when:
  //   - a pattern is malformed (unclosed '[', reversed range, trailing '\', empty);
  //   - min_size > max_size, or newer_than > older_than (nothing could pass);
  //   - newer_than or older_than lies after `now` (an age cannot be negative: a caller bug).
  static Result<Filter> Make(const FilterOptions& options,
                             std::chrono::system_clock::time_point now);

  // True when `object` passes: its key matches at least one include pattern (when any is
  // given) and no exclude pattern (exclude wins), and its size and mtime lie within the bounds.
  // Use it on both sides; see the header comment for the rules.
  bool Matches(const storage::ObjectInfo& object) const;

  // True when Matches returns true for every object (no option set).
  bool AcceptsAll() const;

 private:
  std::vector<Glob> include_;
  std::vector<Glob> exclude_;
  FilterOptions bounds_;  // only the size and time fields are used
};

// Parses a --newer-than/--older-than age: one or more <whole number><unit> groups, units
// s (seconds), m (minutes), h (hours), d (days, 24 h) and w (weeks): "30s", "15m", "2h",
// "7d", "1w", "1h30m". A bare number is refused (no default unit), as are signs, fractions,
// spaces and other units ("M" and "y" are not supported). kInvalidArgument with the text and
// the reason.
Result<std::chrono::seconds> ParseAge(std::string_view text);

// Parses a --min-size/--max-size size: a whole number of bytes with an optional suffix,
// case-insensitive:
//   none or "B"            bytes                         "100", "100B"
//   K, Ki, KiB (M, G, T)   binary: 1024, 1024^2, ...     "10k", "10KiB", "5M", "5MiB", "1G"
//   KB (MB, GB, TB)        decimal: 1000, 1000^2, ...    "10KB" = 10000
// A bare number is bytes (rclone's default unit is KiB; ferry's is not). Fractions, signs,
// spaces and overflow of uint64 are refused with kInvalidArgument naming the text.
Result<uint64_t> ParseSize(std::string_view text);

}  // namespace ferry::plan
