#include "storage/local/local_xattr.h"

#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <optional>
#include <chrono>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "storage/key.h"
#include "storage/local/posix_io.h"

namespace ferry::storage::local_internal {
namespace {

// The one attribute that holds every entry (local_xattr.h), and the prefix of the older form's
// attributes (one per entry, named kPrefix + the entry's name).
constexpr char kDetails[] = "user.ferry";
constexpr std::string_view kPrefix = "user.ferry.";
// The entries' names, in both forms.
constexpr std::string_view kMetaPrefix = "meta.";
constexpr std::string_view kTags = "tags";
constexpr std::string_view kGuard = "guard";
// The first bytes of kDetails' value: the version of its encoding.
constexpr std::string_view kDetailsVersion = std::string_view("1\0", 2);

// The content headers and their entry names.
std::vector<std::pair<std::string_view, std::string ContentHeaders::*>> HeaderFields() {
  return {{"content-type", &ContentHeaders::content_type},
          {"content-encoding", &ContentHeaders::content_encoding},
          {"content-language", &ContentHeaders::content_language},
          {"content-disposition", &ContentHeaders::content_disposition},
          {"cache-control", &ContentHeaders::cache_control},
          {"expires", &ContentHeaders::expires}};
}

// A file's entries by name (header names, "meta.<name>", "tags", "guard").
using DetailEntries = std::map<std::string, std::string, std::less<>>;

// kDetails' value: kDetailsVersion, then per entry its name, NUL, the value's length in decimal,
// NUL, and the value's bytes (values may hold any byte; names hold no NUL).
std::string EncodeDetails(const DetailEntries& entries) {
  std::string out(kDetailsVersion);
  for (const auto& [name, value] : entries) {
    out += name;
    out += '\0';
    out += std::to_string(value.size());
    out += '\0';
    out += value;
  }
  return out;
}

// The entries of kDetails' value; nullopt when it is not in the encoding above (another
// version, or damaged): the file then claims no details rather than wrong ones.
std::optional<DetailEntries> DecodeDetails(std::string_view text) {
  if (!text.starts_with(kDetailsVersion)) return std::nullopt;
  text.remove_prefix(kDetailsVersion.size());
  DetailEntries entries;
  while (!text.empty()) {
    const size_t name_end = text.find('\0');
    if (name_end == std::string_view::npos) return std::nullopt;
    const size_t len_end = text.find('\0', name_end + 1);
    if (len_end == std::string_view::npos || len_end == name_end + 1) return std::nullopt;
    size_t length = 0;
    for (const char c : text.substr(name_end + 1, len_end - name_end - 1)) {
      if (c < '0' || c > '9' || length > text.size()) return std::nullopt;
      length = length * 10 + static_cast<size_t>(c - '0');
    }
    if (length > text.size() - len_end - 1) return std::nullopt;
    entries.emplace(std::string(text.substr(0, name_end)),
                    std::string(text.substr(len_end + 1, length)));
    text.remove_prefix(len_end + 1 + length);
  }
  return entries;
}

// Metadata that describes the content: only believed while the guard matches.
bool DescribesContent(std::string_view name) {
  return name == kMetaCrc32c || name == kMetaMtime;
}

std::string GuardOf(const struct stat& st) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      MtimeOf(st).time_since_epoch())
                      .count();
  return std::to_string(static_cast<uint64_t>(st.st_size)) + " " + std::to_string(ns);
}

std::string EncodeTags(const Tags& tags) {
  std::string out;
  for (const auto& [k, v] : tags) {
    out += k;
    out += '\0';
    out += v;
    out += '\0';
  }
  return out;
}

Tags DecodeTags(std::string_view text) {
  Tags tags;
  while (!text.empty()) {
    const size_t k_end = text.find('\0');
    if (k_end == std::string_view::npos) break;
    const size_t v_end = text.find('\0', k_end + 1);
    if (v_end == std::string_view::npos) break;
    tags.emplace_back(std::string(text.substr(0, k_end)),
                      std::string(text.substr(k_end + 1, v_end - k_end - 1)));
    text.remove_prefix(v_end + 1);
  }
  return tags;
}

// True when the file system of `fd` has no block left for us (ENOSPC then means a full disk,
// not an attribute too large).
bool DiskFull(int fd) {
  struct statvfs vfs;
  return ::fstatvfs(fd, &vfs) == 0 && vfs.f_bavail == 0;
}

// The largest entry, for a message: "meta.big (8000 bytes)".
std::string LargestEntry(const DetailEntries& entries) {
  const auto* largest = &*entries.begin();
  for (const auto& entry : entries) {
    if (entry.second.size() > largest->second.size()) largest = &entry;
  }
  return largest->first + " (" + std::to_string(largest->second.size()) + " bytes)";
}

// fsetxattr of kDetails with `entries` (not empty). A file system without user attributes
// (ENOTSUP) keeps none: OK.
Status SetDetails(int fd, const DetailEntries& entries, const std::string& path,
                  std::string_view key) {
  const std::string value = EncodeDetails(entries);
  if (::fsetxattr(fd, kDetails, value.data(), value.size(), 0) == 0) return Status::Ok();
  const int err = errno;
  if (err == ENOTSUP) return Status::Ok();
  if (err == E2BIG || err == ERANGE || (err == ENOSPC && !DiskFull(fd))) {
    return Status::InvalidArgument(
        "cannot write \"" + PrintableKey(key) + "\" to a local folder: its details (" +
        std::to_string(value.size()) + " bytes; the largest entry " + LargestEntry(entries) +
        ") are more than the file system (" + std::generic_category().message(err) +
        ") keeps in extended attributes of one file");
  }
  return ErrnoStatus(err, "record metadata of", path);
}

// The value of attribute `name` of the file at `path`, or nullopt.
std::optional<std::string> Get(const std::string& path, const char* name) {
  std::string value(256, '\0');
  for (int attempt = 0; attempt < 3; ++attempt) {
    const ssize_t n = ::getxattr(path.c_str(), name, value.data(), value.size());
    if (n >= 0) {
      value.resize(static_cast<size_t>(n));
      return value;
    }
    if (errno != ERANGE) return std::nullopt;
    const ssize_t need = ::getxattr(path.c_str(), name, nullptr, 0);
    if (need < 0) return std::nullopt;
    value.resize(static_cast<size_t>(need) + 1);
  }
  return std::nullopt;
}

// The names of ferry's attributes of the file at `path`: kDetails and the older form's.
std::vector<std::string> FerryNames(const std::string& path) {
  std::vector<std::string> names;
  const ssize_t need = ::listxattr(path.c_str(), nullptr, 0);
  if (need <= 0) return names;
  std::string list(static_cast<size_t>(need), '\0');
  const ssize_t n = ::listxattr(path.c_str(), list.data(), list.size());
  if (n <= 0) return names;
  list.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < list.size();) {
    const size_t end = list.find('\0', i);
    const size_t stop = end == std::string::npos ? list.size() : end;
    const std::string_view name(list.data() + i, stop - i);
    if (name == kDetails || name.starts_with(kPrefix)) names.emplace_back(name);
    if (end == std::string::npos) break;
    i = end + 1;
  }
  return names;
}

// WriteTags of a file in the older form: its own attribute.
Status WriteLegacyTags(const std::string& path, const Tags& tags) {
  const std::string name = std::string(kPrefix) + std::string(kTags);
  if (tags.empty()) {
    if (::removexattr(path.c_str(), name.c_str()) == 0 || errno == ENODATA) return Status::Ok();
    return ErrnoStatus(errno, "remove tags of", path);
  }
  const std::string value = EncodeTags(tags);
  if (::setxattr(path.c_str(), name.c_str(), value.data(), value.size(), 0) == 0) {
    return Status::Ok();
  }
  return ErrnoStatus(errno, "record tags of", path);
}

// The entries the file at `path` records: kDetails' when it has that attribute, else the
// older form's attributes (written by ferry before the details were one attribute).
DetailEntries ReadEntries(const std::string& path) {
  const std::vector<std::string> names = FerryNames(path);
  DetailEntries entries;
  if (std::find(names.begin(), names.end(), kDetails) != names.end()) {
    const std::optional<std::string> value = Get(path, kDetails);
    if (!value) return entries;
    return DecodeDetails(*value).value_or(DetailEntries{});
  }
  for (const std::string& name : names) {
    if (auto value = Get(path, name.c_str())) entries[name.substr(kPrefix.size())] = *value;
  }
  return entries;
}

}  // namespace

Status WriteDetails(int fd, const WriteSpec& spec, const struct stat& st, const std::string& path,
                    std::string_view key) {
  DetailEntries entries;
  for (const auto& [name, field] : HeaderFields()) {
    const std::string& value = spec.content.*field;
    if (!value.empty()) entries.emplace(name, value);
  }
  for (const auto& [name, value] : spec.metadata) {
    entries.emplace(std::string(kMetaPrefix) + name, value);
  }
  if (spec.tags && !spec.tags->empty()) entries.emplace(kTags, EncodeTags(*spec.tags));
  entries.emplace(kGuard, GuardOf(st));
  return SetDetails(fd, entries, path, key);
}

void ReadDetails(const std::string& path, const struct stat& st, bool with_tags,
                 ObjectInfo& info) {
  if (with_tags) info.tags = Tags{};
  const DetailEntries entries = ReadEntries(path);
  if (entries.empty()) return;
  const auto guard = entries.find(kGuard);
  const bool unchanged = guard != entries.end() && guard->second == GuardOf(st);
  for (const auto& [name, value] : entries) {
    if (name.starts_with(kMetaPrefix)) {
      const std::string meta = name.substr(kMetaPrefix.size());
      if (DescribesContent(meta) && !unchanged) continue;
      info.metadata[meta] = value;
    } else if (name == kTags) {
      if (with_tags) info.tags = DecodeTags(value);
    } else {
      for (const auto& [header, field] : HeaderFields()) {
        if (name == header) info.content.*field = value;
      }
    }
  }
}

Status WriteTags(const std::string& path, const Tags& tags) {
  const std::vector<std::string> names = FerryNames(path);
  if (std::find(names.begin(), names.end(), kDetails) == names.end() && !names.empty()) {
    return WriteLegacyTags(path, tags);  // a file of an older ferry keeps its form
  }
  DetailEntries entries = ReadEntries(path);
  if (tags.empty()) {
    if (entries.erase(std::string(kTags)) == 0) return Status::Ok();
  } else {
    entries[std::string(kTags)] = EncodeTags(tags);
  }
  if (entries.empty()) {
    if (::removexattr(path.c_str(), kDetails) == 0 || errno == ENODATA) return Status::Ok();
    return ErrnoStatus(errno, "remove tags of", path);
  }
  const std::string value = EncodeDetails(entries);
  if (::setxattr(path.c_str(), kDetails, value.data(), value.size(), 0) == 0) return Status::Ok();
  if (errno == ENOTSUP) {
    return Status::NotSupported("tags: the file system of " + path +
                                " has no extended attributes");
  }
  return ErrnoStatus(errno, "record tags of", path);
}

}  // namespace ferry::storage::local_internal
