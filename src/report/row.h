// Rows of a per-object report (`--report LOCATION`, docs/design/report.md): what a run did or
// found for one object, written by ReportWriter (writer.h) as CSV or JSON lines. This header
// is the vocabulary that transfer, verify and the other writers of rows share; it names no
// module above storage.
//
// Thread-safety: plain values and pure functions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace ferry::report {

// What was done or found for one object. Names (ActionName) are the report's words and stable.
enum class Action {
  kCopied,       // written to the destination ("copied")
  kSkipped,      // looked at, nothing to do ("skipped")
  kDeleted,      // removed from the destination ("deleted")
  kWouldCopy,    // a dry run would write it ("would-copy")
  kWouldDelete,  // a dry run would remove it ("would-delete")
  kDiffers,      // verify: on both sides, not the same ("differs")
  kMissing,      // verify: on the source only ("missing")
  kExtra,        // verify: on the destination only ("extra")
  kNotCopied,    // left out without failing (an archived source not restored: "not-copied")
  kFailed,       // the object's copy or delete failed ("failed"; the error says which)
  kIdentical,    // verify: the same on both sides, as far as `checksum` tells ("identical")
  // ferry move: removed from the source once the destination proved it ("delete-source"), and
  // what a dry run would remove ("would-delete-source").
  kDeletedSource,
  kWouldDeleteSource,
  // cache warm: cached by another request while this one waited for its claim ("joined").
  kJoined,
};
inline constexpr int kActionCount = 14;

// How it ended.
enum class Outcome {
  kOk,       // done as the action says ("ok")
  kFailed,   // failed: error_code and error_message say why ("failed")
  kSkipped,  // nothing was done to it ("skipped")
};
inline constexpr int kOutcomeCount = 3;

std::string_view ActionName(Action action);
std::string_view OutcomeName(Outcome outcome);

// What proved the bytes (or the decision) of a row: an algorithm name ("md5", "crc32c",
// "sha256", ...), "md5-multipart" (a multipart ETag reproduced), "etag" (ETags compared),
// "server-side" (the store copied its own bytes), "size-only", "mtime", "none".
namespace checksum_used {
inline constexpr std::string_view kNone = "none";
inline constexpr std::string_view kSizeOnly = "size-only";
inline constexpr std::string_view kMtime = "mtime";
inline constexpr std::string_view kEtag = "etag";
inline constexpr std::string_view kServerSide = "server-side";
inline constexpr std::string_view kMd5 = "md5";
inline constexpr std::string_view kMd5Multipart = "md5-multipart";
inline constexpr std::string_view kCrc32c = "crc32c";
}  // namespace checksum_used

struct Row {
  std::string key;
  std::string version_id;  // "" where the store keeps no versions
  uint64_t size = 0;
  Action action = Action::kSkipped;
  Outcome outcome = Outcome::kSkipped;
  // ErrorCodeName and message of a failure; of a skip, why the object was not there to act on
  // (a listed key the source lacks: "NotFound", transfer::NotOnSourceRow); "" otherwise.
  std::string error_code;
  std::string error_message;
  std::string checksum{checksum_used::kNone};
  // When it happened; unset: the writer stamps it from its Clock as it takes the row.
  std::optional<std::chrono::system_clock::time_point> time;
};

// A failed row for `key` (action kFailed, outcome kFailed) carrying `status`'s code and
// message, `what` ("copy", "delete") put before the message.
Row FailedRow(std::string key, uint64_t size, std::string_view what, const Status& status);

// Which rows a report keeps (`--report-level`). Every row is counted in the summary whatever
// the level; the level decides only which are written.
enum class Level {
  kErrors,   // failed rows only
  kChanges,  // failed rows, every change (copied, deleted, would-*, differs, missing, extra)
             // and a skip with an error (a listed key the source lacks)
  kAll,      // every object looked at, skipped (and identical) ones too
};
bool Keeps(Level level, const Row& row);

enum class Format { kCsv, kJsonLines };

// "csv" | "json"; one error line naming the flag otherwise.
Result<Format> ParseFormat(std::string_view text);
// "errors" | "changes" | "all".
Result<Level> ParseLevel(std::string_view text);
std::string_view FormatName(Format format);
std::string_view LevelName(Level level);

// RFC 3339 in UTC with milliseconds: "2026-01-01T00:00:00.000Z".
std::string Rfc3339(std::chrono::system_clock::time_point t);

// The CSV header line of a part, with its "\n".
std::string_view CsvHeader();
// One row as a line (with its "\n") of `format`. CSV fields are quoted as RFC 4180 says when
// they hold a comma, a double quote, CR or LF (quotes doubled). JSON lines: one object per
// line; bytes of a key that are not UTF-8 are replaced (U+FFFD), never a broken line.
// `row.time` must be set.
std::string EncodeRow(Format format, const Row& row);

// Something a run's rows go to. Implemented by ReportWriter; tests may collect rows.
// Thread-safety: Add is called by many threads at once.
class RowSink {
 public:
  virtual ~RowSink() = default;
  virtual void Add(Row row) = 0;
};

}  // namespace ferry::report
