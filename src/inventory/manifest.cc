#include "inventory/manifest.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <utility>

#include "checksum/checksum.h"
#include "storage/backend.h"

namespace ferry::inventory {
namespace {

using nlohmann::json;

std::string_view TrimManifestText(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsMd5Hex(std::string_view s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The manifest's error: "<location>: <what>".
Status ManifestError(std::string_view location, std::string_view what) {
  return Status::InvalidArgument(std::string(location) + ": " + std::string(what));
}

// The string member `name`; kInvalidArgument when absent (and `required`) or not a string.
Result<std::string> StringMember(const json& j, const char* name, bool required,
                                 std::string_view location) {
  auto it = j.find(name);
  if (it == j.end()) {
    if (!required) return std::string();
    return ManifestError(location, std::string("the manifest has no \"") + name + "\"");
  }
  if (!it->is_string()) {
    return ManifestError(location, std::string("the manifest's \"") + name + "\" is not a string");
  }
  return it->get<std::string>();
}

Status ReadFormat(const json& j, Manifest& m) {
  FERRY_ASSIGN_OR_RETURN(m.file_format, StringMember(j, "fileFormat", true, m.location));
  const std::string lower = LowerAscii(m.file_format);
  if (lower == "csv") return Status::Ok();
  if (lower == "parquet" || lower == "orc") {
    return Status::NotSupported(m.location + ": the inventory is " + m.file_format +
                                "; ferry reads CSV inventories only (Debian ships no " +
                                m.file_format + " reader): configure the inventory as CSV");
  }
  return ManifestError(m.location, "unknown fileFormat \"" + m.file_format +
                                       "\" (ferry reads CSV inventories)");
}

Status ReadSchema(const json& j, Manifest& m) {
  FERRY_ASSIGN_OR_RETURN(std::string schema, StringMember(j, "fileSchema", true, m.location));
  std::string_view rest = schema;
  for (;;) {
    const size_t comma = rest.find(',');
    const std::string_view name = TrimManifestText(rest.substr(0, comma));
    if (name.empty()) return ManifestError(m.location, "fileSchema has an empty column name");
    const Field field = FieldOf(name);
    if (field != Field::kOther &&
        std::find(m.columns.begin(), m.columns.end(), field) != m.columns.end()) {
      return ManifestError(m.location,
                           "fileSchema names the column " + std::string(name) + " twice");
    }
    m.column_names.emplace_back(name);
    m.columns.push_back(field);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (std::find(m.columns.begin(), m.columns.end(), Field::kKey) == m.columns.end()) {
    return ManifestError(m.location, "fileSchema has no Key column");
  }
  return Status::Ok();
}

Result<DataFile> ReadFileEntry(const json& f, size_t index, std::string_view location) {
  const std::string which = "files[" + std::to_string(index) + "]";
  if (!f.is_object()) return ManifestError(location, which + " is not an object");
  DataFile file;
  auto key = f.find("key");
  if (key == f.end() || !key->is_string() || key->get<std::string>().empty()) {
    return ManifestError(location, which + " has no key");
  }
  file.key = key->get<std::string>();
  auto size = f.find("size");
  if (size == f.end() || !size->is_number_unsigned()) {
    return ManifestError(location, which + " (" + file.key + ") has no size in bytes");
  }
  file.size = size->get<uint64_t>();
  auto md5 = f.find("MD5checksum");
  if (md5 == f.end() || !md5->is_string() || !IsMd5Hex(md5->get<std::string>())) {
    return ManifestError(location,
                         which + " (" + file.key + ") has no MD5checksum of 32 hex digits");
  }
  file.md5_hex = LowerAscii(md5->get<std::string>());
  return file;
}

Status ReadFiles(const json& j, Manifest& m) {
  auto files = j.find("files");
  if (files == j.end() || !files->is_array()) {
    return ManifestError(m.location, "the manifest has no \"files\" list");
  }
  for (size_t i = 0; i < files->size(); ++i) {
    FERRY_ASSIGN_OR_RETURN(DataFile f, ReadFileEntry((*files)[i], i, m.location));
    m.files.push_back(std::move(f));
  }
  return Status::Ok();
}

// creationTimestamp: milliseconds since the epoch, written as a string of digits (or a number).
Status ReadCreated(const json& j, Manifest& m) {
  auto it = j.find("creationTimestamp");
  if (it == j.end()) return Status::Ok();
  std::string text;
  if (it->is_number_unsigned()) {
    text = std::to_string(it->get<uint64_t>());
  } else if (it->is_string()) {
    text = it->get<std::string>();
  }
  // At most what the clock holds (in nanoseconds: the year 2262); 15 digits of milliseconds
  // overflowed it (found by fuzz_inventory).
  constexpr int64_t kMaxMs = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::time_point::max().time_since_epoch())
                                 .count();
  if (text.empty() || text.size() > 15 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      std::stoll(text) > kMaxMs) {
    return ManifestError(m.location,
                         "creationTimestamp is not milliseconds since the epoch");
  }
  m.created = std::chrono::system_clock::time_point(
      std::chrono::milliseconds(std::stoll(text)));
  return Status::Ok();
}

// Reads all of `key` (at most `limit` bytes) into a string.
Result<std::string> ReadSmallObject(storage::Backend& store, std::string_view key,
                                    uint64_t limit, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(storage::ObjectInfo info, store.Stat(key, false, stop));
  if (info.size > limit) {
    return Status::InvalidArgument(store.Describe() + std::string(key) + ": " +
                                   std::to_string(info.size) +
                                   " bytes, more than a manifest can be (" +
                                   std::to_string(limit) + ")");
  }
  std::string text(info.size, '\0');
  if (info.size == 0) return text;
  auto bytes = std::as_writable_bytes(std::span<char>(text.data(), text.size()));
  FERRY_RETURN_IF_ERROR(store.ReadAt(key, 0, bytes, info.etag, stop));
  return text;
}

}  // namespace

Field FieldOf(std::string_view name) {
  static constexpr std::pair<std::string_view, Field> kFields[] = {
      {"Bucket", Field::kBucket},
      {"Key", Field::kKey},
      {"VersionId", Field::kVersionId},
      {"IsLatest", Field::kIsLatest},
      {"IsDeleteMarker", Field::kIsDeleteMarker},
      {"Size", Field::kSize},
      {"LastModifiedDate", Field::kLastModifiedDate},
      {"ETag", Field::kETag},
      {"StorageClass", Field::kStorageClass},
  };
  for (const auto& [n, f] : kFields) {
    if (n == name) return f;
  }
  return Field::kOther;
}

Result<Manifest> ParseManifest(std::string_view text, std::string_view location) {
  Manifest m;
  m.location = std::string(location);
  json j;
  try {
    j = json::parse(text);
  } catch (const std::exception& e) {
    return ManifestError(location, std::string("manifest.json is not JSON: ") + e.what());
  }
  if (!j.is_object()) return ManifestError(location, "manifest.json is not a JSON object");
  FERRY_ASSIGN_OR_RETURN(m.source_bucket, StringMember(j, "sourceBucket", true, location));
  if (m.source_bucket.empty()) return ManifestError(location, "the manifest's sourceBucket is empty");
  FERRY_ASSIGN_OR_RETURN(m.destination_bucket,
                         StringMember(j, "destinationBucket", false, location));
  FERRY_ASSIGN_OR_RETURN(m.version, StringMember(j, "version", false, location));
  FERRY_RETURN_IF_ERROR(ReadFormat(j, m));
  FERRY_RETURN_IF_ERROR(ReadSchema(j, m));
  FERRY_RETURN_IF_ERROR(ReadCreated(j, m));
  FERRY_RETURN_IF_ERROR(ReadFiles(j, m));
  return m;
}

Status CheckManifestChecksum(std::string_view json_text, std::string_view checksum_text,
                             std::string_view location) {
  const std::string_view want = TrimManifestText(checksum_text);
  if (!IsMd5Hex(want)) {
    return ManifestError(location, "manifest.checksum is not an MD5 of 32 hex digits");
  }
  const std::string have = checksum::Hex(checksum::Md5(checksum::AsBytes(json_text)));
  if (LowerAscii(want) != have) {
    return Status::DataLoss(std::string(location) + ": manifest.json's MD5 is " + have +
                            ", manifest.checksum says " + LowerAscii(want) +
                            ": the manifest is damaged or was changed");
  }
  return Status::Ok();
}

Result<Manifest> ReadManifest(storage::Backend& store, std::string_view key,
                              std::stop_token stop) {
  const std::string location = store.Describe() + std::string(key);
  FERRY_ASSIGN_OR_RETURN(std::string text, ReadSmallObject(store, key, kMaxManifestBytes, stop));
  std::string checksum_key(key);
  const size_t slash = checksum_key.rfind('/');
  checksum_key.resize(slash == std::string::npos ? 0 : slash + 1);
  checksum_key += "manifest.checksum";
  auto checksum = ReadSmallObject(store, checksum_key, 4096, stop);
  if (checksum.ok()) {
    FERRY_RETURN_IF_ERROR(CheckManifestChecksum(text, *checksum, location));
  } else if (checksum.status().code() != ErrorCode::kNotFound) {
    return checksum.status().WithContext("reading " + store.Describe() + checksum_key);
  }
  return ParseManifest(text, location);
}

}  // namespace ferry::inventory
