#include "lists/key_list.h"

#include <algorithm>
#include <cctype>
#include <vector>

#include "base/form_decode.h"
#include "storage/key.h"

namespace ferry::lists {
namespace {

constexpr size_t kMaxKeyBytes = 1024;  // S3's limit on a key

std::string_view TrimListWhitespace(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n\v\f";
  const size_t first = s.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return s.substr(first, s.find_last_not_of(kSpace) - first + 1);
}

// Splits one CSV row into fields: ',' separates, a field may be double-quoted ("" is a quote
// inside). nullopt when a quote is not closed or text follows a closing quote.
std::optional<std::vector<std::string>> SplitCsvRow(std::string_view row) {
  std::vector<std::string> fields;
  size_t at = 0;
  for (;;) {
    std::string field;
    if (at < row.size() && row[at] == '"') {
      ++at;
      for (;;) {
        if (at >= row.size()) return std::nullopt;  // not closed
        if (row[at] == '"') {
          if (at + 1 < row.size() && row[at + 1] == '"') {
            field.push_back('"');
            at += 2;
            continue;
          }
          ++at;
          break;
        }
        field.push_back(row[at++]);
      }
      if (at < row.size() && row[at] != ',') return std::nullopt;
    } else {
      const size_t comma = std::min(row.find(',', at), row.size());
      field.assign(row.substr(at, comma - at));
      at = comma;
    }
    fields.push_back(std::move(field));
    if (at >= row.size()) return fields;
    ++at;  // the ','
  }
}

}  // namespace

Result<ListFormat> ParseListFormat(std::string_view text) {
  if (text == "plain") return ListFormat::kPlain;
  if (text == "csv") return ListFormat::kCsv;
  return Status::InvalidArgument("--files-from-format: \"" + std::string(text) +
                                 "\" is not one of plain, csv");
}

ListFormat FormatForName(std::string_view name) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower.ends_with(".csv") || lower.ends_with(".csv.gz")) return ListFormat::kCsv;
  return ListFormat::kPlain;
}

std::optional<std::string> DecodeListKey(std::string_view encoded) { return FormDecode(encoded); }

KeyListReader::KeyListReader(std::unique_ptr<ByteSource> bytes, KeyListOptions options)
    : lines_(std::move(bytes), options.lines), options_(std::move(options)) {}

Status KeyListReader::Bad(std::string what) const {
  return Status::InvalidArgument(name() + ":" + std::to_string(line_number()) + ": " +
                                 std::move(what));
}

Result<std::optional<std::string>> KeyListReader::PlainKey(std::string_view line) {
  line = TrimListWhitespace(line);
  if (line.empty() || line.front() == '#' || line.front() == ';') return std::optional<std::string>();
  while (!line.empty() && line.front() == '/') line.remove_prefix(1);
  if (line.empty()) return Bad("an empty key (\"/\" names no object)");
  return std::optional<std::string>(std::string(line));
}

Result<std::optional<std::string>> KeyListReader::CsvKey(std::string_view line) {
  if (TrimListWhitespace(line).empty()) return std::optional<std::string>();
  auto fields = SplitCsvRow(line);
  if (!fields) return Bad("a quoted field is not closed");
  if (fields->size() != 2 && fields->size() != 3) {
    return Bad("expected bucket,key[,version_id], found " + std::to_string(fields->size()) +
               " field" + (fields->size() == 1 ? "" : "s"));
  }
  const std::string& bucket = (*fields)[0];
  if (options_.bucket.empty()) {
    return Bad("a csv list names buckets; the source is not a bucket");
  }
  if (bucket != options_.bucket) {
    // names and keys as storage::PrintableKey shows them: a decoded key may hold a newline
    return Bad("the row names bucket \"" + storage::PrintableKey(bucket) +
               "\", the source's is \"" + options_.bucket + "\"");
  }
  if (fields->size() == 3 && !(*fields)[2].empty()) {
    return Bad("a version id is not supported yet (ferry copies current versions)");
  }
  auto key = DecodeListKey((*fields)[1]);
  if (!key) {
    return Bad("a bad %-escape in the key \"" + storage::PrintableKey((*fields)[1]) + "\"");
  }
  if (key->empty()) return Bad("an empty key");
  if (!key->starts_with(options_.prefix)) {
    return Bad("the key \"" + storage::PrintableKey(*key) + "\" is outside the source prefix \"" +
               storage::PrintableKey(options_.prefix) + "\"");
  }
  key->erase(0, options_.prefix.size());
  if (key->empty()) return Bad("the key is the source prefix itself, not an object under it");
  return std::optional<std::string>(std::move(*key));
}

Result<std::optional<std::string>> KeyListReader::Next() {
  while (error_.ok()) {
    auto line = lines_.Next();
    if (!line.ok()) {
      error_ = line.status();
      break;
    }
    if (!line->has_value()) return std::optional<std::string>();
    auto key = options_.format == ListFormat::kCsv ? CsvKey(**line) : PlainKey(**line);
    if (!key.ok()) {
      error_ = key.status();
      break;
    }
    if (!key->has_value()) continue;
    if ((*key)->size() > kMaxKeyBytes) {
      error_ = Bad("a key longer than " + std::to_string(kMaxKeyBytes) + " bytes");
      break;
    }
    return key;
  }
  return error_;
}

}  // namespace ferry::lists
