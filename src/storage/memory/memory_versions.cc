// MemoryBackend: versions (listing, version-addressed stat, read and delete, delete markers).
// objects_ always holds each key's current version; versions_ (versioned backends only) holds
// every key's history, oldest first, and the two are updated together.
#include <cstring>

#include "storage/memory/memory_backend.h"
#include "storage/memory/memory_internal.h"

namespace ferry::storage {

namespace {

// An unversioned store's only version of each object, as S3 names it.
constexpr std::string_view kNullVersion = "null";

}  // namespace

class MemoryVersionCursor : public ListingCursor {
 public:
  MemoryVersionCursor(const MemoryBackend& backend, std::string_view prefix,
                      std::string_view key_marker, std::string_view version_marker)
      : backend_(backend),
        prefix_(prefix),
        key_marker_(key_marker),
        version_marker_(version_marker) {}

  Result<const ObjectInfo*> Next() override {
    while (index_ >= batch_.size()) {
      if (done_) return static_cast<const ObjectInfo*>(nullptr);
      std::lock_guard lock(backend_.mu_);
      FillLocked();
    }
    return static_cast<const ObjectInfo*>(&batch_[index_++]);
  }

 private:
  // Reads the versions of the next key into batch_ (may leave it empty), or sets done_.
  // REQUIRES: backend_.mu_ held.
  void FillLocked() {
    batch_.clear();
    index_ = 0;
    if (!started_) {
      started_ = true;
      if (!key_marker_.empty() && !version_marker_.empty()) {
        // Resume inside key_marker_, after version_marker_ (nothing if it is gone).
        last_key_ = key_marker_;
        std::vector<ObjectInfo> all = EntriesLocked(key_marker_);
        for (size_t i = 0; i < all.size(); ++i) {
          if (all[i].version_id != version_marker_) continue;
          batch_.assign(all.begin() + static_cast<std::ptrdiff_t>(i) + 1, all.end());
          break;
        }
        if (!key_marker_.starts_with(prefix_)) batch_.clear();
        return;
      }
      last_key_ = key_marker_;
    }
    std::optional<std::string> key = NextKeyLocked();
    if (!key) {
      done_ = true;
      return;
    }
    last_key_ = *key;
    batch_ = EntriesLocked(*key);
  }

  // The first key under prefix_ after last_key_ (or from prefix_ when last_key_ is before it).
  // REQUIRES: backend_.mu_ held.
  std::optional<std::string> NextKeyLocked() const {
    auto next = [&](const auto& map) -> std::optional<std::string> {
      auto it = last_key_ < prefix_ ? map.lower_bound(prefix_) : map.upper_bound(last_key_);
      if (it == map.end() || !it->first.starts_with(prefix_)) return std::nullopt;
      return it->first;
    };
    return backend_.options_.versioned ? next(backend_.versions_) : next(backend_.objects_);
  }

  // The versions of `key`, newest first. REQUIRES: backend_.mu_ held.
  std::vector<ObjectInfo> EntriesLocked(const std::string& key) const {
    std::vector<ObjectInfo> out;
    if (!backend_.options_.versioned) {
      auto it = backend_.objects_.find(key);
      if (it == backend_.objects_.end()) return out;
      ObjectInfo info = backend_.InfoLocked(key, it->second, /*details=*/false);
      info.version_id = kNullVersion;
      info.is_latest = true;
      out.push_back(std::move(info));
      return out;
    }
    auto it = backend_.versions_.find(key);
    if (it == backend_.versions_.end()) return out;
    const auto& history = it->second;
    for (auto v = history.rbegin(); v != history.rend(); ++v) {
      ObjectInfo info;
      if (v->delete_marker) {
        info.key = key;
        info.mtime = v->object.mtime;
        info.delete_marker = true;
      } else {
        info = backend_.InfoLocked(key, v->object, /*details=*/false);
      }
      info.version_id = v->id;
      info.is_latest = v == history.rbegin();
      out.push_back(std::move(info));
    }
    return out;
  }

  const MemoryBackend& backend_;
  const std::string prefix_;
  const std::string key_marker_;
  const std::string version_marker_;
  bool started_ = false;
  bool done_ = false;
  std::string last_key_;
  std::vector<ObjectInfo> batch_;
  size_t index_ = 0;
};

Result<std::unique_ptr<ListingCursor>> MemoryBackend::ListVersions(
    std::string_view prefix, std::string_view key_marker, std::string_view version_marker) {
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kList, &Counts::lists));
  return std::unique_ptr<ListingCursor>(
      std::make_unique<MemoryVersionCursor>(*this, prefix, key_marker, version_marker));
}

Result<const MemoryBackend::StoredObject*> MemoryBackend::FindVersionLocked(
    std::string_view key, std::string_view version_id) const {
  auto absent = [&] {
    return Status::NotFound("no version " + std::string(version_id) + " of " + Describe() +
                            std::string(key));
  };
  if (!options_.versioned) {
    if (!version_id.empty() && version_id != kNullVersion) return absent();
    auto it = objects_.find(key);
    if (it == objects_.end()) return absent();
    return &it->second;
  }
  auto it = versions_.find(key);
  if (it == versions_.end()) return absent();
  for (const StoredVersion& v : it->second) {
    if (v.id != version_id) continue;
    if (v.delete_marker) {
      return Status::NotFound("version " + v.id + " of " + Describe() + std::string(key) +
                              " is a delete marker");
    }
    return &v.object;
  }
  return absent();
}

Result<ObjectInfo> MemoryBackend::StatVersion(std::string_view key, std::string_view version_id,
                                              bool with_tags, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("stat cancelled");
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kStat, &Counts::stats));
  FERRY_ASSIGN_OR_RETURN(const StoredObject* object, FindVersionLocked(key, version_id));
  ObjectInfo info = InfoLocked(std::string(key), *object, /*details=*/true);
  info.version_id = version_id;
  if (with_tags) info.tags = object->tags;
  return info;
}

Status MemoryBackend::ReadVersionAt(std::string_view key, std::string_view version_id,
                                    uint64_t offset, std::span<std::byte> out,
                                    std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("read cancelled");
  {
    std::lock_guard lock(mu_);
    FERRY_RETURN_IF_ERROR(BeginLocked(kRead, &Counts::reads));
  }
  if (version_id.empty()) return Status::InvalidArgument("empty version id");
  FERRY_ASSIGN_OR_RETURN(std::string bytes, CopyOut(key, {}, offset, out.size(), version_id));
  if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  std::lock_guard lock(mu_);
  counts_.bytes_read += bytes.size();
  return Status::Ok();
}

Result<ObjectInfo> MemoryBackend::ReadVersionWithDetails(std::string_view key,
                                                        std::string_view version_id,
                                                        uint64_t offset, std::span<std::byte> out,
                                                        bool with_tags, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("read cancelled");
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kRead, &Counts::reads));
  if (version_id.empty()) return Status::InvalidArgument("empty version id");
  FERRY_ASSIGN_OR_RETURN(const StoredObject* object, FindVersionLocked(key, version_id));
  if (offset > object->data.size() || out.size() > object->data.size() - offset) {
    return Status::DataLoss("read past the end of version " + std::string(version_id) + " of " +
                            Describe() + std::string(key));
  }
  if (!out.empty()) std::memcpy(out.data(), object->data.data() + offset, out.size());
  counts_.bytes_read += out.size();
  ObjectInfo info = InfoLocked(std::string(key), *object, /*details=*/true);
  info.version_id = version_id;
  if (with_tags) info.tags = object->tags;
  return info;
}

Status MemoryBackend::DeleteVersion(std::string_view key, std::string_view version_id,
                                    std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("delete cancelled");
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kDelete, &Counts::deletes));
  if (version_id.empty()) return Status::InvalidArgument("empty version id");
  if (!options_.versioned) {
    if (version_id == kNullVersion) {
      if (auto it = objects_.find(key); it != objects_.end()) objects_.erase(it);
    }
    return Status::Ok();
  }
  auto it = versions_.find(key);
  if (it == versions_.end()) return Status::Ok();
  std::vector<StoredVersion>& history = it->second;
  for (auto v = history.begin(); v != history.end(); ++v) {
    if (v->id != version_id) continue;
    const bool was_current = std::next(v) == history.end();
    history.erase(v);
    if (was_current) {
      // The next newest entry becomes current: an object again unless it is a marker.
      auto current = objects_.find(key);
      if (history.empty() || history.back().delete_marker) {
        if (current != objects_.end()) objects_.erase(current);
      } else if (current != objects_.end()) {
        current->second = history.back().object;
      } else {
        objects_.emplace(std::string(key), history.back().object);
      }
    }
    if (history.empty()) versions_.erase(it);
    return Status::Ok();
  }
  return Status::Ok();
}

std::string MemoryBackend::AddDeleteMarkerLocked(std::string_view key) {
  StoredVersion marker;
  marker.id = "m" + std::to_string(next_version_++);
  marker.delete_marker = true;
  marker.object.mtime = Now();
  auto [v, inserted] = versions_.try_emplace(std::string(key));
  v->second.push_back(marker);
  if (auto it = objects_.find(key); it != objects_.end()) objects_.erase(it);
  return marker.id;
}

Result<WriteResult> MemoryBackend::AddDeleteMarker(std::string_view key, std::stop_token stop) {
  if (stop.stop_requested()) return Status::Cancelled("delete cancelled");
  if (!options_.versioned) return Backend::AddDeleteMarker(key, stop);
  FERRY_RETURN_IF_ERROR(memory_internal::CheckKey(key));
  std::lock_guard lock(mu_);
  FERRY_RETURN_IF_ERROR(BeginLocked(kDelete, &Counts::deletes));
  return WriteResult{"", AddDeleteMarkerLocked(key)};
}

}  // namespace ferry::storage
