// DeleteLimit: `--max-delete N|P%` (sync --delete; [sync] max_delete in the config), the guard
// of a sync pointed at the wrong place. It is checked once per run, on the plan's count of
// deletes, before the first delete: past it, the run deletes nothing at all (unlike rclone's
// --max-delete, which deletes up to N), so nothing is ever left half deleted.
//
//   N   at most N deletes (0: none at all).
//   P%  at most P percent (0 to 100, decimals allowed) of the destination objects in the run's
//       scope: the destination objects its listing compared, i.e. those that pass the run's
//       filters (--include/--exclude, sizes, ages), deleted or not.
//
// Where it is checked: transfer::RunSync (in-memory runs) before it replays its spooled
// deletes; jobs::Worker::AdvanceRun (durable runs) before it unparks the run's delete phase.
// docs/design/guards.md.
//
// Thread-safety: a value type; the functions are pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::plan {

struct DeleteLimit {
  enum class Kind { kNone, kCount, kPercent };
  Kind kind = Kind::kNone;
  uint64_t count = 0;   // kCount
  double percent = 0;   // kPercent: 0..100
  // Where the limit was set, as its refusal names it: empty for the flag (--max-delete), else
  // the config key ("[sync] max_delete"). Travels with a durable run's options.
  std::string from;

  bool enabled() const { return kind != Kind::kNone; }
  // As the flag takes it: "1000", "10%", "" when none.
  std::string Text() const;
  // "--max-delete", or `from` when the config set the limit.
  std::string Name() const { return from.empty() ? "--max-delete" : from; }
  // True when `planned` deletes are past the limit, `scope` being the destination objects in
  // the run's scope. A disabled limit is never exceeded.
  bool Exceeded(uint64_t planned, uint64_t scope) const;
};

// "1000" or "10%" (also "2.5%"). kInvalidArgument, one line without the flag's name (the
// caller adds it): a negative, fractional or non-numeric count, a percentage outside 0..100.
Result<DeleteLimit> ParseDeleteLimit(std::string_view text);

// " (12.5% of the 8 WHAT)" for a percentage limit, "" for a count: the share of `scope` that
// `planned` is, as every --max-delete refusal words it.
std::string DeleteLimitShare(const DeleteLimit& limit, uint64_t planned, uint64_t scope,
                             std::string_view what);

// The one line that says a run stopped before deleting: planned count, its share of the scope
// (for a percentage), the limit by its Name(), and how to go on (rerun with a higher
// --max-delete, or raise the config key that set it). `dry_run`: the limit would trip. `side`
// names whose objects the scope counts ("destination"; ferry move: "source").
std::string DeleteLimitRefusal(const DeleteLimit& limit, uint64_t planned, uint64_t scope,
                               bool dry_run, std::string_view side = "destination");

}  // namespace ferry::plan
