// MemoryBackend: server-side copies between MemoryBackends of one endpoint.
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "storage/memory/memory_internal.h"

namespace ferry::storage {

using memory_internal::CheckKey;
using memory_internal::Md5Hex;
using memory_internal::NormalizeStorageClass;

bool MemoryBackend::CanCopyFrom(const Backend& source) const {
  const auto* from = dynamic_cast<const MemoryBackend*>(&source);
  return from != nullptr && options_.features.server_side_copy &&
         from->options_.endpoint == options_.endpoint;
}

Result<WriteResult> MemoryBackend::CopyFrom(const Backend& source, const ObjectInfo& object,
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
    const StoredObject* found = nullptr;
    if (object.version_id.empty()) {
      auto it = from.objects_.find(object.key);
      if (it == from.objects_.end()) {
        return Status::NotFound("no object " + from.Describe() + object.key);
      }
      found = &it->second;
    } else {
      FERRY_ASSIGN_OR_RETURN(found, from.FindVersionLocked(object.key, object.version_id));
    }
    if (!object.etag.empty() && object.etag != found->etag) {
      return Status::FailedPrecondition("object " + from.Describe() + object.key +
                                        " changed: ETag " + found->etag + ", expected " +
                                        object.etag);
    }
    copy = *found;
  }
  if (copy.data.size() > options_.features.max_single_put) {
    return Status::InvalidArgument("server-side copy of " + std::to_string(copy.data.size()) +
                                   " bytes exceeds the single-request limit of " +
                                   std::to_string(options_.features.max_single_put));
  }
  copy.etag = Md5Hex(checksum::AsBytes(copy.data));
  copy.lock = {};  // S3's CopyObject does not copy retention or legal hold
  if (!storage_class.empty()) copy.storage_class = NormalizeStorageClass(storage_class);
  std::lock_guard lock(mu_);
  return StoreLocked(key, std::move(copy));
}

}  // namespace ferry::storage
