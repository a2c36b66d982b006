// EncodeRunRow and DecodeRunRow (run_rows.h).
#include "inventory/run_rows.h"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <vector>

namespace ferry::inventory {
namespace {

constexpr char kRunRowSeparator = '\0';
constexpr size_t kRunRowFields = 7;  // key, size, mtime (ns), etag, class, version, archived

Result<uint64_t> RunRowNumber(std::string_view text, std::string_view record) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Status::InvalidArgument("not an inventory row record: \"" +
                                   std::string(RunRowKey(record)) + "\"");
  }
  return v;
}

}  // namespace

Result<std::string> EncodeRunRow(const storage::ObjectInfo& row, std::string_view key) {
  for (std::string_view field : {key, std::string_view(row.etag),
                                 std::string_view(row.storage_class),
                                 std::string_view(row.version_id)}) {
    if (field.find(kRunRowSeparator) != std::string_view::npos) {
      return Status::InvalidArgument("inventory row of key \"" + row.key +
                                     "\": a NUL byte in its key, ETag, class or version");
    }
  }
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(row.mtime.time_since_epoch()).count();
  char size[24], mtime[24];  // decimal uint64 / int64: at most 20 digits
  const std::string_view size_text(size, std::to_chars(size, size + sizeof size, row.size).ptr);
  const std::string_view mtime_text(
      mtime, std::to_chars(mtime, mtime + sizeof mtime, ns < 0 ? int64_t{0} : int64_t{ns}).ptr);
  const std::string_view fields[] = {size_text,        mtime_text,
                                     row.etag,         row.storage_class,
                                     row.version_id,   row.archive.archived ? "1" : "0"};
  size_t bytes = key.size();
  for (std::string_view field : fields) bytes += 1 + field.size();
  std::string out;
  out.reserve(bytes);  // one allocation per record
  out.append(key);
  for (std::string_view field : fields) {
    out += kRunRowSeparator;
    out.append(field);
  }
  return out;
}

std::string_view RunRowKey(std::string_view record) {
  return record.substr(0, record.find(kRunRowSeparator));
}

Result<storage::ObjectInfo> DecodeRunRow(std::string_view record) {
  std::string_view fields[kRunRowFields];  // no allocation per record
  size_t count = 0;
  size_t at = 0;
  for (;;) {
    const size_t end = record.find(kRunRowSeparator, at);
    if (count == kRunRowFields) {
      count = kRunRowFields + 1;  // too many: refused below
      break;
    }
    fields[count++] = record.substr(at, end == std::string_view::npos ? end : end - at);
    if (end == std::string_view::npos) break;
    at = end + 1;
  }
  if (count != kRunRowFields) {
    return Status::InvalidArgument("not an inventory row record: \"" +
                                   std::string(RunRowKey(record)) + "\"");
  }
  storage::ObjectInfo o;
  o.key = std::string(fields[0]);
  FERRY_ASSIGN_OR_RETURN(o.size, RunRowNumber(fields[1], record));
  FERRY_ASSIGN_OR_RETURN(uint64_t ns, RunRowNumber(fields[2], record));
  o.mtime = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(static_cast<int64_t>(ns))));
  o.etag = std::string(fields[3]);
  o.storage_class = std::string(fields[4]);
  o.version_id = std::string(fields[5]);
  o.archive.archived = fields[6] == "1";
  o.is_latest = true;
  return o;
}

}  // namespace ferry::inventory
