// Location: where objects live, parsed from a command-line argument.
//   s3://bucket/prefix     S3 with the standard AWS environment chain
//   NAME:bucket/prefix     S3 through remote NAME of the config file
//   /path, ./path, file:///path   a local folder
// A non-empty prefix names a folder-like prefix and is normalised to end with '/'.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::app {

struct Location {
  enum class Kind { kLocal, kS3 };
  Kind kind = Kind::kLocal;
  std::string remote;  // config remote name; "" for s3:// and local
  std::string bucket;
  std::string prefix;  // "" or ends with '/'
  std::string path;    // local folder
  std::string text;    // as given, for messages

  bool is_s3() const { return kind == Kind::kS3; }
};

// kInvalidArgument with one clear line for malformed input ("malformed location ...").
Result<Location> ParseLocation(std::string_view text);

// S3 bucket naming rules (3-63 characters of a-z 0-9 . -, starting and ending with a letter or
// digit). Returns an explanation on failure.
Status ValidateBucketName(std::string_view bucket);

}  // namespace ferry::app
