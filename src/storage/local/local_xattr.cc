#include "storage/local/local_xattr.h"

#include <sys/statvfs.h>
#include <sys/xattr.h>

#include <cerrno>
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

constexpr std::string_view kPrefix = "user.ferry.";
constexpr std::string_view kMetaPrefix = "user.ferry.meta.";
constexpr char kTags[] = "user.ferry.tags";
constexpr char kGuard[] = "user.ferry.guard";

// The content headers and their attribute names.
std::vector<std::pair<const char*, std::string ContentHeaders::*>> HeaderFields() {
  return {{"user.ferry.content-type", &ContentHeaders::content_type},
          {"user.ferry.content-encoding", &ContentHeaders::content_encoding},
          {"user.ferry.content-language", &ContentHeaders::content_language},
          {"user.ferry.content-disposition", &ContentHeaders::content_disposition},
          {"user.ferry.cache-control", &ContentHeaders::cache_control},
          {"user.ferry.expires", &ContentHeaders::expires}};
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

// fsetxattr of one attribute. Sets *unsupported (and succeeds) when the file system has none.
Status Set(int fd, const std::string& name, std::string_view value, const std::string& path,
           std::string_view key, bool* unsupported) {
  if (*unsupported) return Status::Ok();
  if (::fsetxattr(fd, name.c_str(), value.data(), value.size(), 0) == 0) return Status::Ok();
  const int err = errno;
  if (err == ENOTSUP) {
    *unsupported = true;
    return Status::Ok();
  }
  if (err == E2BIG || err == ERANGE || (err == ENOSPC && !DiskFull(fd))) {
    return Status::InvalidArgument(
        "cannot write \"" + PrintableKey(key) + "\" to a local folder: its " +
        std::string(std::string_view(name).substr(kPrefix.size())) + " (" +
        std::to_string(value.size()) + " bytes) is more than the file system (" +
        std::generic_category().message(err) + ") keeps in extended attributes of one file");
  }
  return ErrnoStatus(err, "record metadata " + name + " of", path);
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

// The names of the attributes of the file at `path` in the user.ferry. namespace.
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
    if (name.starts_with(kPrefix)) names.emplace_back(name);
    if (end == std::string::npos) break;
    i = end + 1;
  }
  return names;
}

}  // namespace

Status WriteDetails(int fd, const WriteSpec& spec, const std::string& path,
                    std::string_view key) {
  bool unsupported = false;
  for (const auto& [name, field] : HeaderFields()) {
    const std::string& value = spec.content.*field;
    if (!value.empty()) FERRY_RETURN_IF_ERROR(Set(fd, name, value, path, key, &unsupported));
  }
  for (const auto& [name, value] : spec.metadata) {
    FERRY_RETURN_IF_ERROR(
        Set(fd, std::string(kMetaPrefix) + name, value, path, key, &unsupported));
  }
  if (spec.tags && !spec.tags->empty()) {
    FERRY_RETURN_IF_ERROR(Set(fd, kTags, EncodeTags(*spec.tags), path, key, &unsupported));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) return ErrnoStatus(errno, "stat", path);
  return Set(fd, kGuard, GuardOf(st), path, key, &unsupported);
}

void ReadDetails(const std::string& path, const struct stat& st, bool with_tags,
                 ObjectInfo& info) {
  if (with_tags) info.tags = Tags{};
  const std::vector<std::string> names = FerryNames(path);
  if (names.empty()) return;
  const std::optional<std::string> guard = Get(path, kGuard);
  const bool unchanged = guard && *guard == GuardOf(st);
  for (const std::string& name : names) {
    if (name.starts_with(kMetaPrefix)) {
      const std::string meta = name.substr(kMetaPrefix.size());
      if (DescribesContent(meta) && !unchanged) continue;
      if (auto value = Get(path, name.c_str())) info.metadata[meta] = std::move(*value);
    } else if (name == kTags) {
      if (!with_tags) continue;
      if (auto value = Get(path, kTags)) info.tags = DecodeTags(*value);
    } else {
      for (const auto& [header, field] : HeaderFields()) {
        if (name != header) continue;
        if (auto value = Get(path, header)) info.content.*field = std::move(*value);
      }
    }
  }
}

Status WriteTags(const std::string& path, const Tags& tags) {
  if (tags.empty()) {
    if (::removexattr(path.c_str(), kTags) == 0 || errno == ENODATA || errno == ENOTSUP) {
      return Status::Ok();
    }
    return ErrnoStatus(errno, "remove tags of", path);
  }
  const std::string value = EncodeTags(tags);
  if (::setxattr(path.c_str(), kTags, value.data(), value.size(), 0) == 0) return Status::Ok();
  if (errno == ENOTSUP) {
    return Status::NotSupported("tags: the file system of " + path +
                                " has no extended attributes");
  }
  return ErrnoStatus(errno, "record tags of", path);
}

}  // namespace ferry::storage::local_internal
