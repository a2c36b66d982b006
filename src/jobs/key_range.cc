#include "jobs/key_range.h"

#include <vector>

namespace ferry::jobs {

Result<std::optional<std::string>> FindSplit(storage::Backend& source, const KeyRange& rest,
                                             std::string_view first, int* probes) {
  // Prefix lengths of `first` at character starts (UTF-8 continuation bytes are 10xxxxxx),
  // shortest first. A prefix followed by U+10FFFF in `first` itself is left out: its boundary
  // would not be after `first`.
  std::vector<size_t> cuts;
  for (size_t i = 0; i <= first.size(); ++i) {
    const bool char_start = i == first.size() || (static_cast<unsigned char>(first[i]) & 0xC0) != 0x80;
    if (char_start && !first.substr(i).starts_with(kMaxCharacter)) cuts.push_back(i);
  }
  auto boundary = [&](size_t i) {
    return std::string(first.substr(0, cuts[i])) + std::string(kMaxCharacter);
  };
  // Whether a key of `rest` lies after boundary(i). Boundaries fall as prefixes grow, so this
  // is false up to some length and true from there on.
  auto splits = [&](size_t i) -> Result<bool> {
    const std::string b = boundary(i);
    if (rest.last && b >= *rest.last) return false;
    if (probes != nullptr) ++*probes;
    FERRY_ASSIGN_OR_RETURN(std::optional<std::string> after, source.FirstKeyAfter(b));
    return after.has_value() && rest.BeforeEnd(*after);
  };
  if (cuts.empty()) return std::optional<std::string>();
  size_t hi = cuts.size() - 1;
  FERRY_ASSIGN_OR_RETURN(bool any, splits(hi));
  if (!any) return std::optional<std::string>();
  size_t lo = 0;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    FERRY_ASSIGN_OR_RETURN(bool s, splits(mid));
    if (s) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return std::optional<std::string>(boundary(hi));
}

}  // namespace ferry::jobs
