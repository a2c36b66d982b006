// LocalBackend writes: Put and the chunked writer (opened or resumed). Both write a temporary
// file beside the target and rename it over the target, so a reader never sees a half-written
// file. A chunked write's upload id is its temporary file's name, which the key's folder holds.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <vector>

#include "checksum/checksum.h"
#include "storage/key.h"
#include "storage/local/local_backend.h"
#include "storage/local/local_xattr.h"
#include "storage/local/posix_io.h"

namespace ferry::storage {

using local_internal::CreateTempFor;
using local_internal::DeferredSync;
using local_internal::ErrnoStatus;
using local_internal::JoinPath;
using local_internal::ParseTempName;
using local_internal::PwriteAll;
using local_internal::RenameInto;
using local_internal::SetMtime;
using local_internal::UniqueFd;

namespace {

// How a temporary file is finished (Finish).
struct FinishPlan {
  const std::string& root;
  std::string_view key;
  const WriteSpec& spec;
  bool fsync;  // LocalOptions::fsync
  // The backend's deferred flushes: with spec.defer_durability the file's file system is noted
  // there (Backend::Sync flushes it) instead of the file and its folder being flushed now.
  DeferredSync* deferred;
};

// The folder of `key` under `root`.
std::string FolderOfKey(const std::string& root, std::string_view key) {
  const size_t slash = key.rfind('/');
  return JoinPath(root, slash == std::string_view::npos ? std::string_view() : key.substr(0, slash));
}

// Sets the mtime, records the details (local_xattr.h), flushes (when `fsync` and not deferred),
// closes and renames `fd`'s temporary file into place, then flushes its folder so that the
// rename lasts; removes the temporary file when any step before the rename fails. A deferred
// write notes its file system before the rename: a Sync from then on covers it.
Status Finish(UniqueFd fd, const std::string& temp_path, const FinishPlan& plan) {
  Status s = SetMtime(fd.get(), plan.spec.mtime, temp_path);
  struct stat st;
  if (s.ok() && ::fstat(fd.get(), &st) != 0) s = ErrnoStatus(errno, "stat", temp_path);
  if (s.ok()) s = local_internal::WriteDetails(fd.get(), plan.spec, st, temp_path, plan.key);
  bool defer = plan.fsync && plan.spec.defer_durability && plan.deferred != nullptr;
  // A folder that cannot be opened to be flushed later: this file is flushed now instead.
  if (s.ok() && defer) defer = plan.deferred->Note(st.st_dev, FolderOfKey(plan.root, plan.key)).ok();
  const bool flush_now = plan.fsync && !defer;
  if (s.ok() && flush_now) s = local_internal::SyncFile(fd.get(), temp_path);
  if (Status c = fd.Close(temp_path); s.ok()) s = c;
  if (s.ok()) {
    s = plan.spec.if_absent ? local_internal::LinkInto(temp_path, plan.root, plan.key)
                            : RenameInto(temp_path, plan.root, plan.key);
  }
  if (!s.ok()) {
    ::unlink(temp_path.c_str());
    return s;
  }
  return flush_now ? local_internal::SyncParentDir(plan.root, plan.key) : Status::Ok();
}

// Keys that can only be folders here (features().folder_markers is false).
Status RefuseFolderKey(std::string_view key, uint64_t size) {
  if (!key.empty() && !key.ends_with('/')) return Status::Ok();
  const std::string what = key.empty() ? std::string("the object named like the location itself")
                                       : "\"" + PrintableKey(key) + "\"";
  return Status::InvalidArgument(
      "cannot write " + what + " (" + std::to_string(size) +
      " bytes) to a local folder: a key ending in '/' names a folder, which cannot hold bytes" +
      (key.empty() ? std::string() : " (leave it out with --exclude)"));
}

// CRC32C of [offset, offset + length) of `fd`; nullopt when the range cannot be read whole.
std::optional<uint32_t> RangeCrc(int fd, uint64_t offset, uint64_t length,
                                 const std::string& path) {
  constexpr uint64_t kChunk = 1u << 20;
  std::vector<std::byte> buffer(static_cast<size_t>(std::min(kChunk, std::max<uint64_t>(length, 1))));
  uint32_t crc = 0;
  for (uint64_t done = 0; done < length;) {
    const uint64_t n = std::min<uint64_t>(buffer.size(), length - done);
    auto got = local_internal::PreadFull(fd, std::span<std::byte>(buffer.data(), n),
                                         offset + done, path);
    if (!got.ok() || *got != n) return std::nullopt;
    crc = checksum::Crc32c(std::span<const std::byte>(buffer.data(), n), crc);
    done += n;
  }
  return crc;
}

// The temporary file a chunked write goes into until it is committed under its key.
struct TempFile {
  UniqueFd fd;
  std::string path;
};

class LocalChunkWriter : public ChunkWriter {
 public:
  LocalChunkWriter(std::string root, std::string key, const WriteSpec& spec, uint64_t part_size,
                   bool fsync, std::shared_ptr<DeferredSync> deferred, TempFile temp)
      : root_(std::move(root)),
        key_(std::move(key)),
        size_(spec.size),
        part_size_(part_size),
        fsync_(fsync),
        deferred_(std::move(deferred)),
        spec_(spec),
        fd_(std::move(temp.fd)),
        temp_path_(std::move(temp.path)),
        temp_name_(temp_path_.substr(temp_path_.rfind('/') + 1)) {}

  ~LocalChunkWriter() override { (void)Abort(); }

  const std::string& upload_id() const override { return temp_name_; }

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

  Result<WriteResult> Commit(std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("commit cancelled");
    std::unique_lock state(state_mu_);
    if (!fd_.valid()) return Status::FailedPrecondition("chunked write already finished");
    if (uint64_t gap = FirstGap(); gap < size_) {
      return Status::InvalidArgument("cannot commit " + key_ + ": no part covered byte " +
                                     std::to_string(gap) + " of " + std::to_string(size_));
    }
    FERRY_RETURN_IF_ERROR(Finish(std::move(fd_), temp_path_,
                                 FinishPlan{root_, key_, spec_, fsync_, deferred_.get()}));
    return WriteResult{};
  }

  void AddMetadataOnCommit(std::map<std::string, std::string> extra) override {
    std::unique_lock state(state_mu_);
    for (auto& [name, value] : extra) spec_.metadata[name] = std::move(value);
  }

  Status Abort() override {
    std::unique_lock state(state_mu_);
    // Committed, aborted, detached, or a failed Commit (which removed the temporary file):
    // nothing left that is this writer's to remove.
    if (!fd_.valid()) return Status::Ok();
    (void)fd_.Close(temp_path_);
    if (::unlink(temp_path_.c_str()) != 0 && errno != ENOENT) {
      return ErrnoStatus(errno, "remove temporary file", temp_path_);
    }
    return Status::Ok();
  }

  // A file cannot tell which of its byte ranges were written: the caller's checkpoints are
  // the truth.
  Result<std::optional<std::vector<StoredPart>>> ListStoredParts(std::stop_token stop) override {
    (void)stop;
    return std::optional<std::vector<StoredPart>>();
  }

  void AdoptPart(const StoredPart& part) override {
    if (part.part_number < 1) return;
    const uint64_t offset = static_cast<uint64_t>(part.part_number - 1) * part_size_;
    if (offset > size_) return;  // nothing of this object: Commit's check reports the gap
    std::lock_guard lock(written_mu_);
    uint64_t& end = written_[offset];
    end = std::max(end, offset + std::min(part.size, size_ - offset));
  }

  // A checkpoint says the part was written, but without fsync (or after a power loss) its
  // bytes may never have reached the disk, leaving zeros of the right size: read it back.
  bool AdoptPartChecked(const StoredPart& part, uint32_t crc32c) override {
    if (part.part_number < 1) return false;
    const uint64_t offset = static_cast<uint64_t>(part.part_number - 1) * part_size_;
    if (offset > size_ || part.size > size_ - offset) return false;
    {
      std::shared_lock state(state_mu_);
      if (!fd_.valid()) return false;
      const std::optional<uint32_t> crc = RangeCrc(fd_.get(), offset, part.size, temp_path_);
      if (!crc || *crc != crc32c) return false;
    }
    AdoptPart(part);
    return true;
  }

  void Detach() override {
    std::unique_lock state(state_mu_);
    // The bytes are in the file already (pwrite returned); a close error could only matter
    // on network file systems, and Detach has no way to report it.
    (void)fd_.Close(temp_path_);
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
  const uint64_t part_size_;
  const bool fsync_;
  const std::shared_ptr<DeferredSync> deferred_;  // the backend's (outlives it if need be)
  std::shared_mutex state_mu_;  // shared: WriteChunk; exclusive: Commit, Abort, Detach, metadata
  WriteSpec spec_;              // GUARDED_BY(state_mu_): mtime and details recorded by Commit
  UniqueFd fd_;                 // GUARDED_BY(state_mu_); invalid once the writer ended
  const std::string temp_path_;
  const std::string temp_name_;  // the upload id
  std::mutex written_mu_;
  std::map<uint64_t, uint64_t> written_;  // GUARDED_BY(written_mu_): offset -> end
};

}  // namespace

Result<WriteResult> LocalBackend::Put(std::string_view key, std::span<const std::byte> data,
                                      const WriteSpec& spec, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  FERRY_RETURN_IF_ERROR(RefuseFolderKey(key, data.size()));
  FERRY_RETURN_IF_ERROR(ValidateLocalKey(key));
  std::string temp_path;
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, CreateTempFor(root_, key, &temp_path));
  if (Status s = PwriteAll(fd.get(), data, 0, temp_path); !s.ok()) {
    fd = UniqueFd();
    ::unlink(temp_path.c_str());
    return s;
  }
  FERRY_RETURN_IF_ERROR(Finish(std::move(fd), temp_path,
                               FinishPlan{root_, key, spec, options_.fsync, deferred_.get()}));
  return WriteResult{};
}

Result<std::unique_ptr<ChunkWriter>> LocalBackend::OpenChunkWriter(std::string_view key,
                                                                   const WriteSpec& spec,
                                                                   uint64_t part_size,
                                                                   std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  if (part_size == 0) return Status::InvalidArgument("part size 0");
  if (spec.if_absent) return Status::NotSupported("create-only chunked writes");
  FERRY_RETURN_IF_ERROR(RefuseFolderKey(key, spec.size));
  FERRY_RETURN_IF_ERROR(ValidateLocalKey(key));
  std::string temp_path;
  FERRY_ASSIGN_OR_RETURN(UniqueFd fd, CreateTempFor(root_, key, &temp_path));
  if (::ftruncate(fd.get(), static_cast<off_t>(spec.size)) != 0) {
    Status s = ErrnoStatus(errno, "size temporary file", temp_path);
    fd = UniqueFd();
    ::unlink(temp_path.c_str());
    return s;
  }
  return std::unique_ptr<ChunkWriter>(
      std::make_unique<LocalChunkWriter>(root_, std::string(key), spec, part_size, options_.fsync,
                                         deferred_, TempFile{std::move(fd), std::move(temp_path)}));
}

Result<std::unique_ptr<ChunkWriter>> LocalBackend::ResumeChunkWriter(std::string_view key,
                                                                     std::string_view upload_id,
                                                                     const WriteSpec& spec,
                                                                     uint64_t part_size,
                                                                     std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  if (part_size == 0) return Status::InvalidArgument("part size 0");
  FERRY_RETURN_IF_ERROR(ValidateLocalKey(key));
  const size_t slash = key.rfind('/');
  const std::string_view folder = slash == std::string_view::npos ? "" : key.substr(0, slash + 1);
  const std::string_view name = key.substr(folder.size());
  const std::optional<std::string> target = ParseTempName(upload_id);
  // An id that is not a temporary file's name, or one written for another key, names no
  // upload of this key (and is never used as a path).
  if (!target || (!target->empty() && *target != name)) {
    return Status::NotFound("no upload " + PrintableKey(upload_id) + " of \"" + PrintableKey(key) +
                            "\" in " + Describe());
  }
  const std::string temp_path = JoinPath(root_, std::string(folder) + std::string(upload_id));
  // Read and write: adopted parts are read back (AdoptPartChecked).
  UniqueFd fd(::open(temp_path.c_str(), O_RDWR | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ELOOP) return Status::NotFound("no upload " + temp_path + ": a symbolic link");
    return ErrnoStatus(err, "resume upload", temp_path);  // ENOENT/ENOTDIR: kNotFound
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "stat", temp_path);
  if (!S_ISREG(st.st_mode)) return Status::NotFound("no upload " + temp_path + ": not a file");
  // OpenChunkWriter sized the file to spec.size and writes never go beyond it: another size
  // means another version of the object, whose upload cannot be continued. Remove it rather
  // than leave it for a cleanup, since the caller is about to start a new one.
  if (static_cast<uint64_t>(st.st_size) != spec.size) {
    fd = UniqueFd();
    ::unlink(temp_path.c_str());
    return Status::NotFound("upload " + temp_path + " has " + std::to_string(st.st_size) +
                            " bytes, not " + std::to_string(spec.size) +
                            ": removed, it cannot be resumed");
  }
  return std::unique_ptr<ChunkWriter>(
      std::make_unique<LocalChunkWriter>(root_, std::string(key), spec, part_size, options_.fsync,
                                         deferred_, TempFile{std::move(fd), temp_path}));
}

}  // namespace ferry::storage

namespace ferry::storage {

Status LocalBackend::Sync(std::stop_token stop) {
  (void)stop;  // one syncfs per file system: nothing to cut short
  return deferred_->SyncAll();
}

}  // namespace ferry::storage
