// Location: where objects live, parsed from a command-line argument.
//   s3://bucket/prefix     S3 with the standard AWS environment chain
//   NAME:bucket/prefix     S3 through remote NAME of the config file (a remote with
//                          type = "azure": that Azure account's container)
//   az://account/container/prefix   Azure Blob Storage (docs/design/azure.md)
//   gs://bucket/prefix     Google Cloud Storage (docs/design/gcs.md; a remote with
//                          type = "gcs" names its endpoint and key file)
//   /path, ./path, file:///path   a local folder
// A non-empty prefix names a folder-like prefix and is normalised to end with '/'.
// Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::app {

struct Location {
  enum class Kind { kLocal, kS3, kAzure, kGcs };
  Kind kind = Kind::kLocal;
  std::string remote;  // config remote name; "" for s3://, az://, gs:// and local
  std::string account;  // az:// only: the Azure storage account
  std::string bucket;   // S3 or GCS bucket; Azure container
  std::string prefix;  // "" or ends with '/'
  std::string path;    // local folder
  std::string text;    // as given, for messages

  bool is_s3() const { return kind == Kind::kS3; }
  bool is_azure() const { return kind == Kind::kAzure; }
  bool is_gcs() const { return kind == Kind::kGcs; }
};

// kInvalidArgument with one clear line for malformed input ("malformed location ...").
Result<Location> ParseLocation(std::string_view text);

// S3 bucket naming rules (3-63 characters of a-z 0-9 . -, starting and ending with a letter or
// digit). Returns an explanation on failure.
Status ValidateBucketName(std::string_view bucket);

// Azure's naming rules: an account is 3-24 characters of a-z 0-9; a container 3-63 of a-z 0-9
// '-', starting and ending with a letter or digit, no "--". Returns an explanation on failure.
Status ValidateAzureNames(std::string_view account, std::string_view container);

// GCS bucket naming rules: 3-63 characters of a-z 0-9 - _ . (up to 222 with dots, each
// dot-separated part at most 63), starting and ending with a letter or digit. Returns an
// explanation on failure.
Status ValidateGcsBucketName(std::string_view bucket);

}  // namespace ferry::app
