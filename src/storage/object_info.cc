#include "storage/object_info.h"

#include <charconv>

#include "checksum/checksum.h"

namespace ferry::storage {

std::optional<uint32_t> ObjectInfo::crc32c() const {
  auto it = metadata.find(kMetaCrc32c);
  if (it == metadata.end()) return std::nullopt;
  return checksum::ParseHex32(it->second);
}

std::chrono::system_clock::time_point ObjectInfo::source_mtime() const {
  auto it = metadata.find(kMetaMtime);
  if (it == metadata.end()) return mtime;
  const std::string& text = it->second;
  int64_t ns = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, ns);
  // Anything but one whole decimal number (a value written by something else) is ignored.
  if (text.empty() || ec != std::errc() || ptr != end) return mtime;
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(ns)));
}

bool ObjectInfo::etag_is_md5() const {
  if (etag_opaque || etag.size() != 32) return false;
  for (char c : etag) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (!hex) return false;
  }
  return true;
}

}  // namespace ferry::storage

namespace ferry::storage {

bool IsArchiveClass(std::string_view storage_class) {
  return storage_class == "GLACIER" || storage_class == "DEEP_ARCHIVE";
}

}  // namespace ferry::storage
