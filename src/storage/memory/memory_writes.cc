// MemoryBackend: chunked writes (S3 multipart uploads in memory) and server-side copies.
#include <algorithm>
#include <map>
#include <mutex>

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
  MemoryChunkWriter(MemoryBackend& backend, std::string key, const WriteSpec& spec,
                    uint64_t part_size, std::string upload_id)
      : backend_(backend),
        key_(std::move(key)),
        size_(spec.size),
        part_size_(part_size),
        parts_needed_(spec.size == 0 ? 1 : static_cast<int>((spec.size - 1) / part_size + 1)),
        upload_id_(std::move(upload_id)) {
    object_.storage_class = NormalizeStorageClass(spec.storage_class);
    object_.content = spec.content;
    object_.metadata = LowerCaseNames(spec.metadata);
    if (spec.tags) object_.tags = *spec.tags;
  }

  ~MemoryChunkWriter() override { (void)Abort(); }

  const std::string& upload_id() const override { return upload_id_; }

  Status WriteChunk(int part_number, uint64_t offset, std::span<const std::byte> data,
                    std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("write cancelled");
    {
      std::lock_guard lock(backend_.mu_);
      FERRY_RETURN_IF_ERROR(backend_.BeginLocked(MemoryBackend::kWriteChunk, &Counts::parts));
    }
    FERRY_RETURN_IF_ERROR(CheckPart(part_number, offset, data.size()));
    FERRY_RETURN_IF_ERROR(StorePart(
        part_number, std::string(reinterpret_cast<const char*>(data.data()), data.size())));
    std::lock_guard lock(backend_.mu_);
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
    FERRY_ASSIGN_OR_RETURN(std::string bytes,
                           from.CopyOut(object.key, object.etag, offset, length));
    return StorePart(part_number, std::move(bytes));
  }

  void AddMetadataOnCommit(std::map<std::string, std::string> extra) override {
    std::lock_guard lock(mu_);
    for (auto& [name, value] : LowerCaseNames(extra)) object_.metadata[name] = std::move(value);
  }

  Result<std::string> Commit(std::stop_token stop) override {
    if (stop.stop_requested()) return Status::Cancelled("commit cancelled");
    std::lock_guard lock(mu_);
    if (finished_) return Status::FailedPrecondition("upload " + upload_id_ + " already ended");
    {
      std::lock_guard backend_lock(backend_.mu_);
      FERRY_RETURN_IF_ERROR(backend_.BeginLocked(MemoryBackend::kCommit, &Counts::commits));
    }
    std::string digests;  // binary MD5s of the parts, in order
    std::string data;
    data.reserve(size_);
    for (int n = 1; n <= parts_needed_; ++n) {
      auto it = parts_.find(n);
      if (it == parts_.end()) {
        return Status::InvalidArgument("cannot commit " + key_ + ": part " + std::to_string(n) +
                                       " of " + std::to_string(parts_needed_) + " was not written");
      }
      const checksum::Md5Digest digest = checksum::Md5(checksum::AsBytes(it->second));
      digests.append(reinterpret_cast<const char*>(digest.data()), digest.size());
      data += it->second;
    }
    object_.data = std::move(data);
    object_.etag = Md5Hex(checksum::AsBytes(digests)) + "-" + std::to_string(parts_needed_);
    std::string etag = object_.etag;
    parts_.clear();
    finished_ = true;
    std::lock_guard backend_lock(backend_.mu_);
    backend_.StoreLocked(key_, std::move(object_));
    backend_.open_writers_ -= 1;
    return etag;
  }

  Status Abort() override {
    std::lock_guard lock(mu_);
    if (finished_) return Status::Ok();
    finished_ = true;
    parts_.clear();
    std::lock_guard backend_lock(backend_.mu_);
    backend_.open_writers_ -= 1;
    backend_.counts_.aborts += 1;
    return Status::Ok();
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

  Status StorePart(int part_number, std::string bytes) {
    std::lock_guard lock(mu_);
    if (finished_) return Status::FailedPrecondition("upload " + upload_id_ + " already ended");
    parts_[part_number] = std::move(bytes);  // a part written again replaces the earlier one
    return Status::Ok();
  }

  MemoryBackend& backend_;
  const std::string key_;
  const uint64_t size_;
  const uint64_t part_size_;
  const int parts_needed_;
  const std::string upload_id_;
  std::mutex mu_;                       // taken before backend_.mu_ when both are held
  std::map<int, std::string> parts_;    // GUARDED_BY(mu_)
  MemoryBackend::StoredObject object_;  // GUARDED_BY(mu_): all but data, etag and mtime
  bool finished_ = false;               // GUARDED_BY(mu_)
};

Result<std::unique_ptr<ChunkWriter>> MemoryBackend::OpenChunkWriter(std::string_view key,
                                                                    const WriteSpec& spec,
                                                                    uint64_t part_size,
                                                                    std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  const Features& f = options_.features;
  if (!f.chunked_write) return Status::NotSupported("chunked writes disabled on " + Describe());
  FERRY_RETURN_IF_ERROR(CheckKey(key));
  if (spec.tags) FERRY_RETURN_IF_ERROR(CheckTags(*spec.tags));
  if (part_size == 0 || part_size > f.max_part_size) {
    return Status::InvalidArgument("part size " + std::to_string(part_size) + " outside 1.." +
                                   std::to_string(f.max_part_size));
  }
  const uint64_t parts = spec.size == 0 ? 1 : (spec.size - 1) / part_size + 1;
  if (parts > 1 && part_size < f.min_part_size) {
    return Status::InvalidArgument("part size " + std::to_string(part_size) +
                                   " is below the minimum of " + std::to_string(f.min_part_size));
  }
  if (parts > static_cast<uint64_t>(f.max_parts)) {
    return Status::InvalidArgument(std::to_string(parts) + " parts exceed the limit of " +
                                   std::to_string(f.max_parts));
  }
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kOpenChunkWriter, &Counts::writers_opened));
  open_writers_ += 1;
  std::string upload_id = "memory-upload-" + std::to_string(next_upload_++);
  return std::unique_ptr<ChunkWriter>(std::make_unique<MemoryChunkWriter>(
      *this, std::string(key), spec, part_size, std::move(upload_id)));
}

bool MemoryBackend::CanCopyFrom(const Backend& source) const {
  const auto* from = dynamic_cast<const MemoryBackend*>(&source);
  return from != nullptr && options_.features.server_side_copy &&
         from->options_.endpoint == options_.endpoint;
}

Result<std::string> MemoryBackend::CopyFrom(const Backend& source, const ObjectInfo& object,
                                            std::string_view key, std::string_view storage_class,
                                            std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("copy cancelled");
  {
    std::lock_guard lock(mu_);
    FERRY_RETURN_IF_ERROR(BeginLocked(kCopyFrom, &Counts::copies));
  }
  if (!CanCopyFrom(source)) {
    return Status::NotSupported("server-side copy from " + source.Describe() + " to " + Describe());
  }
  FERRY_RETURN_IF_ERROR(CheckKey(key));
  const auto& from = static_cast<const MemoryBackend&>(source);  // CanCopyFrom checked it
  StoredObject copy;
  {
    std::lock_guard lock(from.mu_);
    auto it = from.objects_.find(object.key);
    if (it == from.objects_.end()) {
      return Status::NotFound("no object " + from.Describe() + object.key);
    }
    if (!object.etag.empty() && object.etag != it->second.etag) {
      return Status::FailedPrecondition("object " + from.Describe() + object.key +
                                        " changed: ETag " + it->second.etag + ", expected " +
                                        object.etag);
    }
    copy = it->second;
  }
  if (copy.data.size() > options_.features.max_single_put) {
    return Status::InvalidArgument("server-side copy of " + std::to_string(copy.data.size()) +
                                   " bytes exceeds the single-request limit of " +
                                   std::to_string(options_.features.max_single_put));
  }
  copy.etag = Md5Hex(checksum::AsBytes(copy.data));
  if (!storage_class.empty()) copy.storage_class = NormalizeStorageClass(storage_class);
  std::string etag = copy.etag;
  std::lock_guard lock(mu_);
  StoreLocked(key, std::move(copy));
  return etag;
}

}  // namespace ferry::storage
