// LocalBackend writes: Put and the chunked writer. Both write a temporary file beside the
// target and rename it over the target, so a reader never sees a half-written file.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <shared_mutex>

#include "storage/key.h"
#include "storage/local/local_backend.h"
#include "storage/local/posix_io.h"

namespace ferry::storage {

using local_internal::CreateTempFor;
using local_internal::ErrnoStatus;
using local_internal::PwriteAll;
using local_internal::RenameInto;
using local_internal::SetMtime;
using local_internal::UniqueFd;

namespace {

// Sets the mtime, closes and renames `fd`'s temporary file into place; removes the temporary
// file when any step fails.
Status Finish(UniqueFd fd, const std::string& temp_path, const std::string& root,
              std::string_view key, std::chrono::system_clock::time_point mtime) {
  Status s = SetMtime(fd.get(), mtime, temp_path);
  if (Status c = fd.Close(temp_path); s.ok()) s = c;
  if (s.ok()) s = RenameInto(temp_path, root, key);
  if (!s.ok()) ::unlink(temp_path.c_str());
  return s;
}

class LocalChunkWriter : public ChunkWriter {
 public:
  LocalChunkWriter(std::string root, std::string key, uint64_t size,
                   std::chrono::system_clock::time_point mtime, UniqueFd fd, std::string temp)
      : root_(std::move(root)),
        key_(std::move(key)),
        size_(size),
        mtime_(mtime),
        fd_(std::move(fd)),
        temp_path_(std::move(temp)) {}

  ~LocalChunkWriter() override { (void)Abort(); }

  const std::string& upload_id() const override { return temp_path_; }

  Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                    std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("write cancelled");
    std::shared_lock state(state_mu_);  // many parts at once; Commit/Abort wait for them
    if (!fd_.valid()) return Status::FailedPrecondition("chunked write already finished");
    if (offset > size_ || data.size() > size_ - offset) {
      return Status::InvalidArgument("part " + std::to_string(part_number) + " [" +
                                     std::to_string(offset) + ", +" + std::to_string(data.size()) +
                                     ") lies beyond the size " + std::to_string(size_) + " of " +
                                     key_);
    }
    FERRY_RETURN_IF_ERROR(PwriteAll(fd_.get(), data, offset, temp_path_));
    std::lock_guard lock(written_mu_);
    uint64_t& end = written_[offset];
    end = std::max(end, offset + data.size());
    return Status::Ok();
  }

  Result<std::string> Commit(std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("commit cancelled");
    std::unique_lock state(state_mu_);
    if (!fd_.valid()) return Status::FailedPrecondition("chunked write already finished");
    if (uint64_t gap = FirstGap(); gap < size_) {
      return Status::InvalidArgument("cannot commit " + key_ + ": no part covered byte " +
                                     std::to_string(gap) + " of " + std::to_string(size_));
    }
    FERRY_RETURN_IF_ERROR(Finish(std::move(fd_), temp_path_, root_, key_, mtime_));
    return std::string();
  }

  Status Abort() override {
    std::unique_lock state(state_mu_);
    // Committed, aborted, or a failed Commit (which removed the temporary file): nothing left.
    if (!fd_.valid()) return Status::Ok();
    (void)fd_.Close(temp_path_);
    if (::unlink(temp_path_.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "remove temporary file", temp_path_);
    }
    return Status::Ok();
  }

 private:
  // The first byte no part wrote, or size_ when all were written. REQUIRES: state_mu_ held.
  uint64_t FirstGap() {
    std::lock_guard lock(written_mu_);
    uint64_t covered = 0;
    for (const auto& [begin, end] : written_) {
      if (begin > covered) return covered;
      covered = std::max(covered, end);
    }
    return std::min(covered, size_);
  }

  const std::string root_;
  const std::string key_;
  const uint64_t size_;
  const std::chrono::system_clock::time_point mtime_;
  std::shared_mutex state_mu_;  // shared: WriteChunk; exclusive: Commit, Abort
  UniqueFd fd_;                 // GUARDED_BY(state_mu_); invalid once committed or aborted
  const std::string temp_path_;
  std::mutex written_mu_;
  std::map<uint64_t, uint64_t> written_;  // GUARDED_BY(written_mu_): offset -> end
};

}  // namespace

Result<std::string> LocalBackend::Put(std::string_view key, std::span<const std::byte> data,
                                      const WriteSpec& spec, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  FERRY_RETURN_IF_ERROR(ValidateLocalKey(key));
  std::string temp_path;
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, CreateTempFor(root_, key, &temp_path));
  if (Status s = PwriteAll(fd.get(), data, 0, temp_path); !s.ok()) {
    fd = UniqueFd();
    ::unlink(temp_path.c_str());
    return s;
  }
  FERRY_RETURN_IF_ERROR(Finish(std::move(fd), temp_path, root_, key, spec.mtime));
  return std::string();
}

Result<std::unique_ptr<ChunkWriter>> LocalBackend::OpenChunkWriter(std::string_view key,
                                                                   const WriteSpec& spec,
                                                                   uint64_t part_size,
                                                                   std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  if (part_size == 0) return Status::InvalidArgument("part size 0");
  FERRY_RETURN_IF_ERROR(ValidateLocalKey(key));
  std::string temp_path;
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, CreateTempFor(root_, key, &temp_path));
  if (::ftruncate(fd.get(), static_cast<off_t>(spec.size)) != 0) {
    Status s = ErrnoStatus(errno, "size temporary file", temp_path);
    fd = UniqueFd();
    ::unlink(temp_path.c_str());
    return s;
  }
  return std::unique_ptr<ChunkWriter>(std::make_unique<LocalChunkWriter>(
      root_, std::string(key), spec.size, spec.mtime, std::move(fd), std::move(temp_path)));
}

}  // namespace ferry::storage
