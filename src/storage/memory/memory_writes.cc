// MemoryBackend: chunked writes (S3 multipart uploads in memory), resumed and abandoned ones
// included. The uploads and their parts live in the backend (uploads_); a writer is a handle on
// one of them, which is what lets a detached upload be resumed by id.
#include <algorithm>
#include <map>
#include <mutex>
#include <set>
#include <tuple>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "storage/memory/memory_internal.h"

namespace ferry::storage {

using memory_internal::CheckKey;
using memory_internal::CheckTags;
using memory_internal::LowerCaseNames;
using memory_internal::Md5Hex;
using memory_internal::NormalizeStorageClass;

class MemoryChunkWriter : public ChunkWriter {
 public:
  MemoryChunkWriter(MemoryBackend& backend, std::string key, std::string upload_id, uint64_t size,
                    uint64_t part_size)
      : backend_(backend),
        key_(std::move(key)),
        upload_id_(std::move(upload_id)),
        size_(size),
        part_size_(part_size),
        parts_needed_(size == 0 ? 1 : static_cast<int>((size - 1) / part_size + 1)) {}

  ~MemoryChunkWriter() override { (void)Abort(); }

  const std::string& upload_id() const override { return upload_id_; }

  Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                    std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("write cancelled");
    std::lock_guard lock(backend_.mu_);
    FERRY_RETURN_IF_ERROR(backend_.BeginLocked(MemoryBackend::kWriteChunk, &Counts::parts));
    FERRY_RETURN_IF_ERROR(CheckPart(part_number, offset, data.size()));
    FERRY_RETURN_IF_ERROR(StorePartLocked(
        part_number, std::string(reinterpret_cast<const char*>(data.data()), data.size())));
    backend_.counts_.bytes_written += data.size();
    return Status::Ok();
  }

  Status CopyChunk(int part_number, const Backend& source, const ObjectInfo& object,
                   uint64_t offset, uint64_t length, std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("copy cancelled");
    {
      std::lock_guard lock(backend_.mu_);
      FERRY_RETURN_IF_ERROR(backend_.BeginLocked(MemoryBackend::kCopyChunk, &Counts::part_copies));
    }
    if (!backend_.CanCopyFrom(source)) {
      return Status::NotSupported("server-side part copy from " + source.Describe() + " to " +
                                  backend_.Describe());
    }
    FERRY_RETURN_IF_ERROR(CheckPart(part_number, offset, length));
    const auto& from = static_cast<const MemoryBackend&>(source);  // CanCopyFrom checked it
    // Read before taking this backend's lock: the source may be this backend.
    FERRY_ASSIGN_OR_RETURN(std::string bytes, from.CopyOut(object.key, object.etag, offset, length,
                                                           object.version_id));
    std::lock_guard lock(backend_.mu_);
    return StorePartLocked(part_number, std::move(bytes));
  }

  void AddMetadataOnCommit(std::map<std::string, std::string> extra) override {
    std::lock_guard lock(backend_.mu_);
    for (auto& [name, value] : LowerCaseNames(extra)) extra_[name] = std::move(value);
  }

  Result<WriteResult> Commit(std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("commit cancelled");
    std::lock_guard lock(backend_.mu_);
    if (ended_) return Status::FailedPrecondition("upload " + upload_id_ + " already ended");
    FERRY_RETURN_IF_ERROR(backend_.BeginLocked(MemoryBackend::kCommit, &Counts::commits));
    FERRY_ASSIGN_OR_RETURN(MemoryBackend::Upload * upload, FindLocked());
    std::string digests;  // binary MD5s of the parts, in order
    std::string data;
    data.reserve(size_);
    for (int n = 1; n <= parts_needed_; ++n) {
      auto it = upload->parts.find(n);
      if (!included_.contains(n) || it == upload->parts.end()) {
        return Status::InvalidArgument("cannot commit " + key_ + ": part " + std::to_string(n) +
                                       " of " + std::to_string(parts_needed_) + " was not written");
      }
      FERRY_RETURN_IF_ERROR(CheckAdopted(n, it->second));
      const checksum::Md5Digest digest = checksum::Md5(checksum::AsBytes(it->second));
      digests.append(reinterpret_cast<const char*>(digest.data()), digest.size());
      data += it->second;
    }
    MemoryBackend::StoredObject object = std::move(upload->details);
    for (auto& [name, value] : extra_) object.metadata[name] = value;
    object.data = std::move(data);
    object.etag = Md5Hex(checksum::AsBytes(digests)) + "-" + std::to_string(parts_needed_);
    backend_.uploads_.erase(upload_id_);
    WriteResult result = backend_.StoreLocked(key_, std::move(object));
    EndLocked();
    return result;
  }

  Status Abort() override {
    std::lock_guard lock(backend_.mu_);
    if (ended_) return Status::Ok();
    backend_.uploads_.erase(upload_id_);
    backend_.counts_.aborts += 1;
    EndLocked();
    return Status::Ok();
  }

  Result<std::optional<std::vector<StoredPart>>> ListStoredParts(std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("listing cancelled");
    std::lock_guard lock(backend_.mu_);
    FERRY_RETURN_IF_ERROR(
        backend_.BeginLocked(MemoryBackend::kListStoredParts, &Counts::part_lists));
    FERRY_ASSIGN_OR_RETURN(MemoryBackend::Upload * upload, FindLocked());
    std::vector<StoredPart> parts;
    for (const auto& [number, bytes] : upload->parts) {
      parts.push_back(StoredPart{number, Md5Hex(checksum::AsBytes(bytes)), bytes.size()});
    }
    return std::optional<std::vector<StoredPart>>(std::move(parts));
  }

  void AdoptPart(const StoredPart& part) override {
    std::lock_guard lock(backend_.mu_);
    backend_.counts_.parts_adopted += 1;
    adopted_[part.part_number] = part;
    included_.insert(part.part_number);
  }

  void Detach() override {
    std::lock_guard lock(backend_.mu_);
    if (!ended_) EndLocked();  // the upload stays in uploads_
  }

 private:
  using Counts = MemoryBackend::Counts;

  // Parts must tile the object: part n at (n - 1) * part_size, all part_size long but the last.
  Status CheckPart(int part_number, uint64_t offset, uint64_t length) const {
    if (part_number < 1 || part_number > parts_needed_) {
      return Status::InvalidArgument("part number " + std::to_string(part_number) + " outside 1.." +
                                     std::to_string(parts_needed_) + " for " + key_);
    }
    const uint64_t want_offset = static_cast<uint64_t>(part_number - 1) * part_size_;
    const uint64_t want_length = std::min(part_size_, size_ - want_offset);
    if (offset != want_offset || length != want_length) {
      return Status::InvalidArgument(
          "part " + std::to_string(part_number) + " of " + key_ + " is [" + std::to_string(offset) +
          ", +" + std::to_string(length) + "), expected [" + std::to_string(want_offset) + ", +" +
          std::to_string(want_length) + ")");
    }
    return Status::Ok();
  }

  // S3's InvalidPart: an adopted part must be on the store as AdoptPart described it.
  // REQUIRES: backend_.mu_ held.
  Status CheckAdopted(int part_number, const std::string& stored) const {
    auto it = adopted_.find(part_number);
    if (it == adopted_.end()) return Status::Ok();
    const StoredPart& claimed = it->second;
    if (claimed.size != stored.size() ||
        (!claimed.etag.empty() && claimed.etag != Md5Hex(checksum::AsBytes(stored)))) {
      return Status::InvalidArgument("cannot commit " + key_ + ": adopted part " +
                                     std::to_string(part_number) + " (" +
                                     std::to_string(claimed.size) + " bytes, ETag \"" +
                                     claimed.etag + "\") is not the one on the store");
    }
    return Status::Ok();
  }

  // The upload, or kNotFound when it was aborted from elsewhere. REQUIRES: backend_.mu_ held.
  Result<MemoryBackend::Upload*> FindLocked() {
    if (ended_) return Status::FailedPrecondition("upload " + upload_id_ + " already ended");
    auto it = backend_.uploads_.find(upload_id_);
    if (it == backend_.uploads_.end()) {
      return Status::NotFound("no upload " + upload_id_ + " of " + backend_.Describe() + key_);
    }
    return &it->second;
  }

  // REQUIRES: backend_.mu_ held.
  Status StorePartLocked(int part_number, std::string bytes) {
    FERRY_ASSIGN_OR_RETURN(MemoryBackend::Upload * upload, FindLocked());
    upload->parts[part_number] = std::move(bytes);  // written again: replaces the earlier one
    adopted_.erase(part_number);
    included_.insert(part_number);
    return Status::Ok();
  }

  // REQUIRES: backend_.mu_ held.
  void EndLocked() {
    ended_ = true;
    backend_.open_writers_ -= 1;
  }

  MemoryBackend& backend_;
  const std::string key_;
  const std::string upload_id_;
  const uint64_t size_;
  const uint64_t part_size_;
  const int parts_needed_;
  // All GUARDED_BY(backend_.mu_):
  std::set<int> included_;                    // parts written or adopted by this writer
  std::map<int, StoredPart> adopted_;         // as AdoptPart described them
  std::map<std::string, std::string> extra_;  // AddMetadataOnCommit
  bool ended_ = false;                        // committed, aborted or detached
};

Status MemoryBackend::CheckPartSize(uint64_t size, uint64_t part_size) const {
  const Features& f = options_.features;
  if (part_size == 0 || part_size > f.max_part_size) {
    return Status::InvalidArgument("part size " + std::to_string(part_size) + " outside 1.." +
                                   std::to_string(f.max_part_size));
  }
  const uint64_t parts = size == 0 ? 1 : (size - 1) / part_size + 1;
  if (parts > 1 && part_size < f.min_part_size) {
    return Status::InvalidArgument("part size " + std::to_string(part_size) +
                                   " is below the minimum of " + std::to_string(f.min_part_size));
  }
  if (parts > static_cast<uint64_t>(f.max_parts)) {
    return Status::InvalidArgument(std::to_string(parts) + " parts exceed the limit of " +
                                   std::to_string(f.max_parts));
  }
  return Status::Ok();
}

Result<std::unique_ptr<ChunkWriter>> MemoryBackend::OpenChunkWriter(std::string_view key,
                                                                    const WriteSpec& spec,
                                                                    uint64_t part_size,
                                                                    std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  if (spec.if_absent) return Status::NotSupported("create-only chunked writes");
  if (!options_.features.chunked_write) {
    return Status::NotSupported("chunked writes disabled on " + Describe());
  }
  FERRY_RETURN_IF_ERROR(CheckKey(key));
  if (spec.tags) FERRY_RETURN_IF_ERROR(CheckTags(*spec.tags));
  FERRY_RETURN_IF_ERROR(CheckPartSize(spec.size, part_size));
  FERRY_RETURN_IF_ERROR(CheckLock(spec));
  Upload upload;
  upload.key = std::string(key);
  upload.size = spec.size;
  upload.part_size = part_size;
  upload.details.storage_class = NormalizeStorageClass(spec.storage_class);
  upload.details.content = spec.content;
  upload.details.metadata = LowerCaseNames(spec.metadata);
  if (spec.tags) upload.details.tags = *spec.tags;
  upload.details.lock = spec.lock;
  upload.started = Now();
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kOpenChunkWriter, &Counts::writers_opened));
  open_writers_ += 1;
  std::string upload_id = "memory-upload-" + std::to_string(next_upload_++);
  uploads_.emplace(upload_id, std::move(upload));
  return std::unique_ptr<ChunkWriter>(std::make_unique<MemoryChunkWriter>(
      *this, std::string(key), std::move(upload_id), spec.size, part_size));
}

Result<std::unique_ptr<ChunkWriter>> MemoryBackend::ResumeChunkWriter(std::string_view key,
                                                                      std::string_view upload_id,
                                                                      const WriteSpec& spec,
                                                                      uint64_t part_size,
                                                                      std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  if (!options_.features.chunked_write) {
    return Status::NotSupported("chunked writes disabled on " + Describe());
  }
  FERRY_RETURN_IF_ERROR(CheckKey(key));
  FERRY_RETURN_IF_ERROR(CheckPartSize(spec.size, part_size));
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kResumeChunkWriter, &Counts::writers_resumed));
  auto it = uploads_.find(upload_id);
  if (it == uploads_.end() || it->second.key != key) {
    return Status::NotFound("no upload " + std::string(upload_id) + " of " + Describe() +
                            std::string(key));
  }
  const Upload& upload = it->second;
  if (upload.size != spec.size || upload.part_size != part_size) {
    std::string m = "upload " + std::string(upload_id) + " of " + Describe() + std::string(key) +
                    " was opened for " + std::to_string(upload.size) + " bytes in parts of " +
                    std::to_string(upload.part_size) + ": removed, it cannot be resumed";
    uploads_.erase(it);
    return Status::NotFound(std::move(m));
  }
  open_writers_ += 1;
  return std::unique_ptr<ChunkWriter>(std::make_unique<MemoryChunkWriter>(
      *this, std::string(key), std::string(upload_id), spec.size, part_size));
}

Result<std::vector<Backend::PendingUpload>> MemoryBackend::ListPendingUploads(
    std::string_view prefix, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("listing cancelled");
  std::vector<PendingUpload> pending;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, upload] : uploads_) {
      if (upload.key.starts_with(prefix)) pending.push_back({upload.key, id, upload.started});
    }
  }
  std::sort(pending.begin(), pending.end(), [](const PendingUpload& a, const PendingUpload& b) {
    return std::tie(a.key, a.started, a.upload_id) < std::tie(b.key, b.started, b.upload_id);
  });
  return pending;
}

Status MemoryBackend::AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("abort cancelled");
  std::lock_guard lock(mu_);
  auto it = uploads_.find(upload.upload_id);
  if (it == uploads_.end() || it->second.key != upload.key) return Status::Ok();
  uploads_.erase(it);
  counts_.aborts += 1;
  return Status::Ok();
}

}  // namespace ferry::storage
