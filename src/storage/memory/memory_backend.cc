// MemoryBackend: reads, single writes, deletes, tags, listings and the test hooks. Chunked
// writes and server-side copies are in memory_writes.cc.
#include "storage/memory/memory_backend.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "checksum/checksum.h"
#include "storage/memory/memory_internal.h"

namespace ferry::storage {

namespace memory_internal {

Status CheckKey(std::string_view key) {
  if (key.empty()) return Status::InvalidArgument("empty key");
  if (key.size() > 1024) {
    return Status::InvalidArgument("key of " + std::to_string(key.size()) +
                                   " bytes; the limit is 1024");
  }
  return Status::Ok();
}

Status CheckTags(const Tags& tags) {
  if (tags.size() > 10) {
    return Status::InvalidArgument(std::to_string(tags.size()) + " tags; the limit is 10");
  }
  return Status::Ok();
}

std::string NormalizeStorageClass(std::string_view storage_class) {
  return storage_class == "STANDARD" ? std::string() : std::string(storage_class);
}

std::map<std::string, std::string> LowerCaseNames(const std::map<std::string, std::string>& m) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : m) {
    std::string lower = name;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[std::move(lower)] = value;
  }
  return out;
}

std::string Md5Hex(std::span<const std::byte> data) {
  const checksum::Md5Digest digest = checksum::Md5(data);
  return checksum::Hex(digest);
}

}  // namespace memory_internal

using memory_internal::CheckKey;
using memory_internal::CheckTags;
using memory_internal::LowerCaseNames;
using memory_internal::Md5Hex;
using memory_internal::NormalizeStorageClass;

Features MemoryBackendDefaultFeatures() {
  Features f;
  f.chunked_write = true;
  f.server_side_copy = true;
  f.tags = true;
  f.storage_class = true;
  f.metadata = true;
  f.cheap_reads = false;
  f.max_parts = 10000;
  f.min_part_size = 5ull << 20;
  f.max_part_size = 5ull << 30;
  f.max_single_put = 5ull << 30;
  f.verifies_content_md5 = true;  // as S3's Content-MD5
  f.put_if_absent = true;         // as RGW's If-None-Match: *
  return f;
}

class MemoryListingCursor : public ListingCursor {
 public:
  MemoryListingCursor(const MemoryBackend& backend, std::string_view prefix,
                      std::string_view start_after)
      : backend_(backend), prefix_(prefix), start_after_(start_after) {}

  Result<const ObjectInfo*> Next() override {
    std::lock_guard lock(backend_.mu_);
    auto it = started_                  ? backend_.objects_.upper_bound(current_.key)
              : start_after_ < prefix_ ? backend_.objects_.lower_bound(prefix_)
                                        : backend_.objects_.upper_bound(start_after_);
    started_ = true;
    if (it == backend_.objects_.end() || !it->first.starts_with(prefix_)) {
      return static_cast<const ObjectInfo*>(nullptr);
    }
    current_ = backend_.InfoLocked(it->first, it->second, /*details=*/false);
    return &current_;
  }

 private:
  const MemoryBackend& backend_;
  const std::string prefix_;
  const std::string start_after_;
  bool started_ = false;
  ObjectInfo current_;
};

MemoryBackend::MemoryBackend() : MemoryBackend(Options()) {}

namespace {

MemoryBackend::Options WithVersionsFeature(MemoryBackend::Options options) {
  options.features.versions = options.versioned;
  return options;
}

}  // namespace

MemoryBackend::MemoryBackend(Options options) : options_(WithVersionsFeature(std::move(options))) {}

MemoryBackend::~MemoryBackend() = default;

std::string MemoryBackend::Describe() const { return "memory://" + options_.name + "/"; }

Status MemoryBackend::Check(std::stop_token stop) {
  (void)stop;
  return Status::Ok();
}

Result<std::unique_ptr<ListingCursor>> MemoryBackend::List(std::string_view prefix) {
  return ListFrom(prefix, {});
}

Result<std::unique_ptr<ListingCursor>> MemoryBackend::ListFrom(std::string_view prefix,
                                                               std::string_view start_after) {
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kList, &Counts::lists));
  return std::unique_ptr<ListingCursor>(
      std::make_unique<MemoryListingCursor>(*this, prefix, start_after));
}

Result<ObjectInfo> MemoryBackend::Stat(std::string_view key, bool with_tags, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("stat cancelled");
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kStat, &Counts::stats));
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("no object " + Describe() + std::string(key));
  ObjectInfo info = InfoLocked(it->first, it->second, /*details=*/true);
  if (with_tags) info.tags = it->second.tags;
  return info;
}

Status MemoryBackend::ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                             std::string_view etag, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("read cancelled");
  {
    std::lock_guard lock(mu_);
    FERRY_RETURN_IF_ERROR(BeginLocked(kRead, &Counts::reads));
  }
  FERRY_ASSIGN_OR_RETURN(std::string bytes, CopyOut(key, etag, offset, out.size()));
  if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  std::lock_guard lock(mu_);
  counts_.bytes_read += bytes.size();
  return Status::Ok();
}

Result<ObjectInfo> MemoryBackend::ReadObject(std::string_view key, std::span<std::byte> out,
                                             std::string_view etag, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("read cancelled");
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kRead, &Counts::reads));
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("no object " + Describe() + std::string(key));
  const StoredObject& object = it->second;
  if (!etag.empty() && etag != object.etag) {
    return Status::FailedPrecondition("object " + Describe() + std::string(key) +
                                      " changed: ETag " + object.etag + ", expected " +
                                      std::string(etag));
  }
  if (object.data.size() != out.size()) {
    return Status::DataLoss("object " + Describe() + std::string(key) + " has " +
                            std::to_string(object.data.size()) + " bytes, expected " +
                            std::to_string(out.size()));
  }
  if (!out.empty()) std::memcpy(out.data(), object.data.data(), out.size());
  counts_.bytes_read += out.size();
  ObjectInfo info = InfoLocked(it->first, object, /*details=*/true);
  if (!object.tags.empty()) info.tags = object.tags;
  return info;
}

Result<WriteResult> MemoryBackend::Put(std::string_view key, std::span<const std::byte> data,
                                       const WriteSpec& spec, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("write cancelled");
  FERRY_RETURN_IF_ERROR(CheckKey(key));
  if (spec.tags) FERRY_RETURN_IF_ERROR(CheckTags(*spec.tags));
  FERRY_RETURN_IF_ERROR(CheckLock(spec));
  if (spec.if_absent && !options_.features.put_if_absent) {
    return Status::NotSupported("create-only writes disabled on " + Describe());
  }
  if (data.size() > options_.features.max_single_put) {
    return Status::InvalidArgument("single write of " + std::to_string(data.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(options_.features.max_single_put));
  }
  StoredObject object;
  object.data.assign(reinterpret_cast<const char*>(data.data()), data.size());
  object.etag = Md5Hex(data);
  if (options_.features.verifies_content_md5 && !spec.content_md5.empty() &&
      spec.content_md5 != checksum::Base64(checksum::Md5(data))) {
    return Status::DataLoss("BadDigest: the body does not match its Content-MD5 (memory)");
  }
  object.storage_class = NormalizeStorageClass(spec.storage_class);
  object.content = spec.content;
  object.metadata = LowerCaseNames(spec.metadata);
  if (spec.tags) object.tags = *spec.tags;
  object.lock = spec.lock;
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kPut, &Counts::puts));
  // Checked and stored under one lock: of concurrent creators exactly one stores.
  if (spec.if_absent && objects_.find(key) != objects_.end()) {
    return Status::AlreadyExists("object exists (create-only write): " + std::string(key));
  }
  counts_.bytes_written += data.size();
  return StoreLocked(key, std::move(object));
}

Status MemoryBackend::Delete(std::string_view key, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("delete cancelled");
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kDelete, &Counts::deletes));
  if (options_.versioned) {
    (void)AddDeleteMarkerLocked(key);
  } else if (auto it = objects_.find(key); it != objects_.end()) {
    objects_.erase(it);
  }
  return Status::Ok();
}

Status MemoryBackend::PutTags(std::string_view key, const Tags& tags, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("tagging cancelled");
  FERRY_RETURN_IF_ERROR(CheckTags(tags));
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kPutTags, &Counts::tag_puts));
  auto it = objects_.find(key);
  if (it == objects_.end()) return Status::NotFound("no object " + Describe() + std::string(key));
  it->second.tags = tags;
  if (auto v = versions_.find(key); v != versions_.end()) v->second.back().object.tags = tags;
  return Status::Ok();
}

Status MemoryBackend::PutVersionTags(std::string_view key, std::string_view version_id,
                                     const Tags& tags, std::stop_token stop) {
  if (version_id.empty() || version_id == "null" || !options_.versioned) {
    return PutTags(key, tags, stop);
  }
  if (stop.stop_requested()) return Status::Cancelled("tagging cancelled");
  FERRY_RETURN_IF_ERROR(CheckTags(tags));
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kPutTags, &Counts::tag_puts));
  auto it = versions_.find(key);
  if (it != versions_.end()) {
    for (StoredVersion& v : it->second) {
      if (v.id != version_id || v.delete_marker) continue;
      v.object.tags = tags;
      if (&v == &it->second.back()) {
        if (auto cur = objects_.find(key); cur != objects_.end()) cur->second.tags = tags;
      }
      return Status::Ok();
    }
  }
  return Status::NotFound("no version " + std::string(version_id) + " of " + Describe() +
                          std::string(key));
}

void MemoryBackend::FailNext(unsigned ops, int n, Status status) {
  FERRY_CHECK(!status.ok());
  std::lock_guard lock(mu_);
  if (n > 0) faults_.push_back({ops, n, std::move(status)});
}

MemoryBackend::Counts MemoryBackend::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

void MemoryBackend::ResetCounts() {
  std::lock_guard lock(mu_);
  counts_ = Counts();
}

int MemoryBackend::open_writers() const {
  std::lock_guard lock(mu_);
  return open_writers_;
}

std::optional<std::string> MemoryBackend::Contents(std::string_view key) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second.data;
}

std::vector<std::string> MemoryBackend::Keys() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  keys.reserve(objects_.size());
  for (const auto& entry : objects_) keys.push_back(entry.first);
  return keys;
}

Status MemoryBackend::BeginLocked(Op op, int Counts::*counter) {
  counts_.*counter += 1;
  for (auto it = faults_.begin(); it != faults_.end(); ++it) {
    if ((it->ops & op) == 0) continue;
    Status s = it->status;
    if (--it->remaining == 0) faults_.erase(it);
    return s;
  }
  return Status::Ok();
}

WriteResult MemoryBackend::StoreLocked(std::string_view key, StoredObject object) {
  object.mtime = Now();
  object.version_id.clear();  // a copy carries its source's
  WriteResult result{object.etag, ""};
  if (options_.versioned) {
    result.version_id = "m" + std::to_string(next_version_++);
    object.version_id = result.version_id;
    auto [v, inserted] = versions_.try_emplace(std::string(key));
    v->second.push_back(StoredVersion{result.version_id, false, object});
  }
  auto it = objects_.find(key);
  if (it == objects_.end()) {
    objects_.emplace(std::string(key), std::move(object));
  } else {
    it->second = std::move(object);
  }
  return result;
}

Result<std::string> MemoryBackend::CopyOut(std::string_view key, std::string_view etag,
                                           uint64_t offset, uint64_t length,
                                           std::string_view version_id) const {
  std::lock_guard lock(mu_);
  const StoredObject* found = nullptr;
  if (version_id.empty()) {
    auto it = objects_.find(key);
    if (it == objects_.end()) return Status::NotFound("no object " + Describe() + std::string(key));
    found = &it->second;
  } else {
    FERRY_ASSIGN_OR_RETURN(found, FindVersionLocked(key, version_id));
  }
  const StoredObject& object = *found;
  if (!etag.empty() && etag != object.etag) {
    return Status::FailedPrecondition("object " + Describe() + std::string(key) +
                                      " changed: ETag " + object.etag + ", expected " +
                                      std::string(etag));
  }
  const uint64_t size = object.data.size();
  if (offset > size || length > size - offset) {
    return Status::DataLoss("short read of " + Describe() + std::string(key) + ": wanted " +
                            std::to_string(length) + " bytes at offset " + std::to_string(offset) +
                            ", the object has " + std::to_string(size));
  }
  return object.data.substr(offset, length);
}

ObjectInfo MemoryBackend::InfoLocked(const std::string& key, const StoredObject& object,
                                     bool details) const {
  ObjectInfo info;
  info.key = key;
  info.size = object.data.size();
  info.etag = object.etag;
  info.mtime = object.mtime;
  info.storage_class = object.storage_class;
  info.has_details = details;
  if (details) {  // as S3's HEAD and GET, which report the version; its listings do not
    info.version_id = object.version_id;
    info.content = object.content;
    info.metadata = object.metadata;
    info.lock = object.lock;
  }
  return info;
}

Result<std::chrono::system_clock::time_point> MemoryBackend::ServerTime(std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("cancelled");
  return Now();
}

Result<bool> MemoryBackend::HasObjectLock(std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("cancelled");
  return options_.object_lock;
}

Status MemoryBackend::CheckLock(const WriteSpec& spec) const {
  if (!spec.lock.any() || options_.object_lock) return Status::Ok();
  return Status::InvalidArgument("InvalidRequest: " + Describe() +
                                 " has no object lock (a write with a retention or legal hold)");
}

std::chrono::system_clock::time_point MemoryBackend::Now() const {
  return ClockOr(options_.clock).Now();
}

}  // namespace ferry::storage
