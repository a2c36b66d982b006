// An inventory's current rows kept whole through a run's sort (`--source-inventory` and
// `--dest-inventory` with the rows as the listing of their side): each row is one string, its
// key first, then a NUL byte, then the row's metadata (size, last modified, ETag, storage class,
// version id, archived), so that lists::SortKeys sorts the records in the keys' byte order (a
// key that is a prefix of another sorts first, as NUL is below every other byte) with its
// bounded memory and its spill to disk, and the metadata comes back with the key.
//
// A key, ETag, storage class or version id holding a NUL byte cannot be encoded: the row is
// refused (kInvalidArgument naming the key) rather than cut. S3 writes no such row.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/object_info.h"

namespace ferry::inventory {

// The record of `row` under the run's key `key` (the row's key without the run's prefix).
// Only what a listing gives is kept: key, size, mtime, etag, storage_class, version_id and
// archive.archived (the row is current: not a delete marker, the latest version).
Result<std::string> EncodeRunRow(const storage::ObjectInfo& row, std::string_view key);

// The key of a record (everything before its first NUL; a bare key is its own key).
std::string_view RunRowKey(std::string_view record);

// The object a record holds, as a listing would give it (has_details false, is_latest true).
// kInvalidArgument for a record EncodeRunRow did not write.
Result<storage::ObjectInfo> DecodeRunRow(std::string_view record);

}  // namespace ferry::inventory
