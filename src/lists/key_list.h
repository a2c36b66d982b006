// KeyListReader: the keys of a `--files-from` list, one at a time, in the list's order, each
// relative to the source location's prefix. Two forms (ListFormat):
//
//  - plain, as rclone's --files-from: one key per line; leading and trailing whitespace
//    (space, tab, CR, LF, VT, FF) is stripped; a line that is then empty, or starts with '#'
//    or ';', is a comment and skipped; a leading '/' is dropped (keys are relative to the
//    source prefix: "/a/b" is "a/b"). A trailing '/' is kept (unlike rclone, which trims it:
//    on an object store "dir/" is a key of its own, a folder marker).
//  - csv, as an S3 Batch Operations manifest (format S3BatchOperations_CSV_20180820): one row
//    per line, `bucket,key` or `bucket,key,version_id`, no header; the key URL-encoded as there
//    (%XX escapes; '+' is a space, as S3 Inventory writes and Batch Operations reads; a '+'
//    itself is %2B); a field may be double-quoted ("" inside is one quote). The key is the
//    bucket's key: it must start with the source's prefix, which is removed. Empty lines are
//    skipped.
//
// Bad input is never skipped: each of these is one kInvalidArgument line "NAME:LINE: what",
// and the list stops there — a CSV row with another field count, another bucket than the
// source's, a bad %-escape, a key outside the source prefix, an empty key, a key longer than
// 1,024 bytes (S3's limit), a version id (not supported yet: ferry copies current versions;
// refused rather than ignored). Errors of the LineSource (truncated gzip, a line too long)
// come as they are.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "lists/line_source.h"

namespace ferry::lists {

// Keys one at a time, in some order (what lists/sorted_keys.h sorts).
class KeyStream {
 public:
  virtual ~KeyStream() = default;
  // The next key, or nullopt at the end. Errors are final.
  virtual Result<std::optional<std::string>> Next() = 0;
};

enum class ListFormat { kPlain, kCsv };

// "plain" or "csv"; anything else is kInvalidArgument naming the flag's choices.
Result<ListFormat> ParseListFormat(std::string_view text);
// The form a list's name says when none is given: ".csv" or ".csv.gz" (any case) is csv,
// anything else (".txt", ".gz", "-" for stdin) plain.
ListFormat FormatForName(std::string_view name);

struct KeyListOptions {
  ListFormat format = ListFormat::kPlain;
  // The source location's bucket and prefix ("" or ending in '/'). csv: rows must name
  // `bucket` (a source without one, a local folder, refuses every csv row) and keys start
  // with `prefix`. plain keys are relative to the prefix already.
  std::string bucket;
  std::string prefix;
  LineSource::Options lines;
};

class KeyListReader : public KeyStream {
 public:
  KeyListReader(std::unique_ptr<ByteSource> bytes, KeyListOptions options);

  // The next key (relative to the prefix), or nullopt at the end of the list. After an error
  // Next keeps returning it.
  Result<std::optional<std::string>> Next() override;
  // The list's name (for messages) and the number of the line of the last key returned.
  const std::string& name() const { return lines_.name(); }
  uint64_t line_number() const { return lines_.line_number(); }

 private:
  Result<std::optional<std::string>> PlainKey(std::string_view line);
  Result<std::optional<std::string>> CsvKey(std::string_view line);
  Status Bad(std::string what) const;

  LineSource lines_;
  KeyListOptions options_;
  Status error_;
};

// Decodes a URL-encoded key (%XX escapes, '+' a space). nullopt on a bad escape ('%' not
// followed by two hex digits).
std::optional<std::string> DecodeListKey(std::string_view encoded);

}  // namespace ferry::lists
