#include "inventory/csv_row.h"

#include <charconv>
#include <cctype>
#include <optional>

#include "base/form_decode.h"

namespace ferry::inventory {
namespace {

Status RowFieldError(std::string what) { return Status::InvalidArgument(std::move(what)); }

// Parses a quoted field starting at line[i] == '"'; leaves i after the closing quote.
Status ReadQuotedField(std::string_view line, size_t& i, std::string& out) {
  ++i;  // the opening quote
  for (;;) {
    // Up to the next quote in one append (a row's fields are appended per run, not per byte).
    const size_t quote = line.find('"', i);
    if (quote == std::string_view::npos) return RowFieldError("a quoted field is not closed");
    out.append(line.substr(i, quote - i));
    i = quote + 1;
    if (i < line.size() && line[i] == '"') {  // a doubled quote: one quote
      out += '"';
      ++i;
      continue;
    }
    return Status::Ok();
  }
}

// Case-insensitive equality with a lower-case ASCII word, without a copy.
bool EqualsLowerWord(std::string_view text, std::string_view lower_word) {
  if (text.size() != lower_word.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != lower_word[i]) return false;
  }
  return true;
}

Result<bool> ParseBool(std::string_view text, std::string_view column) {
  if (text.empty()) return false;
  if (EqualsLowerWord(text, "true")) return true;
  if (EqualsLowerWord(text, "false")) return false;
  return RowFieldError(std::string(column) + " is \"" + std::string(text) +
                       "\", not true or false");
}

Result<uint64_t> ParseSize(std::string_view text) {
  uint64_t v = 0;
  const char* end = text.data() + text.size();
  auto [p, ec] = std::from_chars(text.data(), end, v);
  if (text.empty() || ec != std::errc() || p != end) {
    return RowFieldError("Size \"" + std::string(text) + "\" is not a number of bytes");
  }
  return v;
}

// Parses exactly `n` digits at text[at...] into `out`.
bool Digits(std::string_view text, size_t at, size_t n, int& out) {
  if (at + n > text.size()) return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

// The parsed fields, before the checks that need several of them.
struct RowText {
  std::string_view key, version, size, etag, mtime, storage_class, bucket;
  std::string_view is_latest, is_delete_marker;
};

RowText PickColumns(const std::vector<std::string>& fields, const std::vector<Field>& columns) {
  RowText t;
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string_view v = fields[i];
    switch (columns[i]) {
      case Field::kKey: t.key = v; break;
      case Field::kVersionId: t.version = v; break;
      case Field::kSize: t.size = v; break;
      case Field::kETag: t.etag = v; break;
      case Field::kLastModifiedDate: t.mtime = v; break;
      case Field::kStorageClass: t.storage_class = v; break;
      case Field::kBucket: t.bucket = v; break;
      case Field::kIsLatest: t.is_latest = v; break;
      case Field::kIsDeleteMarker: t.is_delete_marker = v; break;
      case Field::kOther: break;
    }
  }
  return t;
}

bool HasColumn(const std::vector<Field>& columns, Field f) {
  for (Field c : columns) {
    if (c == f) return true;
  }
  return false;
}

}  // namespace

Status SplitCsvLine(std::string_view line, std::vector<std::string>& fields) {
  size_t count = 0;  // fields filled; the vector's strings beyond are reused, then dropped
  size_t i = 0;
  for (;;) {
    if (count == fields.size()) fields.emplace_back();
    std::string& field = fields[count++];
    field.clear();
    if (i < line.size() && line[i] == '"') {
      FERRY_RETURN_IF_ERROR(ReadQuotedField(line, i, field));
      if (i < line.size() && line[i] != ',') {
        return RowFieldError("text after a quoted field's closing quote");
      }
    } else {
      const size_t comma = line.find(',', i);
      const std::string_view raw = line.substr(i, comma == std::string_view::npos ? line.npos
                                                                                  : comma - i);
      if (raw.find('"') != std::string_view::npos) {
        return RowFieldError("a quote inside an unquoted field");
      }
      field.assign(raw);
      i += raw.size();
    }
    if (i >= line.size()) {
      fields.resize(count);
      return Status::Ok();
    }
    ++i;  // the comma
  }
}

Result<std::string> DecodeKey(std::string_view encoded) {
  std::optional<std::string> out = FormDecode(encoded);
  if (!out) return RowFieldError("bad %-escape in key \"" + std::string(encoded) + "\"");
  if (out->empty()) return RowFieldError("empty key");
  return std::move(*out);
}

Result<std::chrono::system_clock::time_point> ParseLastModified(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const bool shape = text.size() >= 20 && Digits(text, 0, 4, y) && text[4] == '-' &&
                     Digits(text, 5, 2, mo) && text[7] == '-' && Digits(text, 8, 2, d) &&
                     text[10] == 'T' && Digits(text, 11, 2, h) && text[13] == ':' &&
                     Digits(text, 14, 2, mi) && text[16] == ':' && Digits(text, 17, 2, s) &&
                     text.back() == 'Z';
  std::chrono::nanoseconds fraction{0};
  bool fraction_ok = shape && (text.size() == 20 || text[19] == '.');
  if (fraction_ok && text.size() > 20) {  // ".fff...Z": at most nanoseconds are kept
    const std::string_view digits = text.substr(20, text.size() - 21);
    fraction_ok = !digits.empty();
    int64_t ns = 0;
    for (size_t k = 0; k < digits.size(); ++k) {
      if (digits[k] < '0' || digits[k] > '9') fraction_ok = false;
      if (k < 9) ns = ns * 10 + (digits[k] - '0');
    }
    for (size_t k = digits.size(); k < 9; ++k) ns *= 10;
    fraction = std::chrono::nanoseconds(ns);
  }
  const std::chrono::year_month_day ymd{std::chrono::year(y), std::chrono::month(mo),
                                        std::chrono::day(d)};
  if (!fraction_ok || !ymd.ok() || h > 23 || mi > 59 || s > 60) {
    return RowFieldError("LastModifiedDate \"" + std::string(text) +
                         "\" is not a time like 2026-11-27T21:32:00.000Z");
  }
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      std::chrono::sys_days(ymd) + std::chrono::hours(h) + std::chrono::minutes(mi) +
      std::chrono::seconds(s) + fraction);
}

Result<storage::ObjectInfo> RowObject(const std::vector<std::string>& fields,
                                      const std::vector<Field>& columns,
                                      std::string_view source_bucket) {
  if (fields.size() != columns.size()) {
    return RowFieldError(std::to_string(fields.size()) + " fields where fileSchema has " +
                         std::to_string(columns.size()));
  }
  const RowText t = PickColumns(fields, columns);
  if (!t.bucket.empty() && t.bucket != source_bucket) {
    return RowFieldError("the row is of bucket \"" + std::string(t.bucket) +
                         "\", the manifest's sourceBucket is \"" + std::string(source_bucket) +
                         "\"");
  }
  storage::ObjectInfo o;
  FERRY_ASSIGN_OR_RETURN(o.key, DecodeKey(t.key));
  o.version_id = std::string(t.version);
  FERRY_ASSIGN_OR_RETURN(o.is_latest, ParseBool(t.is_latest, "IsLatest"));
  FERRY_ASSIGN_OR_RETURN(o.delete_marker, ParseBool(t.is_delete_marker, "IsDeleteMarker"));
  if (!t.size.empty()) {
    FERRY_ASSIGN_OR_RETURN(o.size, ParseSize(t.size));
  } else if (!o.delete_marker && HasColumn(columns, Field::kSize)) {
    return RowFieldError("no Size for an object that is not a delete marker");
  }
  std::string_view etag = t.etag;
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"') {
    etag = etag.substr(1, etag.size() - 2);
  }
  o.etag = std::string(etag);
  if (!t.mtime.empty()) {
    FERRY_ASSIGN_OR_RETURN(o.mtime, ParseLastModified(t.mtime));
  }
  if (t.storage_class != "STANDARD") o.storage_class = std::string(t.storage_class);
  o.archive.archived = storage::IsArchiveClass(o.storage_class);
  return o;
}

}  // namespace ferry::inventory
