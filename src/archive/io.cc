#include "archive/io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace ferry::archive {
namespace {

Status Errno(std::string_view doing, const std::string& path) {
  const int err = errno;
  std::string msg = std::string(doing) + " " + path + ": " + std::strerror(err);
  if (err == ENOENT) return Status::NotFound(std::move(msg));
  if (err == EACCES || err == EPERM) return Status::PermissionDenied(std::move(msg));
  return Status::Unavailable(std::move(msg));
}

}  // namespace

Result<std::unique_ptr<FileSink>> FileSink::Open(const std::string& path, bool fsync) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", path);
  return std::unique_ptr<FileSink>(new FileSink(path, fd, fsync));
}

FileSink::~FileSink() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(path_.c_str());
  }
}

Status FileSink::Write(std::span<const std::byte> data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd_, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write", path_);
    }
    data = data.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Status FileSink::Close() {
  const int fd = fd_;
  fd_ = -1;
  if ((fsync_ && ::fsync(fd) != 0) || ::close(fd) != 0) {
    Status s = Errno("cannot write", path_);
    ::unlink(path_.c_str());
    return s;
  }
  return Status::Ok();
}

Result<std::unique_ptr<FileRangeSource>> FileRangeSource::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    Status s = Errno("cannot stat", path);
    ::close(fd);
    return s;
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + " is not a regular file");
  }
  return std::unique_ptr<FileRangeSource>(
      new FileRangeSource(path, fd, static_cast<uint64_t>(st.st_size)));
}

FileRangeSource::~FileRangeSource() { ::close(fd_); }

Status FileRangeSource::ReadAt(uint64_t offset, std::span<std::byte> out) {
  while (!out.empty()) {
    const ssize_t n = ::pread(fd_, out.data(), out.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot read", path_);
    }
    if (n == 0) return Status::DataLoss(path_ + " is shorter than expected (truncated archive)");
    out = out.subspan(static_cast<size_t>(n));
    offset += static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

Status StringRangeSource::ReadAt(uint64_t offset, std::span<std::byte> out) {
  ++reads_;
  bytes_read_ += out.size();
  if (offset > bytes_.size() || out.size() > bytes_.size() - offset) {
    return Status::DataLoss("read past the end of the archive (truncated archive)");
  }
  std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return Status::Ok();
}

Result<size_t> StringChunkSource::Read(std::span<std::byte> out) {
  const size_t n = std::min(out.size(), bytes_.size() - pos_);
  std::memcpy(out.data(), bytes_.data() + pos_, n);
  pos_ += n;
  return n;
}

}  // namespace ferry::archive
