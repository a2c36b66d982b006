// Key safety for local folders, and keys made fit to print.
//
// A key is any UTF-8 string of up to 1024 bytes (the S3 limit), but only some keys name a file
// inside a folder without escaping it or colliding with the file system's own names. The local
// backend calls ValidateLocalKey on every key before it touches the file system; other code
// calls PrintableKey to put a key (which may hold control characters or invalid UTF-8) into an
// error message or a log line.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::storage {

// The longest key ferry accepts, in bytes (S3's limit).
inline constexpr size_t kMaxKeyBytes = 1024;

// The local backend writes each object to a temporary file named kLocalTempPrefix + random
// characters in the destination folder, then renames it over the target. Listings skip these
// names, so keys may not use them.
inline constexpr std::string_view kLocalTempPrefix = ".ferry-tmp-";

// Returns OK when `key` can be stored as a file under a local folder without leaving it.
// Otherwise kInvalidArgument with one message naming the key (escaped by PrintableKey) and the
// reason. Refused: the empty key; keys over kMaxKeyBytes; NUL bytes; absolute paths ("/x");
// a trailing '/' (a directory marker cannot be a file); empty segments ("a//b"); "." and ".."
// segments; a segment starting with kLocalTempPrefix. Everything else is allowed, including
// spaces, '%', '+', '\\' and any UTF-8 (file systems store names as bytes).
Status ValidateLocalKey(std::string_view key);

// True when `s` is well-formed UTF-8 (RFC 3629). S3 keys always are; local file names may not
// be (they are bytes).
bool IsValidUtf8(std::string_view s);

// `key` with control characters (C0, DEL, C1) and bytes that are not valid UTF-8 replaced by
// escapes ("\x00", "\u0085"); '\\' and '"' are escaped too, so the result can be shown inside
// double quotes without ambiguity. Valid printable UTF-8 is kept as it is.
std::string PrintableKey(std::string_view key);

}  // namespace ferry::storage
