// Private helpers of the events parsers: bounded JSON parsing, member access that never throws,
// key decoding, UTF-8 and time checks. Not part of the module's contract.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "events/event.h"
#include "events/parse.h"

namespace ferry::events::internal {

// Arrays and objects nested deeper than this refuse the body (malformed_json): real bodies
// nest five deep, and a bound keeps a hostile body from costing stack or time.
inline constexpr int kMaxJsonDepth = 32;

// `text` as a JSON object: too_large over options.max_body_bytes, malformed_json when it does
// not parse, nests too deep or is not an object. `what` names it in messages ("body").
Result<nlohmann::json> ParseJsonObject(std::string_view text, const ParseOptions& options,
                                       std::string_view what);

// The string member `name` of object `j`, when present and a string.
const std::string* StringMember(const nlohmann::json& j, const char* name);
// ... or "" when absent or of another type (informational fields).
std::string StringOr(const nlohmann::json& j, const char* name);
// The object member `name` of `j`, or nullptr when absent or not an object.
const nlohmann::json* ObjectMember(const nlohmann::json& j, const char* name);

// Decodes application/x-www-form-urlencoded text ('+' is a space, %XX a byte; AWS and MinIO
// encode keys so). nullopt on a '%' not followed by two hex digits.
std::optional<std::string> FormDecode(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past
// U+10FFFF).
bool IsUtf8(std::string_view s);

// "2019-11-22T13:47:35.124724Z", "1970-01-01T00:00:00.000Z", "2024-05-01T10:00:00+02:00":
// date, 'T', time with optional fraction (up to nanoseconds are kept), 'Z' or an offset, or
// nothing (UTC: moto's notifications).
// nullopt when malformed or naming no such day.
std::optional<std::chrono::system_clock::time_point> ParseEventTime(std::string_view s);

// Reads the records of an S3 notification (`j` has a "Records" member).
Result<std::vector<Event>> ParseRecords(const nlohmann::json& j, const ParseOptions& options);

}  // namespace ferry::events::internal
