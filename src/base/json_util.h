// JSON helpers shared by the stored payloads of the job model (jobs/payload.cc) and of the
// replication passes (replicate/payload.cc): keys that round-trip byte for byte, and parsing
// whose failures are one status line. Header-only over nlohmann::json (Debian's
// nlohmann-json3-dev): an includer links nlohmann_json::nlohmann_json.
//
// Thread-safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::json_util {

// Lower-case hex of `bytes`.
inline std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out += kDigits[b >> 4];
    out += kDigits[b & 0xf];
  }
  return out;
}

// The bytes of lower-case hex; throws std::invalid_argument for an odd length or a character
// that is not a lower-case hex digit (inside ParseJson, that becomes its error line).
inline std::string HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("hex key of odd length");
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    throw std::invalid_argument("hex key with a character that is not a lower-case hex digit");
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    out += static_cast<char>(digit(hex[i]) * 16 + digit(hex[i + 1]));
  }
  return out;
}

// A key as JSON: a string when it is valid UTF-8 (`utf8`: S3 keys always are), else
// {"hex": ...} (a local file name is bytes), so that every key round-trips byte for byte.
inline nlohmann::json KeyJson(const std::string& key, bool utf8) {
  if (utf8) return key;
  return nlohmann::json{{"hex", HexEncode(key)}};
}

// The key KeyJson made; throws (nlohmann's exceptions, std::invalid_argument) when malformed.
inline std::string KeyFrom(const nlohmann::json& j) {
  if (j.is_string()) return j.get<std::string>();
  return HexDecode(j.at("hex").get<std::string>());
}

// Compact JSON; strings that are not UTF-8 are replaced, not thrown on (keys go through KeyJson).
inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Parses `text` and returns read(the JSON); a parse error or any exception `read` throws
// becomes kInvalidArgument "malformed <what>: <why>".
template <class F>
auto ParseJson(const std::string& text, std::string_view what, F read)
    -> decltype(read(nlohmann::json())) {
  try {
    return read(nlohmann::json::parse(text));
  } catch (const std::exception& e) {
    return Status::InvalidArgument("malformed " + std::string(what) + ": " + e.what());
  }
}

}  // namespace ferry::json_util
