// Small POSIX helpers shared by the local backend's files (private to src/storage/local/):
// an owning file descriptor, errno -> Status mapping (the one place the local backend maps
// foreign errors), full-length pread/pwrite loops, mtime conversions and directory creation.
//
// Thread-safety: free functions are thread-safe; a UniqueFd is owned by one object.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <functional>

#include "base/status.h"

namespace ferry::storage::local_internal {

// Owns one file descriptor; closes it (ignoring errors) when destroyed.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }
  // Closes now and reports a close failure (a delayed write error on some file systems).
  Status Close(std::string_view path);

 private:
  int fd_ = -1;
};

// Maps `err` (an errno value) to a Status whose message is "<doing> <path>: <strerror>".
// ENOENT/ENOTDIR -> kNotFound; EACCES/EPERM/EROFS -> kPermissionDenied; EEXIST/ENOTEMPTY/
// EISDIR/ELOOP -> kFailedPrecondition; ENAMETOOLONG/EINVAL -> kInvalidArgument; EMFILE/ENFILE/
// EAGAIN/EBUSY/EINTR/ETIMEDOUT and ENOSPC/EDQUOT ("No space left on device", "Disk quota
// exceeded": space can be freed, so the write is worth retrying later) -> kUnavailable; the
// rest (EIO, ...) -> kInternal.
Status ErrnoStatus(int err, std::string_view doing, std::string_view path);

// fsync of `fd` (data, size and extended attributes), retried on EINTR. Counted for tests.
Status SyncFile(int fd, std::string_view path);

// fsync of the folder that holds `key` under `root`, so that a rename or a new file in it
// survives a power loss. Counted for tests.
Status SyncParentDir(std::string_view root, std::string_view key);

// How many fsync calls SyncFile and SyncParentDir made in this process (a test seam).
uint64_t FsyncCallsForTest();
// How many syncfs calls DeferredSync::SyncAll made in this process (a test seam).
uint64_t SyncfsCallsForTest();

// The file systems that writes with deferred durability (WriteSpec::defer_durability) went to
// since the last SyncAll. One syncfs per file system makes a whole batch durable at once: the
// files' bytes, attributes and the renames that put them in place (one journal commit, where a
// flush of each file and folder costs one each). Each file system is remembered by a folder
// opened at its first deferred write and kept open: syncfs reports the write-back errors that
// happened since that descriptor was opened (Linux 5.8 and later), so an error of a file's
// write-back that came before the SyncAll is not missed.
// Thread-safety: all methods are thread-safe.
class DeferredSync {
 public:
  // Records that a file was written on the file system `dev`, in the folder `dir` (opened the
  // first time `dev` is seen; an error opening it is returned, and the caller then flushes the
  // file itself).
  Status Note(dev_t dev, const std::string& dir);
  // syncfs of every file system noted since the last SyncAll. On an error the file systems not
  // made durable stay noted (a later SyncAll tries again) and the error names the folder.
  Status SyncAll();

 private:
  struct Device {
    UniqueFd fd;
    std::string dir;
    bool pending = false;
  };
  std::mutex mu_;
  std::map<dev_t, Device> devices_;  // GUARDED_BY(mu_)
};

// Test seam for listings: when set, ListFault(rel) returns the errno with which the listing
// pretends that stat of the entry `rel` (a key, or a folder path ending in '/') failed, or 0.
void SetListFaultForTest(std::function<int(std::string_view rel)> fault);
int ListFault(std::string_view rel);

// root + "/" + rel (rel may be empty: then root itself).
std::string JoinPath(std::string_view root, std::string_view rel);

std::chrono::system_clock::time_point MtimeOf(const struct stat& st);

// Sets the file's mtime to `mtime` (atime untouched). Does nothing when `mtime` is the epoch
// (WriteSpec's "not given").
Status SetMtime(int fd, std::chrono::system_clock::time_point mtime, std::string_view path);

// Writes all of `data` at `offset`, retrying short writes and EINTR.
Status PwriteAll(int fd, std::span<const std::byte> data, uint64_t offset, std::string_view path);

// Reads until `out` is full or end of file; returns the byte count (short only at end of file).
Result<size_t> PreadFull(int fd, std::span<std::byte> out, uint64_t offset, std::string_view path);

// Creates the folders of `key` (every segment but the last) under `root`. When a segment
// exists as something other than a folder: kFailedPrecondition naming it. `key` must have
// passed ValidateLocalKey.
Status MakeParentDirs(std::string_view root, std::string_view key);

// Opens root/rel (rel: "" or a folder path relative to the root, with or without a trailing
// '/') as a folder without following symbolic links below the root; returns the fd (owned by
// the caller) or -errno.
int OpenDirNoFollow(const std::string& root, std::string_view rel);

// Creates a new empty temporary file in the folder of `key`, creating that folder first;
// retries when a concurrent Delete removes the folder meanwhile. On success, `*temp_path` holds
// its path. The name is kLocalTempPrefix + 16 random hex digits + "-" + the last segment of
// `key` (so that a leftover file says which object it was for), or without "-" + segment when
// that would exceed kMaxTempNameTarget bytes of target name (file names are limited to 255).
Result<UniqueFd> CreateTempFor(std::string_view root, std::string_view key, std::string* temp_path);

// The longest last key segment that a temporary file's name records.
inline constexpr size_t kMaxTempNameTarget = 255 - 11 - 16 - 1;

// What the name of a file in a folder says about it: nullopt when it is not one of ferry's
// temporary files (no kLocalTempPrefix, or a '/' or NUL in it); otherwise the last key segment
// it was written for, or "" when the name does not record it.
std::optional<std::string> ParseTempName(std::string_view name);

// Removes the folders of `rel` (every segment but the last) under `root` that are empty,
// deepest first, stopping at the first that is not (rmdir never removes a non-empty folder,
// so a concurrent writer that just made one loses nothing: CreateTempFor makes it again).
void RemoveEmptyParents(std::string_view root, std::string_view rel);

// Removes the folder at `path` when it holds no object: nothing but ferry's temporary files
// (ParseTempName) and folders that hold no object either. A killed write leaves its temporary
// file beside its target, and the deletes that later emptied the folder of objects leave that
// file and its folders behind (listings skip them), so they would stand in the way of a file of
// the folder's name for ever. Returns false, removing nothing, when the folder holds anything
// else (a file, a symbolic link, a special file) or cannot be read; true once it is gone.
bool RemoveObjectlessFolder(const std::string& path);

// Renames `temp_path` over the file for `key` under `root`. A folder that holds no object
// (RemoveObjectlessFolder) gives way; any other folder in the way is a kFailedPrecondition that
// names the key.
Status RenameInto(const std::string& temp_path, std::string_view root, std::string_view key);
// Like RenameInto, but only when nothing is at the key's path (a create-only write): link()s
// the temporary file there, atomically (EEXIST: kAlreadyExists, whatever is in the way), then
// removes the temporary name. The caller removes the temporary file when this fails.
Status LinkInto(const std::string& temp_path, std::string_view root, std::string_view key);

}  // namespace ferry::storage::local_internal
