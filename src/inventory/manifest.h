// An S3 Inventory's manifest (manifest.json) as ferry reads it: which bucket it lists, when it
// was made, the CSV schema of its rows and the data files that hold them
// (docs/design/inventory.md). AWS writes, per inventory configuration and run:
//   <destination-prefix>/<source-bucket>/<configuration-id>/<YYYY-MM-DDTHH-MMZ>/manifest.json
//   .../<YYYY-MM-DDTHH-MMZ>/manifest.checksum   (the MD5 hex of manifest.json)
//   <destination-prefix>/<source-bucket>/<configuration-id>/data/<uuid>.csv.gz
// The files' keys in the manifest are keys of the destination bucket.
//
// Only CSV inventories are read: an ORC or Parquet one is refused in one line (Debian ships no
// reader for either). Every error is kInvalidArgument (or kDataLoss for a checksum that does
// not match) in one line that starts with the manifest's location.
//
// Thread-safety: pure functions, except ReadManifest, which reads through a Backend (itself
// thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::storage {
class Backend;
}  // namespace ferry::storage

namespace ferry::inventory {

// The columns of a row that ferry uses; every other column of fileSchema is kOther, skipped by
// its position.
enum class Field {
  kOther,
  kBucket,
  kKey,
  kVersionId,
  kIsLatest,
  kIsDeleteMarker,
  kSize,
  kLastModifiedDate,
  kETag,
  kStorageClass,
};

// One data file of the inventory, as the manifest lists it.
struct DataFile {
  std::string key;  // a key of the destination bucket (relative to its root)
  uint64_t size = 0;
  std::string md5_hex;  // MD5checksum: 32 lower-case hex digits (of the file's bytes as stored)
};

struct Manifest {
  std::string location;  // where it was read from, as messages name it
  std::string source_bucket;
  std::string destination_bucket;  // as written ("arn:aws:s3:::bucket"); may be ""
  std::string version;             // the format's version ("2016-11-30"); may be ""
  std::optional<std::chrono::system_clock::time_point> created;  // creationTimestamp (ms)
  std::string file_format;                                       // "CSV"
  std::vector<std::string> column_names;  // fileSchema, trimmed, in order
  std::vector<Field> columns;             // the same columns, as ferry uses them
  std::vector<DataFile> files;
};

// Parses manifest.json's text. Refuses: text that is not a JSON object; a missing or mistyped
// sourceBucket, fileFormat, fileSchema or files; a fileFormat other than CSV (ORC and Parquet
// named as such); a fileSchema without Key, with an empty column, or naming a column ferry
// uses twice; a file without a key, a size or a 32-hex-digit MD5checksum; a creationTimestamp
// that is not milliseconds since the epoch. `location` starts every message.
Result<Manifest> ParseManifest(std::string_view json, std::string_view location);

// Checks manifest.checksum's text (the MD5 hex of manifest.json, whitespace around it allowed,
// either case) against `json`: kDataLoss naming both digests when they differ; kInvalidArgument
// when the text is not 32 hex digits.
Status CheckManifestChecksum(std::string_view json, std::string_view checksum_text,
                             std::string_view location);

// The largest manifest.json ReadManifest reads (a manifest lists files, not keys: an
// inventory of a billion keys has a few thousand files, well under a megabyte).
inline constexpr uint64_t kMaxManifestBytes = 64u << 20;

// Reads the manifest at `key` of `store` (and the manifest.checksum beside it, checked, when
// there is one), then parses it; messages name it as the store's Describe() followed by `key`.
// kNotFound when the manifest is absent; the store's own errors otherwise.
Result<Manifest> ReadManifest(storage::Backend& store, std::string_view key,
                              std::stop_token stop);

// "Key" -> kKey, ...; kOther for a name ferry does not use (matched exactly, as AWS writes).
Field FieldOf(std::string_view name);

}  // namespace ferry::inventory
