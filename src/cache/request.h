// Warm requests as users write them: `--ttl` texts and the JSON request file of S3 Express One
// Zone caching solutions ({"bucket", "prefixes", "ttl" in hours, "directory_bucket",
// "force_copy"}), so that their users can keep their requests. Pure; thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::cache {

struct RequestFile {
  std::string bucket;  // the source: a bucket name or a location text
  std::vector<std::string> prefixes;
  std::chrono::seconds ttl{0};
  std::string directory_bucket;  // the cache: a bucket name or a location text ("" = not given)
  bool force_copy = false;
};

// What a request may hold: others write request files (and, served, send them), so their
// reader bounds what it takes.
inline constexpr size_t kMaxRequestBytes = 1 << 20;
inline constexpr size_t kMaxRequestPrefixes = 10000;
inline constexpr size_t kMaxPrefixBytes = 1024;  // an S3 key's limit

// Parses a request file's text. kInvalidArgument, one line, for malformed JSON, a missing or
// mistyped field, no prefixes, a TTL that is not a positive number of hours, or more than the
// limits above (a text over kMaxRequestBytes is refused before it is parsed).
Result<RequestFile> ParseRequestJson(std::string_view text);

// A --ttl: a duration such as "24h", "90m", "1d12h" (plan::ParseAge's units). A leading '-'
// or zero is refused (kInvalidArgument: the TTL must be positive).
Result<std::chrono::seconds> ParseTtl(std::string_view text);

// A bucket name as given in a request file becomes "s3://NAME"; a location text (with ':' or
// '/') is kept.
std::string BucketLocation(std::string_view bucket);

}  // namespace ferry::cache
