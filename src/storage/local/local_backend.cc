// LocalBackend: construction, Check, Stat, reads and Delete. Listing is in local_list.cc,
// writes in local_write.cc.
#include "storage/local/local_backend.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <limits>
#include <system_error>

#include "storage/key.h"
#include "storage/local/local_xattr.h"
#include "storage/local/posix_io.h"

namespace ferry::storage {

using local_internal::ErrnoStatus;
using local_internal::JoinPath;
using local_internal::MtimeOf;
using local_internal::PreadFull;
using local_internal::UniqueFd;

namespace {

Features LocalFeatures() {
  Features f;
  f.chunked_write = true;
  f.server_side_copy = false;
  f.tags = true;      // in extended attributes (local_xattr.h)
  f.storage_class = false;
  f.metadata = true;  // in extended attributes
  f.cheap_reads = true;
  f.max_parts = std::numeric_limits<int>::max();
  f.min_part_size = 1;
  f.max_part_size = std::numeric_limits<uint64_t>::max();
  f.max_single_put = std::numeric_limits<uint64_t>::max();
  f.folder_markers = false;  // "a/" can only be a folder
  f.put_if_absent = true;    // link() of the temporary file (local_write.cc)
  return f;
}

std::string StripTrailingSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The error of a failed open or stat of `path`: a dangling symbolic link says so. It is an
// entry that cannot be read, not an absent one (kNotFound would let a copy skip it as "deleted
// since listed" and a delete job take it for absent): kFailedPrecondition, as a folder that
// could not be listed.
Status OpenError(int err, std::string_view doing, const std::string& path) {
  struct stat lst;
  if (err == ENOENT && ::lstat(path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
    return Status::FailedPrecondition(std::string(doing) + " " + PrintableKey(path) +
                                      ": a symbolic link whose target does not exist");
  }
  return ErrnoStatus(err, doing, path);
}

// Checks a key before a read: keys ending in '/' are folders a listing could not open
// (ObjectInfo::unreadable), reported as such; faults injected by tests apply.
Status CheckReadableKey(const std::string& root, std::string_view key) {
  const std::string path = JoinPath(root, key);
  if (int fault = local_internal::ListFault(key); fault != 0) {
    return ErrnoStatus(fault, "open", path);
  }
  if (key.size() > 1 && key.ends_with('/') &&
      ValidateLocalKey(key.substr(0, key.size() - 1)).ok()) {
    const int fd = local_internal::OpenDirNoFollow(root, key);
    if (fd >= 0) {
      ::close(fd);
      return Status::FailedPrecondition("the folder " + PrintableKey(path) +
                                        " could not be listed when the run started; rerun");
    }
    // Gone (or never there): "a/" is just a key that no file can have.
    if (-fd != ENOENT && -fd != ENOTDIR) return ErrnoStatus(-fd, "list folder", path);
  }
  return ValidateLocalKey(key);
}

// Opens the regular file for `key` for reading. A folder or special file is kNotFound: it is
// not an object. O_NONBLOCK: opening a fifo must not wait for a writer.
Result<UniqueFd> OpenForRead(const std::string& path, std::string_view key, struct stat* st) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return OpenError(errno, "open", path);
  if (::fstat(fd.get(), st) != 0) return ErrnoStatus(errno, "stat", path);
  if (!S_ISREG(st->st_mode)) {
    return Status::NotFound("no object \"" + PrintableKey(key) + "\": " + path +
                            " is not a regular file");
  }
  return fd;
}

ObjectInfo InfoFromStat(std::string_view key, const struct stat& st) {
  ObjectInfo info;
  info.key = std::string(key);
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime = MtimeOf(st);
  info.has_details = true;
  return info;
}

Status ReadRange(int fd, const std::string& path, uint64_t offset, std::span<std::byte> out,
                 uint64_t size) {
  FERRY_ASSIGN_OR_RETURN(size_t got, PreadFull(fd, out, offset, path));
  if (got != out.size()) {
    return Status::DataLoss("short read of " + path + ": wanted " + std::to_string(out.size()) +
                            " bytes at offset " + std::to_string(offset) + ", the file has " +
                            std::to_string(size) + " bytes");
  }
  return Status::Ok();
}

}  // namespace

LocalBackend::LocalBackend(std::string root, LocalOptions options)
    : features_(LocalFeatures()),
      root_(StripTrailingSlashes(std::move(root))),
      options_(options),
      deferred_(std::make_shared<local_internal::DeferredSync>()) {}

void LocalBackend::SetListFaultForTest(std::function<int(std::string_view rel)> fault) {
  local_internal::SetListFaultForTest(std::move(fault));
}

Result<std::unique_ptr<LocalBackend>> LocalBackend::Open(std::string_view path, bool create,
                                                         LocalOptions options) {
  if (path.empty()) return Status::InvalidArgument("empty local folder path");
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(std::filesystem::path(path), ec);
  if (ec) return ErrnoStatus(ec.value(), "resolve", path);
  abs = abs.lexically_normal();
  if (create) {
    std::filesystem::create_directories(abs, ec);
    if (ec) return ErrnoStatus(ec.value(), "create folder", abs.string());
  }
  auto backend = std::make_unique<LocalBackend>(abs.string(), options);
  FERRY_RETURN_IF_ERROR(backend->Check({}));
  return backend;
}

std::string LocalBackend::Describe() const { return root_.ends_with('/') ? root_ : root_ + "/"; }

Result<std::chrono::system_clock::time_point> LocalBackend::ServerTime(std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("cancelled");
  return ClockOr(options_.clock).Now();
}

Status LocalBackend::Check(std::stop_token stop) {
  (void)stop;
  struct stat st;
  if (::stat(root_.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      return Status::NotFound("local folder not found: " + root_);
    }
    return ErrnoStatus(err, "stat local folder", root_);
  }
  if (!S_ISDIR(st.st_mode)) {
    // The usual cause: `ferry cp FILE DST`. cp and sync copy folders and prefixes; say how to
    // copy one file instead of only what is wrong.
    const size_t slash = root_.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : root_.substr(0, slash);
    const std::string name = slash == std::string::npos ? root_ : root_.substr(slash + 1);
    return Status::NotFound("local folder not found: " + root_ +
                            " is a file, not a folder (to copy only it, give its folder " +
                            (folder.empty() ? "/" : folder) + " and --include '" + name + "')");
  }
  if (::faccessat(AT_FDCWD, root_.c_str(), R_OK | X_OK, AT_EACCESS) != 0) {
    return ErrnoStatus(errno, "open local folder", root_);
  }
  return Status::Ok();
}

Result<ObjectInfo> LocalBackend::Stat(std::string_view key, bool with_tags, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("stat cancelled");
  FERRY_RETURN_IF_ERROR(CheckReadableKey(root_, key));
  const std::string path = JoinPath(root_, key);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return OpenError(errno, "stat", path);
  if (!S_ISREG(st.st_mode)) {
    return Status::NotFound("no object \"" + PrintableKey(key) + "\": " + path +
                            " is not a regular file");
  }
  ObjectInfo info = InfoFromStat(key, st);
  local_internal::ReadDetails(path, st, with_tags, info);
  return info;
}

Status LocalBackend::PutTags(std::string_view key, const Tags& tags, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("tagging cancelled");
  FERRY_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key, false, stop));  // kNotFound when absent
  return local_internal::WriteTags(JoinPath(root_, info.key), tags);
}

Status LocalBackend::ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                            std::string_view etag, std::stop_token stop) {
  (void)etag;  // files have no ETag
  if (stop.stop_requested()) return Status::Cancelled("read cancelled");
  FERRY_RETURN_IF_ERROR(CheckReadableKey(root_, key));
  const std::string path = JoinPath(root_, key);
  struct stat st;
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path, key, &st));
  return ReadRange(fd.get(), path, offset, out, static_cast<uint64_t>(st.st_size));
}

Result<ObjectInfo> LocalBackend::ReadObject(std::string_view key, std::span<std::byte> out,
                                            std::string_view etag, std::stop_token stop) {
  (void)etag;
  if (stop.stop_requested()) return Status::Cancelled("read cancelled");
  FERRY_RETURN_IF_ERROR(CheckReadableKey(root_, key));
  const std::string path = JoinPath(root_, key);
  struct stat st;
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, OpenForRead(path, key, &st));
  const auto size = static_cast<uint64_t>(st.st_size);
  if (size != out.size()) {
    return Status::DataLoss("object " + path + " changed size: it has " + std::to_string(size) +
                            " bytes, expected " + std::to_string(out.size()));
  }
  FERRY_RETURN_IF_ERROR(ReadRange(fd.get(), path, 0, out, size));
  ObjectInfo info = InfoFromStat(key, st);
  local_internal::ReadDetails(path, st, /*with_tags=*/true, info);
  if (info.tags && info.tags->empty()) info.tags.reset();  // "fetched when it has any"
  return info;
}

Status LocalBackend::Delete(std::string_view key, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("delete cancelled");
  FERRY_RETURN_IF_ERROR(ValidateLocalKey(key));
  const std::string path = JoinPath(root_, key);
  if (::unlink(path.c_str()) != 0) {
    const int err = errno;
    // Absent, or a folder (which is not an object): nothing to delete.
    if (err == ENOENT || err == ENOTDIR || err == EISDIR) return Status::Ok();
    return ErrnoStatus(err, "delete", path);
  }
  if (options_.remove_emptied_folders) local_internal::RemoveEmptyParents(root_, key);
  return Status::Ok();
}

void LocalBackend::RemoveEmptiedFolders(std::span<const std::string> deleted) {
  for (const std::string& key : deleted) local_internal::RemoveEmptyParents(root_, key);
}

}  // namespace ferry::storage
