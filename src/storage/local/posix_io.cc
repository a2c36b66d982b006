#include "storage/local/posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <mutex>
#include <random>
#include <system_error>
#include <vector>

#include "storage/key.h"

namespace ferry::storage::local_internal {
namespace {

std::atomic<uint64_t> g_fsync_calls{0};
std::atomic<uint64_t> g_syncfs_calls{0};

std::mutex g_fault_mu;
std::function<int(std::string_view)> g_list_fault;  // GUARDED_BY(g_fault_mu)
std::atomic<bool> g_list_fault_set{false};

int FsyncNoEintr(int fd) {
  g_fsync_calls.fetch_add(1, std::memory_order_relaxed);
  int rc;
  do {
    rc = ::fsync(fd);
  } while (rc != 0 && errno == EINTR);
  return rc;
}

std::string RandomHex() {
  thread_local std::mt19937_64 rng([] {
    std::random_device device;
    return (static_cast<uint64_t>(device()) << 32) ^ device();
  }());
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t v = rng();
  std::string out(16, '0');
  for (char& c : out) {
    c = kHex[v & 0xF];
    v >>= 4;
  }
  return out;
}

Status NotAFolder(std::string_view key, std::string_view segment_path) {
  return Status::FailedPrecondition("cannot write key \"" + PrintableKey(key) + "\": \"" +
                                    PrintableKey(segment_path) +
                                    "\" exists and is not a folder (a file cannot also be a "
                                    "folder of other files)");
}

}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Status UniqueFd::Close(std::string_view path) {
  const int fd = release();
  if (fd < 0) return Status::Ok();
  // Linux closes the descriptor even when close fails; never retry it.
  if (::close(fd) != 0 && errno != EINTR) return ErrnoStatus(errno, "close", path);
  return Status::Ok();
}

Status ErrnoStatus(int err, std::string_view doing, std::string_view path) {
  std::string m(doing);
  m += ' ';
  m += PrintableKey(path);
  m += ": ";
  m += std::generic_category().message(err);
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return Status::NotFound(std::move(m));
    case EACCES:
    case EPERM:
    case EROFS:
      return Status::PermissionDenied(std::move(m));
    case EEXIST:
    case ENOTEMPTY:
    case EISDIR:
    case ELOOP:
      return Status::FailedPrecondition(std::move(m));
    case ENAMETOOLONG:
    case EINVAL:
      return Status::InvalidArgument(std::move(m));
    case EMFILE:
    case ENFILE:
    case EAGAIN:
    case EBUSY:
    case EINTR:
    case ETIMEDOUT:
    // A full disk or quota: space can be freed, so a later attempt may succeed.
    case ENOSPC:
    case EDQUOT:
      return Status::Unavailable(std::move(m));
    default:  // EIO, ...: retrying will not help
      return Status::Internal(std::move(m));
  }
}

Status SyncFile(int fd, std::string_view path) {
  if (FsyncNoEintr(fd) != 0) return ErrnoStatus(errno, "flush to disk", path);
  return Status::Ok();
}

Status SyncParentDir(std::string_view root, std::string_view key) {
  const size_t slash = key.rfind('/');
  const std::string dir =
      JoinPath(root, slash == std::string_view::npos ? std::string_view() : key.substr(0, slash));
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoStatus(errno, "open folder to flush", dir);
  // Some file systems cannot fsync a folder (EINVAL): their renames are as durable as they get.
  if (FsyncNoEintr(fd.get()) != 0 && errno != EINVAL) {
    return ErrnoStatus(errno, "flush folder to disk", dir);
  }
  return Status::Ok();
}

uint64_t FsyncCallsForTest() { return g_fsync_calls.load(); }
uint64_t SyncfsCallsForTest() { return g_syncfs_calls.load(); }

Status DeferredSync::Note(dev_t dev, const std::string& dir) {
  std::lock_guard lock(mu_);
  auto it = devices_.find(dev);
  if (it == devices_.end()) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return ErrnoStatus(errno, "open folder to flush", dir);
    it = devices_.emplace(dev, Device{std::move(fd), dir, false}).first;
  }
  it->second.pending = true;
  return Status::Ok();
}

Status DeferredSync::SyncAll() {
  // The descriptors to flush, taken out of the pending set first: a write noted while the
  // flushes run is left for the next SyncAll (its caller's Sync had not started before it).
  std::vector<std::pair<int, std::string>> todo;
  {
    std::lock_guard lock(mu_);
    for (auto& [dev, device] : devices_) {
      if (!device.pending) continue;
      device.pending = false;
      todo.emplace_back(device.fd.get(), device.dir);
    }
  }
  Status first;
  for (const auto& [fd, dir] : todo) {
    g_syncfs_calls.fetch_add(1, std::memory_order_relaxed);
    int rc;
    do {
      rc = ::syncfs(fd);
    } while (rc != 0 && errno == EINTR);
    if (rc == 0) continue;
    const int err = errno;
    {
      std::lock_guard lock(mu_);
      for (auto& [dev, device] : devices_) {
        if (device.fd.get() == fd) device.pending = true;
      }
    }
    if (first.ok()) first = ErrnoStatus(err, "flush to disk the file system of", dir);
  }
  return first;
}

void SetListFaultForTest(std::function<int(std::string_view rel)> fault) {
  std::lock_guard lock(g_fault_mu);
  g_list_fault = std::move(fault);
  g_list_fault_set = static_cast<bool>(g_list_fault);
}

int ListFault(std::string_view rel) {
  if (!g_list_fault_set.load(std::memory_order_relaxed)) return 0;
  std::lock_guard lock(g_fault_mu);
  return g_list_fault ? g_list_fault(rel) : 0;
}

std::string JoinPath(std::string_view root, std::string_view rel) {
  std::string path(root);
  if (rel.empty()) return path;
  if (path.empty() || path.back() != '/') path += '/';
  path += rel;
  return path;
}

std::chrono::system_clock::time_point MtimeOf(const struct stat& st) {
  const auto since_epoch =
      std::chrono::seconds(st.st_mtim.tv_sec) + std::chrono::nanoseconds(st.st_mtim.tv_nsec);
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(since_epoch));
}

Status SetMtime(int fd, std::chrono::system_clock::time_point mtime, std::string_view path) {
  if (mtime == std::chrono::system_clock::time_point{}) return Status::Ok();
  const auto since_epoch = mtime.time_since_epoch();
  const auto secs = std::chrono::floor<std::chrono::seconds>(since_epoch);
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch - secs);
  struct timespec times[2];
  times[0].tv_sec = 0;
  times[0].tv_nsec = UTIME_OMIT;  // atime: leave as it is
  times[1].tv_sec = static_cast<time_t>(secs.count());
  times[1].tv_nsec = static_cast<long>(nanos.count());
  if (::futimens(fd, times) != 0) return ErrnoStatus(errno, "set mtime of", path);
  return Status::Ok();
}

Status PwriteAll(int fd, std::span<const std::byte> data, uint64_t offset, std::string_view path) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n =
        ::pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Result<size_t> PreadFull(int fd, std::span<std::byte> out, uint64_t offset, std::string_view path) {
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n =
        ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "read", path);
    }
    if (n == 0) break;  // end of file
    done += static_cast<size_t>(n);
  }
  return done;
}

Status MakeParentDirs(std::string_view root, std::string_view key) {
  const size_t last = key.rfind('/');
  if (last == std::string_view::npos) return Status::Ok();
  struct stat st;
  // Common case first: the folder is already there.
  if (::stat(JoinPath(root, key.substr(0, last)).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    return Status::Ok();
  }
  for (size_t slash = key.find('/'); slash != std::string_view::npos;
       slash = key.find('/', slash + 1)) {
    const std::string_view rel = key.substr(0, slash);
    const std::string dir = JoinPath(root, rel);
    if (::mkdir(dir.c_str(), 0777) == 0) continue;
    const int err = errno;
    if (err == EEXIST) {
      // Follows symbolic links: a link to a folder that the user made is theirs to keep.
      if (::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;
      return NotAFolder(key, rel);
    }
    if (err == ENOTDIR) return NotAFolder(key, rel);
    return ErrnoStatus(err, "create folder", dir);
  }
  return Status::Ok();
}

Result<UniqueFd> CreateTempFor(std::string_view root, std::string_view key,
                               std::string* temp_path) {
  const size_t last = key.rfind('/');
  const std::string_view dir = last == std::string_view::npos ? "" : key.substr(0, last + 1);
  constexpr int kAttempts = 8;
  int err = 0;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    FERRY_RETURN_IF_ERROR(MakeParentDirs(root, key));
    std::string name = std::string(kLocalTempPrefix) + RandomHex();
    if (const std::string_view target = key.substr(dir.size());
        target.size() <= kMaxTempNameTarget) {
      name += '-';
      name += target;
    }
    *temp_path = JoinPath(root, std::string(dir) + name);
    const int fd = ::open(temp_path->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) return UniqueFd(fd);
    err = errno;
    // EEXIST: a name clash (try another name); ENOENT: a concurrent Delete removed the
    // (then empty) folder between MakeParentDirs and open (make it again).
    if (err != EEXIST && err != ENOENT) break;
  }
  return ErrnoStatus(err, "create temporary file", *temp_path);
}

int OpenDirNoFollow(const std::string& root, std::string_view rel) {
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  size_t start = 0;
  while (fd >= 0 && start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    const std::string name(rel.substr(start, end - start));
    const int child = ::openat(fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    const int err = errno;
    ::close(fd);
    if (child < 0) return -err;
    fd = child;
    start = end + 1;
  }
  return fd >= 0 ? fd : -errno;
}

std::optional<std::string> ParseTempName(std::string_view name) {
  if (!name.starts_with(kLocalTempPrefix)) return std::nullopt;
  if (name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos) {
    return std::nullopt;
  }
  // The random part is hex, so the first '-' after the prefix starts the target.
  const std::string_view rest = name.substr(kLocalTempPrefix.size());
  const size_t dash = rest.find('-');
  if (dash == std::string_view::npos) return std::string();
  return std::string(rest.substr(dash + 1));
}

void RemoveEmptyParents(std::string_view root, std::string_view rel) {
  for (size_t slash = rel.rfind('/'); slash != std::string_view::npos && slash > 0;
       slash = rel.rfind('/', slash - 1)) {
    if (::rmdir(JoinPath(root, rel.substr(0, slash)).c_str()) != 0) break;
  }
}

bool RemoveObjectlessFolder(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(path, ec))) return false;
  // First look at everything, then remove: a folder that turns out to hold an object is left
  // exactly as it was.
  std::vector<fs::path> temps;
  std::vector<fs::path> folders;
  for (fs::recursive_directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::file_status st = it->symlink_status(ec);
    if (ec) return false;
    if (fs::is_directory(st)) {
      folders.push_back(it->path());
    } else if (fs::is_regular_file(st) && ParseTempName(it->path().filename().native())) {
      temps.push_back(it->path());
    } else {
      return false;
    }
  }
  if (ec) return false;
  for (const fs::path& t : temps) ::unlink(t.c_str());
  // Deepest first: a folder is listed before what it holds.
  for (auto f = folders.rbegin(); f != folders.rend(); ++f) ::rmdir(f->c_str());
  return ::rmdir(path.c_str()) == 0;
}

Status RenameInto(const std::string& temp_path, std::string_view root, std::string_view key) {
  const std::string target = JoinPath(root, key);
  if (::rename(temp_path.c_str(), target.c_str()) == 0) return Status::Ok();
  int err = errno;
  // A folder where the file goes that holds no object (left by deletes that were interrupted
  // before they removed it, a folder whose files all moved away, or one that only a killed
  // write's temporary file kept) gives way.
  if ((err == EISDIR || err == ENOTEMPTY || err == EEXIST) && RemoveObjectlessFolder(target)) {
    if (::rename(temp_path.c_str(), target.c_str()) == 0) return Status::Ok();
    err = errno;
  }
  if (err == EISDIR || err == ENOTEMPTY || err == EEXIST) {
    return Status::FailedPrecondition("cannot write key \"" + PrintableKey(key) +
                                      "\": a folder with that name exists (it holds other "
                                      "objects)");
  }
  return ErrnoStatus(err, "rename into", target);
}

Status LinkInto(const std::string& temp_path, std::string_view root, std::string_view key) {
  const std::string target = JoinPath(root, key);
  if (::link(temp_path.c_str(), target.c_str()) != 0) {
    const int err = errno;
    if (err == EEXIST) {
      return Status::AlreadyExists("object exists (create-only write): \"" + PrintableKey(key) +
                                   "\"");
    }
    return ErrnoStatus(err, "link into", target);
  }
  // The object is in place; the second name only has to go.
  (void)::unlink(temp_path.c_str());
  return Status::Ok();
}

}  // namespace ferry::storage::local_internal
