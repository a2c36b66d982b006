// Duplicate keys and sequencer order of events.
#include "events/order.h"

#include <algorithm>
#include <functional>

namespace ferry::events {
namespace {

// The hex digit `c` upper-cased, or 0 when `c` is not one.
char HexUpper(char c) {
  if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'F')) return c;
  if (c >= 'a' && c <= 'f') return static_cast<char>(c - 'a' + 'A');
  return 0;
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (HexUpper(c) == 0) return false;
  }
  return true;
}

void AppendField(std::string& out, std::string_view field) {
  out += std::to_string(field.size());
  out += ':';
  out += field;
}

}  // namespace

std::string DedupKey::ToString() const {
  std::string out;
  for (std::string_view field : {bucket, key, version_id, sequencer, name}) {
    AppendField(out, field);
  }
  return out;
}

size_t DedupKeyHash::operator()(const DedupKey& k) const {
  size_t h = 0;
  for (const std::string* field : {&k.bucket, &k.key, &k.version_id, &k.sequencer, &k.name}) {
    // boost::hash_combine's mix: order matters, so ("a","b") and ("b","a") differ.
    h ^= std::hash<std::string>()(*field) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
  }
  return h;
}

DedupKey DedupKeyOf(const Event& e) {
  return DedupKey{e.bucket, e.key, e.version_id, e.sequencer, std::string(BareEventName(e.name))};
}

std::optional<std::strong_ordering> CompareSequencers(std::string_view a, std::string_view b) {
  if (a.empty() || b.empty() || !IsHex(a) || !IsHex(b)) return std::nullopt;
  // AWS: "right-pad the shorter value with zeros, and then do a lexicographical comparison".
  const size_t n = std::max(a.size(), b.size());
  for (size_t i = 0; i < n; ++i) {
    const char ca = i < a.size() ? HexUpper(a[i]) : '0';
    const char cb = i < b.size() ? HexUpper(b[i]) : '0';
    if (ca != cb) return ca <=> cb;
  }
  return std::strong_ordering::equal;
}

bool SequencerLess(std::string_view a, std::string_view b) {
  const auto order = CompareSequencers(a, b);
  return order && *order == std::strong_ordering::less;
}

}  // namespace ferry::events
