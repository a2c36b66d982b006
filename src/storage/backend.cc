#include "storage/backend.h"

#include <string>

namespace ferry::storage {

Status Backend::DeleteMany(std::span<const std::string> keys, std::stop_token stop) {
  for (const std::string& key : keys) {
    if (stop.stop_requested()) return Status::Cancelled("delete cancelled");
    if (Status s = Delete(key, stop); !s.ok()) return s.WithContext("delete " + key);
  }
  return Status::Ok();
}

Result<ObjectInfo> Backend::ReadObject(std::string_view key, std::span<std::byte> out,
                                       std::string_view etag, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(ObjectInfo info, Stat(key, features().tags, stop));
  if (!etag.empty() && !info.etag.empty() && info.etag != etag) {
    return Status::FailedPrecondition("object " + Describe() + std::string(key) +
                                      " changed: ETag " + info.etag + ", expected " +
                                      std::string(etag));
  }
  if (info.size != out.size()) {
    return Status::DataLoss("object " + Describe() + std::string(key) + " changed size: it has " +
                            std::to_string(info.size) + " bytes, expected " +
                            std::to_string(out.size()));
  }
  // Reading against the ETag just seen catches a change between Stat and the read.
  FERRY_RETURN_IF_ERROR(ReadAt(key, 0, out, info.etag.empty() ? etag : info.etag, stop));
  if (info.tags && info.tags->empty()) info.tags.reset();  // "fetched when it has any"
  return info;
}

}  // namespace ferry::storage

namespace ferry::storage {
namespace {

// Skips the keys of `inner` up to and including `start_after`.
class SkippingCursor : public ListingCursor {
 public:
  SkippingCursor(std::unique_ptr<ListingCursor> inner, std::string start_after)
      : inner_(std::move(inner)), start_after_(std::move(start_after)) {}
  Result<const ObjectInfo*> Next() override {
    for (;;) {
      FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, inner_->Next());
      if (o == nullptr || o->key > start_after_) return o;
    }
  }

 private:
  std::unique_ptr<ListingCursor> inner_;
  std::string start_after_;
};

}  // namespace

Result<std::unique_ptr<ListingCursor>> Backend::ListFrom(std::string_view prefix,
                                                         std::string_view start_after) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, List(prefix));
  if (start_after.empty()) return cursor;
  return std::unique_ptr<ListingCursor>(
      std::make_unique<SkippingCursor>(std::move(cursor), std::string(start_after)));
}

Result<std::optional<std::string>> Backend::FirstKeyAfter(std::string_view start_after) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, ListFrom("", start_after));
  if (!features().sorted_listing) return SmallestKey(*cursor);
  FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, cursor->Next());
  if (o == nullptr) return std::optional<std::string>();
  return std::optional<std::string>(o->key);
}

Result<std::optional<std::string>> SmallestKey(ListingCursor& cursor) {
  std::optional<std::string> smallest;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, cursor.Next());
    if (o == nullptr) return smallest;
    if (!smallest || o->key < *smallest) smallest = o->key;
  }
}

}  // namespace ferry::storage

namespace ferry::storage {

Result<std::unique_ptr<ListingCursor>> Backend::ListVersions(std::string_view prefix,
                                                             std::string_view key_marker,
                                                             std::string_view version_marker) {
  (void)prefix, (void)key_marker, (void)version_marker;
  return Status::NotSupported("version listings not supported by " + Describe());
}

Result<ObjectInfo> Backend::StatVersion(std::string_view key, std::string_view version_id,
                                        bool with_tags, std::stop_token stop) {
  (void)key, (void)version_id, (void)with_tags, (void)stop;
  return Status::NotSupported("versions not supported by " + Describe());
}

Status Backend::ReadVersionAt(std::string_view key, std::string_view version_id, uint64_t offset,
                              std::span<std::byte> out, std::stop_token stop) {
  (void)key, (void)version_id, (void)offset, (void)out, (void)stop;
  return Status::NotSupported("versions not supported by " + Describe());
}

Result<ObjectInfo> Backend::ReadVersionWithDetails(std::string_view key,
                                                  std::string_view version_id, uint64_t offset,
                                                  std::span<std::byte> out, bool with_tags,
                                                  std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(ObjectInfo info, StatVersion(key, version_id, with_tags, stop));
  FERRY_RETURN_IF_ERROR(ReadVersionAt(key, version_id, offset, out, stop));
  return info;
}

Status Backend::DeleteVersion(std::string_view key, std::string_view version_id,
                              std::stop_token stop) {
  (void)key, (void)version_id, (void)stop;
  return Status::NotSupported("versions not supported by " + Describe());
}

Result<WriteResult> Backend::AddDeleteMarker(std::string_view key, std::stop_token stop) {
  (void)key, (void)stop;
  return Status::FailedPrecondition("cannot add a delete marker: " + Describe() +
                                    " keeps no versions");
}

}  // namespace ferry::storage
