// Key ranges: how a run's listing is cut into scan jobs that list in parallel.
//
// A scan job owns the keys in (start_after, last]: strictly after `start_after`, up to and
// including `last` (no end when absent). It lists both sides from start_after, stops at
// `last`, and, when its chunk of keys runs out before the range does, hands the rest on: as
// one range, or, when the run has no listing or transfer work waiting, as two ranges split at
// a key that FindSplit found with a few probes. Ranges never overlap and always cover the rest
// exactly, so every key is planned once however the work was split.
//
// Finding a split without knowing where the keys are: the rest of a range starts after the last
// key listed, B, and its first key F is known. For a prefix P of F, the boundary P + U+10FFFF
// (the largest code point) puts every key that starts with P on the low side. FindSplit tries
// two prefixes, one FirstKeyAfter probe each: the prefix F shares with B (the family both
// belong to: "logs/2024/0" of ".../01/31/x" and ".../02/01/a"), then that prefix and F's next
// character (F's own family). The first that leaves a key of the range above its boundary is
// the split. So each split costs one or two requests, keeps the rest of the current family,
// and hands on everything after it, which is split again in the same way when its scan finds
// the run short of listing work; parallel listing spreads over the key space in a few rounds.
//
// Thread-safety: pure values and functions; FindSplit uses the backend from one thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"

namespace ferry::jobs {

struct KeyRange {
  std::string start_after;          // "" = from the first key
  std::optional<std::string> last;  // nullopt = to the end

  // True when `key` is at or before the end (keys listed from start_after are after it).
  bool BeforeEnd(std::string_view key) const { return !last || key <= *last; }
  // The prefix every key of the range has: what start_after and last share ("" without last).
  // (A key between two strings that start with P starts with P.)
  std::string SharedPrefix() const;
  bool operator==(const KeyRange&) const = default;
};

// U+10FFFF in UTF-8: sorts after every other character, so P + kMaxCharacter ends the keys
// that start with P. Valid UTF-8, so S3 accepts it as start-after.
inline constexpr std::string_view kMaxCharacter = "\xF4\x8F\xBF\xBF";

// A key M with keys of `rest` on both sides: (rest.start_after, M] holds `first` and
// (M, rest.last] at least one more key. `first` is the first key of `rest` (already listed).
// nullopt when neither candidate splits (e.g. the rest is one family that continues past
// F's). At most two probes; counts them in `*probes` when given. Errors: those of the probes.
Result<std::optional<std::string>> FindSplit(storage::Backend& source, const KeyRange& rest,
                                             std::string_view first, int* probes = nullptr);

}  // namespace ferry::jobs
