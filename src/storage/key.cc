#include "storage/key.h"

#include <cstdint>

namespace ferry::storage {
namespace {

// Length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
// U+10FFFF) starting at s[i], and its code point; 0 when the bytes there are not one.
size_t DecodeUtf8(std::string_view s, size_t i, uint32_t* code_point) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  size_t len = 0;
  uint8_t lo = 0x80;  // bounds of the second byte
  uint8_t hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  uint32_t cp = b0 & (0xFF >> (len + 1));
  for (size_t k = 1; k < len; ++k) {
    const uint8_t b = byte(i + k);
    if ((b & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b & 0x3F);
  }
  *code_point = cp;
  return len;
}

void AppendHexEscape(std::string& out, const char* prefix, uint32_t v, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += prefix;
  for (int d = digits - 1; d >= 0; --d) out += kHex[(v >> (4 * d)) & 0xF];
}

Status Refuse(std::string_view key, std::string_view reason) {
  std::string m = "invalid key \"";
  m += PrintableKey(key);
  m += "\" for a local folder: ";
  m += reason;
  return Status::InvalidArgument(std::move(m));
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const size_t len = DecodeUtf8(s, i, &cp);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::string PrintableKey(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  size_t i = 0;
  while (i < key.size()) {
    uint32_t cp = 0;
    const size_t len = DecodeUtf8(key, i, &cp);
    if (len == 0) {
      AppendHexEscape(out, "\\x", static_cast<uint8_t>(key[i]), 2);
      ++i;
      continue;
    }
    if (cp < 0x20 || cp == 0x7F) {
      AppendHexEscape(out, "\\x", cp, 2);
    } else if (cp >= 0x80 && cp <= 0x9F) {
      AppendHexEscape(out, "\\u", cp, 4);
    } else if (cp == '\\' || cp == '"') {
      out += '\\';
      out += static_cast<char>(cp);
    } else {
      out.append(key.substr(i, len));
    }
    i += len;
  }
  return out;
}

Status ValidateLocalKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("invalid key \"\" for a local folder: empty");
  if (key.size() > kMaxKeyBytes) {
    // Print only the beginning: a message holding a whole over-long key helps nobody.
    std::string m = "invalid key \"" + PrintableKey(key.substr(0, 64)) + "...\" for a local " +
                    "folder: " + std::to_string(key.size()) + " bytes, more than the limit of " +
                    std::to_string(kMaxKeyBytes);
    return Status::InvalidArgument(std::move(m));
  }
  if (key.find('\0') != std::string_view::npos) return Refuse(key, "contains a NUL byte");
  if (key.front() == '/') return Refuse(key, "absolute paths are not allowed");
  if (key.back() == '/') {
    return Refuse(key, "ends with '/': a directory marker cannot be stored as a file");
  }
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    const std::string_view segment = key.substr(start, end - start);
    if (segment.empty()) return Refuse(key, "contains an empty path segment (\"//\")");
    if (segment == ".") return Refuse(key, "contains a \".\" path segment");
    if (segment == "..") return Refuse(key, "contains a \"..\" path segment");
    if (segment.starts_with(kLocalTempPrefix)) {
      return Refuse(key,
                    "a path segment starts with \".ferry-tmp-\", which is reserved for "
                    "ferry's temporary files");
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace ferry::storage
