// Time stamps in the formats S3 uses: SigV4's basic ISO 8601 (x-amz-date), ISO 8601 with
// optional fractional seconds in XML replies, and the RFC 1123 HTTP-date of Last-Modified.
//
// Called by the signer, the XML parsers and the header parsers. Pure; thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::s3 {

// "20150830T123600Z" (UTC; sub-second part dropped).
std::string FormatAmzDate(std::chrono::system_clock::time_point t);

// "2026-11-22T00:53:21.123Z" (UTC, milliseconds): what S3's object lock dates look like.
std::string FormatIso8601(std::chrono::system_clock::time_point t);

// "2026-11-22T00:53:21.123Z", "2026-11-22T00:53:21Z" or with a "+00:00"-style offset.
// nullopt when malformed, or outside the years 1678-2261 (what system_clock's int64
// nanoseconds hold; both parsers).
std::optional<std::chrono::system_clock::time_point> ParseIso8601(std::string_view s);

// RFC 1123 "Sun, 22 Nov 2026 00:53:21 GMT" (also accepts the day name missing).
// nullopt when malformed.
std::optional<std::chrono::system_clock::time_point> ParseHttpDate(std::string_view s);

}  // namespace ferry::s3
