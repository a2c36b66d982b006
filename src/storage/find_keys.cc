#include "storage/find_keys.h"

namespace ferry::storage {
namespace {

// U+10FFFF in UTF-8: sorts after every other character (jobs/key_range.h's kMaxCharacter).
constexpr std::string_view kLastUtf8Character = "\xF4\x8F\xBF\xBF";

// The length of the longest common prefix of a and b, moved back to a character start of b
// (the prefix goes to S3, which wants UTF-8).
size_t SharedKeyPrefixLength(std::string_view a, std::string_view b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  while (n > 0 && n < b.size() && (static_cast<unsigned char>(b[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

// As close below `key` as a valid UTF-8 string can cheaply be: `key` without its last
// character c, plus the character before c and U+10FFFF when c is ASCII. Only keys that start
// with that are listed needlessly.
std::string KeyJustBefore(std::string_view key) {
  size_t cut = key.size();
  while (cut > 0 && (static_cast<unsigned char>(key[cut - 1]) & 0xC0) == 0x80) --cut;
  if (cut > 0) --cut;
  std::string out(key.substr(0, cut));
  const auto last = static_cast<unsigned char>(key.empty() ? 0 : key.back());
  if (key.size() - cut == 1 && last > 0x01 && last < 0x80) {
    out.push_back(static_cast<char>(last - 1));
    out.append(kLastUtf8Character);
  }
  return out;
}

Result<size_t> FindKeysByListing(Backend& backend, std::span<const std::string> keys,
                                 const FoundKeysFn& found, std::stop_token stop) {
  // The listing is merged with the sorted keys: only a store that lists in byte order (a
  // directory bucket does not) is listed; otherwise each key is asked for.
  if (keys.size() <= kFindKeysStatAtMost || !backend.features().sorted_listing) return size_t{0};
  const std::string start_after = KeyJustBefore(keys.front());
  const std::string& last = keys.back();
  const std::string prefix = last.substr(0, SharedKeyPrefixLength(start_after, last));
  FERRY_ASSIGN_OR_RETURN(auto cursor, backend.ListFrom(prefix, start_after));
  size_t next = 0;  // keys[next..] are not decided yet
  size_t listed = 0;
  while (next < keys.size()) {
    if (stop.stop_requested()) return Status::Cancelled("stopped");
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, cursor->Next());
    if (o == nullptr || o->key > last) return keys.size();  // none of the rest exists
    while (next < keys.size() && keys[next] < o->key) ++next;  // absent
    const size_t first = next;
    if (next < keys.size() && keys[next] == o->key) ++next;
    if (o->not_followed || (!o->unreadable.empty() && o->key.ends_with('/'))) {
      // A folder not entered or not readable: what is under it is unknown.
      while (next < keys.size() && keys[next].starts_with(o->key)) ++next;
    }
    if (next > first) FERRY_RETURN_IF_ERROR(found(*o, first, next));
    // Far more objects than wanted keys in the range: a Stat of each key left is cheaper.
    if (++listed >= kFindKeysPerPage * (keys.size() - next)) break;
  }
  return next;
}

Result<std::optional<ObjectInfo>> StatKey(Backend& backend, std::string_view key,
                                          std::stop_token stop) {
  auto info = backend.Stat(key, /*with_tags=*/false, stop);
  if (info.ok()) return std::optional<ObjectInfo>(std::move(*info));
  if (info.status().code() == ErrorCode::kNotFound ||
      info.status().code() == ErrorCode::kInvalidArgument) {  // a key it cannot hold
    return std::optional<ObjectInfo>();
  }
  return info.status();
}

Status FindKeys(Backend& backend, std::span<const std::string> keys, const FoundKeysFn& found,
                std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(size_t next, FindKeysByListing(backend, keys, found, stop));
  for (; next < keys.size(); ++next) {
    FERRY_ASSIGN_OR_RETURN(auto info, StatKey(backend, keys[next], stop));
    if (info) FERRY_RETURN_IF_ERROR(found(*info, next, next + 1));
  }
  return Status::Ok();
}

}  // namespace ferry::storage
