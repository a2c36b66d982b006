// LocalBackend::ListPendingUploads and AbortPendingUpload: ferry's temporary files left behind
// by a crash (or a detached chunked write) are the local backend's unfinished uploads. Their
// names record the object they were for (posix_io.h, CreateTempFor), so a cleanup can say which
// key each belongs to.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "storage/key.h"
#include "storage/local/local_backend.h"
#include "storage/local/posix_io.h"

namespace ferry::storage {

using local_internal::ErrnoStatus;
using local_internal::JoinPath;
using local_internal::MtimeOf;
using local_internal::OpenDirNoFollow;
using local_internal::ParseTempName;
using local_internal::UniqueFd;

namespace {

using PendingUpload = Backend::PendingUpload;

// The folder part of `key` ("a/b/" of "a/b/c", "" of "c").
std::string_view FolderOf(std::string_view key) {
  const size_t slash = key.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : key.substr(0, slash + 1);
}

// Appends the temporary files in the folder `dir` (at `rel` below the root: "" or ending in
// '/') and its subfolders whose key starts with `prefix`. Folders that vanish meanwhile are
// skipped; symbolic links are not followed.
Status Walk(UniqueFd dir, const std::string& rel, std::string_view prefix, std::stop_token stop,
            std::vector<PendingUpload>& out) {
  if (stop.stop_requested()) return Status::Cancelled("listing cancelled");
  const int listing_fd = ::dup(dir.get());
  DIR* listing = listing_fd < 0 ? nullptr : ::fdopendir(listing_fd);
  if (listing == nullptr) {
    const int err = errno;
    if (listing_fd >= 0) ::close(listing_fd);
    return ErrnoStatus(err, "list folder", rel.empty() ? "." : rel);
  }
  std::vector<std::string> folders;
  int err = 0;
  for (;;) {
    errno = 0;
    const struct dirent* d = ::readdir(listing);
    if (d == nullptr) {
      err = errno;
      break;
    }
    const std::string_view name = d->d_name;
    if (name == "." || name == "..") continue;
    const std::optional<std::string> target = ParseTempName(name);
    if (!target && d->d_type != DT_DIR && d->d_type != DT_UNKNOWN) continue;
    struct stat st;
    if (::fstatat(dir.get(), d->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // gone
    if (S_ISDIR(st.st_mode)) {
      const std::string sub = rel + std::string(name) + "/";
      if (sub.starts_with(prefix) || prefix.starts_with(sub)) folders.emplace_back(name);
      continue;
    }
    if (!target || !S_ISREG(st.st_mode)) continue;
    // When the name does not record the object, the key is the folder alone; such an upload
    // is listed only when the whole folder is under the prefix.
    std::string key = rel + *target;
    if (!key.starts_with(prefix)) continue;
    // Files do not portably record their creation time: the mtime is when the last part was
    // written, which for a cleanup means "idle since" (an upload being written never looks old).
    out.push_back(PendingUpload{std::move(key), std::string(name), MtimeOf(st), true});
  }
  ::closedir(listing);
  if (err != 0) return ErrnoStatus(err, "list folder", rel.empty() ? "." : rel);
  for (const std::string& name : folders) {
    UniqueFd child(
        ::openat(dir.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!child.valid()) {
      const int open_err = errno;
      if (open_err == ENOENT || open_err == ENOTDIR || open_err == ELOOP) continue;  // changed
      return ErrnoStatus(open_err, "list folder", rel + name);
    }
    FERRY_RETURN_IF_ERROR(Walk(std::move(child), rel + name + "/", prefix, stop, out));
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<Backend::PendingUpload>> LocalBackend::ListPendingUploads(
    std::string_view prefix, std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(Check(stop));
  std::vector<PendingUpload> pending;
  // Start in the deepest folder that the prefix names whole; a prefix no key can have ("../")
  // names nothing.
  const std::string_view start = FolderOf(prefix);
  if (!start.empty() && !ValidateLocalKey(start.substr(0, start.size() - 1)).ok()) {
    return pending;
  }
  const int fd = OpenDirNoFollow(root_, start);
  if (fd < 0) {
    if (-fd == ENOENT || -fd == ENOTDIR || -fd == ELOOP) return pending;
    return ErrnoStatus(-fd, "list folder", JoinPath(root_, start));
  }
  FERRY_RETURN_IF_ERROR(Walk(UniqueFd(fd), std::string(start), prefix, stop, pending));
  std::sort(pending.begin(), pending.end(), [](const PendingUpload& a, const PendingUpload& b) {
    return std::tie(a.key, a.started, a.upload_id) < std::tie(b.key, b.started, b.upload_id);
  });
  return pending;
}

Status LocalBackend::AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("abort cancelled");
  const std::string_view folder = FolderOf(upload.key);
  if (!folder.empty()) FERRY_RETURN_IF_ERROR(ValidateLocalKey(folder.substr(0, folder.size() - 1)));
  const std::string_view name = std::string_view(upload.key).substr(folder.size());
  const std::optional<std::string> target = ParseTempName(upload.upload_id);
  // An id that is not a temporary file's name, or one of another key, names no upload here.
  if (!target) return Status::Ok();
  if (!target->empty() && !name.empty() && *target != name) return Status::Ok();
  const std::string rel = std::string(folder) + upload.upload_id;
  const std::string path = JoinPath(root_, rel);
  if (::unlink(path.c_str()) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) return Status::Ok();
    return ErrnoStatus(err, "remove temporary file", path);
  }
  local_internal::RemoveEmptyParents(root_, rel);
  return Status::Ok();
}

}  // namespace ferry::storage
