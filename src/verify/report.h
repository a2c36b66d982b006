// The report of `ferry verify`: one line per key, as rclone check's --combined report
// ("= key" identical, "- key" only in SRC, "+ key" only in DST, "* key" differ, "! key" error)
// plus "~ key" for a pair whose sizes agree but whose content nothing could check (size only),
// or one JSON object per line (--json); the counts at the end.
//
// Thread-safety: Report::Add may be called from many threads (lines are written whole, in
// the order Add is called). FormatLine and the Counts functions are pure.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "report/row.h"

namespace ferry::verify {

enum class Mark { kIdentical, kMissing, kExtra, kDiffer, kError, kSizeOnly };

// '=', '-', '+', '*', '!', '~'.
char MarkChar(Mark m);
// "identical", "missing", "extra", "differ", "error", "size_only".
const char* MarkName(Mark m);

struct Entry {
  std::string key;
  Mark mark = Mark::kIdentical;
  std::string reason;  // what decided ("md5", "size", ...) or the error
  std::optional<uint64_t> src_size, dst_size;  // nullopt: absent on that side
  std::string src_etag, dst_etag;
};

struct Counts {
  uint64_t identical = 0, differ = 0, missing = 0, extra = 0, errors = 0, size_only = 0;
  uint64_t differences() const { return differ + missing + extra; }
};

// "<mark> <key>" (combined), or one JSON object (no newline in either).
std::string FormatLine(const Entry& e, bool json);

// "verify: 10 identical, 1 differ, 2 missing, 0 extra, 0 errors, 3 size-only (sizes agree,
// content not checked)".
std::string SummaryLine(const Counts& c);

// 0: no difference and no error (size-only pairs are not differences); 1: differences; 3: a
// key could not be checked (errors; whatever else was found).
int ExitCodeFor(const Counts& c);

// The per-object report's row of an entry (`--report`, docs/design/report.md): identical and
// size-only pairs are `identical` rows (ok; checksum: what decided, "size-only", whose message
// says "unverified: " and why); differences
// are `differs`, `missing`, `extra` rows whose result is failed (the verification failed; the
// checksum says what was compared); an error is a `failed` row with its message.
report::Row ReportRowOf(const Entry& e);

class Report {
 public:
  // Writes to `out` (not owned; null: counts only). `json`: JSON lines. `rows` (not owned; may
  // be null): each entry's row of the per-object report (ReportRowOf) too. `seen` (may be
  // empty): called with each entry, under the report's lock (a durable job keeps its
  // differences for its record, verify/kinds/kinds.h).
  Report(std::FILE* out, bool json, report::RowSink* rows = nullptr,
         std::function<void(const Entry&)> seen = {})
      : out_(out), json_(json), rows_(rows), seen_(std::move(seen)) {}
  void Add(const Entry& e);
  Counts counts() const;

 private:
  std::FILE* const out_;
  const bool json_;
  report::RowSink* const rows_;
  const std::function<void(const Entry&)> seen_;
  mutable std::mutex mu_;
  Counts counts_;  // GUARDED_BY(mu_)
};

}  // namespace ferry::verify
