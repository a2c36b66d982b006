#include "jobs/key_range.h"

namespace ferry::jobs {
namespace {

// The length of the longest common prefix of a and b, moved back to a character start of b
// (UTF-8 continuation bytes are 10xxxxxx).
size_t CommonPrefix(std::string_view a, std::string_view b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  while (n > 0 && n < b.size() && (static_cast<unsigned char>(b[n]) & 0xC0) == 0x80) --n;
  return n;
}

// The end of the next character of s at `i` (i < s.size()).
size_t NextCharacter(std::string_view s, size_t i) {
  ++i;
  while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
  return i;
}

}  // namespace

std::string KeyRange::SharedPrefix() const {
  if (!last) return {};
  // Cut at a character start: the prefix goes to S3, which wants UTF-8.
  return last->substr(0, CommonPrefix(start_after, *last));
}

Result<std::optional<std::string>> FindSplit(storage::Backend& source, const KeyRange& rest,
                                             std::string_view first, int* probes) {
  // Candidates: the prefix `first` shares with the key before it (the family both belong to),
  // then one character more (the family of `first` alone).
  const size_t shared = CommonPrefix(rest.start_after, first);
  size_t lengths[2] = {shared, shared < first.size() ? NextCharacter(first, shared) : shared};
  for (size_t i = 0; i < 2; ++i) {
    if (i == 1 && lengths[1] == lengths[0]) break;
    const std::string_view prefix = first.substr(0, lengths[i]);
    // A prefix that `first` continues with U+10FFFF would put `first` above its own boundary.
    if (first.substr(prefix.size()).starts_with(kMaxCharacter)) continue;
    std::string boundary = std::string(prefix) + std::string(kMaxCharacter);
    if (rest.last && boundary >= *rest.last) continue;  // nothing of the range above it
    if (probes != nullptr) ++*probes;
    FERRY_ASSIGN_OR_RETURN(std::optional<std::string> above, source.FirstKeyAfter(boundary));
    if (above && rest.BeforeEnd(*above)) return std::optional<std::string>(std::move(boundary));
  }
  return std::optional<std::string>();
}

}  // namespace ferry::jobs
