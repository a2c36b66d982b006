// One row of an S3 Inventory CSV data file, parsed (pure: no I/O).
//
// AWS writes every field in double quotes ("bucket","photos/a+b.jpg","123",...), a quote inside
// a field doubled; ferry also takes unquoted fields. A row is one line: keys are URL-encoded,
// so no field holds a line break, and a quote left open at the end of the line is an error.
//
// Keys are URL-encoded as AWS writes them in inventories: a space is '+', every byte outside
// the unreserved set is %XX (UTF-8 bytes of a unicode key, and '+' itself as %2B). DecodeKey
// undoes it; a '%' not followed by two hex digits is an error.
//
// Errors are kInvalidArgument with the reason only ("bad %-escape in key \"a%zz\""): the
// reader (rows.h) prefixes the data file and row number.
//
// Thread-safety: pure functions.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "inventory/manifest.h"
#include "storage/object_info.h"

namespace ferry::inventory {

// Splits `line` into its fields (quotes removed, doubled quotes made single), into `fields`
// (resized to the field count; its strings' capacity is reused from row to row). On an error
// `fields` holds what was read so far.
Status SplitCsvLine(std::string_view line, std::vector<std::string>& fields);

// The key a URL-encoded inventory key names ('+' is a space, %XX a byte).
Result<std::string> DecodeKey(std::string_view encoded);

// "2016-11-06T21:32:00.000Z" (fraction optional, any number of digits; 'Z' required).
Result<std::chrono::system_clock::time_point> ParseLastModified(std::string_view text);

// The object a row's fields describe, by `columns` (the manifest's fileSchema: one field per
// column, checked). Fills key (decoded), version_id, is_latest, delete_marker, size (a delete
// marker's empty Size is 0; any other object's must be a decimal number), etag (quotes
// dropped), mtime, storage_class ("STANDARD" as ""; archive classes set archive.archived, as a
// listing does). `source_bucket`: a Bucket column naming another bucket is an error.
Result<storage::ObjectInfo> RowObject(const std::vector<std::string>& fields,
                                      const std::vector<Field>& columns,
                                      std::string_view source_bucket);

}  // namespace ferry::inventory
