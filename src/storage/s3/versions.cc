// S3Backend: versions. ListVersions is a cursor over ListObjectVersions pages (one page held
// at a time, keys relative to the location's prefix); the version calls are HEAD, GET and
// DELETE with versionId.
#include "storage/s3/s3_backend.h"

namespace ferry::storage {
namespace {

class S3VersionCursor : public ListingCursor {
 public:
  // `request`: the whole listing (bucket, the full prefix and key-marker, version-id-marker,
  // page size, keys with `root` in front); `root` is taken off the keys listed.
  S3VersionCursor(s3::S3Client& client, std::string root, s3::ListVersionsRequest request)
      : client_(client), root_(std::move(root)), request_(std::move(request)) {
    // RGW 16 lists the key-marker's own versions when no version-id-marker is given.
    if (!request_.key_marker.empty() && request_.version_id_marker.empty()) {
      skip_through_ = request_.key_marker;
    }
  }

  Result<const ObjectInfo*> Next() override {
    for (;;) {
      while (index_ >= page_.versions.size()) {
        if (done_) return static_cast<const ObjectInfo*>(nullptr);
        FERRY_ASSIGN_OR_RETURN(page_, client_.ListObjectVersions(request_));
        index_ = 0;
        FERRY_RETURN_IF_ERROR(Advance());
      }
      const s3::VersionEntry& e = page_.versions[index_++];
      if (!skip_through_.empty() && e.key <= skip_through_) continue;
      skip_through_.clear();
      if (!last_key_.empty() && e.key < last_key_) {
        return Status::Internal("version listing of s3://" + request_.bucket + "/" +
                                request_.prefix + " is not in ascending key order (\"" + e.key +
                                "\" after \"" + last_key_ + "\")");
      }
      last_key_ = e.key;
      current_ = ObjectInfo{};
      current_.key = e.key.substr(std::min(root_.size(), e.key.size()));
      current_.version_id = e.version_id;
      current_.is_latest = e.is_latest;
      current_.delete_marker = e.delete_marker;
      current_.size = e.size;
      current_.etag = e.etag;
      current_.mtime = e.last_modified;
      current_.storage_class = e.storage_class == "STANDARD" ? "" : e.storage_class;
      // An archived class: not readable before a restore (its state needs a HEAD).
      current_.archive.archived = IsArchiveClass(e.storage_class);
      return static_cast<const ObjectInfo*>(&current_);
    }
  }

 private:
  // Sets the markers of the next request from the page just fetched, or done_.
  Status Advance() {
    if (!page_.truncated) {
      done_ = true;
      return Status::Ok();
    }
    std::string key = page_.next_key_marker;
    std::string version = page_.next_version_id_marker;
    if (key.empty() && !page_.versions.empty()) {  // a server that sends no Next*Marker
      key = page_.versions.back().key;
      version = page_.versions.back().version_id;
    }
    if (key.empty() || (key == request_.key_marker && version == request_.version_id_marker)) {
      return Status::Internal("version listing of s3://" + request_.bucket + "/" + request_.prefix +
                              " is truncated but does not advance past \"" + key + "\" version \"" +
                              version + "\"");
    }
    request_.key_marker = std::move(key);
    request_.version_id_marker = std::move(version);
    return Status::Ok();
  }

  s3::S3Client& client_;
  const std::string root_;
  s3::ListVersionsRequest request_;
  s3::VersionPage page_;
  size_t index_ = 0;
  bool done_ = false;
  std::string last_key_;      // full key of the last entry yielded
  std::string skip_through_;  // full key: entries up to it are dropped (see the constructor)
  ObjectInfo current_;
};

}  // namespace

Result<std::unique_ptr<ListingCursor>> S3Backend::ListVersions(std::string_view prefix,
                                                               std::string_view key_marker,
                                                               std::string_view version_marker) {
  if (directory_) return Backend::ListVersions(prefix, key_marker, version_marker);
  s3::ListVersionsRequest request;
  request.bucket = bucket_;
  request.prefix = prefix_ + std::string(prefix);
  if (!key_marker.empty()) {
    request.key_marker = prefix_ + std::string(key_marker);
    request.version_id_marker = version_marker;
  }
  request.max_keys = list_page_size_;
  return std::unique_ptr<ListingCursor>(
      std::make_unique<S3VersionCursor>(client_, prefix_, std::move(request)));
}

Result<ObjectInfo> S3Backend::StatVersion(std::string_view key, std::string_view version_id,
                                          bool with_tags, std::stop_token stop) {
  if (version_id.empty()) return Status::InvalidArgument("empty version id");
  const std::string full = FullKey(key);
  FERRY_ASSIGN_OR_RETURN(s3::ObjectHead head, client_.HeadObject(bucket_, full, version_id, stop,
                                                                  encryption_.read_key));
  ObjectInfo info = ObjectInfoFromHead(std::string(key), head);
  if (info.version_id.empty()) info.version_id = version_id;
  if (with_tags && head.tag_count > 0) {
    FERRY_ASSIGN_OR_RETURN(info.tags, client_.GetObjectTagging(bucket_, full, version_id, stop));
  }
  return info;
}

Status S3Backend::ReadVersionAt(std::string_view key, std::string_view version_id, uint64_t offset,
                                std::span<std::byte> out, std::stop_token stop) {
  if (version_id.empty()) return Status::InvalidArgument("empty version id");
  if (out.empty()) return Status::Ok();
  http::SpanSink sink(out);
  const s3::GetObjectRequest request{
      bucket_, FullKey(key), {offset, out.size()}, "", std::string(version_id),
      encryption_.read_key};
  FERRY_ASSIGN_OR_RETURN(s3::ObjectHead head, client_.GetObject(request, sink, stop));
  (void)head;
  if (sink.written() != out.size()) {
    return Status::DataLoss("short read of " + Describe() + std::string(key) + " version " +
                            std::string(version_id) + ": got " + std::to_string(sink.written()) +
                            " of " + std::to_string(out.size()) + " bytes");
  }
  return Status::Ok();
}

Result<ObjectInfo> S3Backend::ReadVersionWithDetails(std::string_view key,
                                                    std::string_view version_id, uint64_t offset,
                                                    std::span<std::byte> out, bool with_tags,
                                                    std::stop_token stop) {
  if (version_id.empty()) return Status::InvalidArgument("empty version id");
  const std::string full = FullKey(key);
  http::SpanSink sink(out);
  // Offset 0 and an empty buffer: the whole (empty) version, as a ranged GET of 0 bytes is 416.
  const s3::GetObjectRequest request{
      bucket_, full, {offset, out.size()}, "", std::string(version_id), encryption_.read_key};
  FERRY_ASSIGN_OR_RETURN(s3::ObjectHead head, client_.GetObject(request, sink, stop));
  if (sink.written() != out.size()) {
    return Status::DataLoss("short read of " + Describe() + std::string(key) + " version " +
                            std::string(version_id) + ": got " + std::to_string(sink.written()) +
                            " of " + std::to_string(out.size()) + " bytes");
  }
  ObjectInfo info = ObjectInfoFromHead(std::string(key), head);
  if (info.version_id.empty()) info.version_id = version_id;
  if (with_tags && head.tag_count > 0) {
    FERRY_ASSIGN_OR_RETURN(info.tags, client_.GetObjectTagging(bucket_, full, version_id, stop));
  }
  return info;
}

Status S3Backend::DeleteVersion(std::string_view key, std::string_view version_id,
                                std::stop_token stop) {
  if (version_id.empty()) return Status::InvalidArgument("empty version id");
  Status s = client_.DeleteObject(bucket_, FullKey(key), version_id, stop).status();
  return s.code() == ErrorCode::kNotFound ? Status::Ok() : s;
}

std::string S3Backend::VersionOfCopy(const std::string& full_key, const s3::WrittenObject& copy,
                                     bool versioned, std::stop_token stop) {
  if (!copy.version_id.empty() || !versioned) return copy.version_id;
  // RGW 16 sends no x-amz-version-id with CopyObject: HEAD tells, unless another write came
  // first (then the ETag may differ and the version stays unknown).
  Result<s3::ObjectHead> head = client_.HeadObject(bucket_, full_key, {}, stop, written_key());
  if (!head.ok() || head->etag != copy.etag) return "";
  return head->version_id;
}

Result<WriteResult> S3Backend::AddDeleteMarker(std::string_view key, std::stop_token stop) {
  if (!features_.versions) return Backend::AddDeleteMarker(key, stop);
  FERRY_ASSIGN_OR_RETURN(s3::DeleteReply reply,
                         client_.DeleteObject(bucket_, FullKey(key), {}, stop));
  if (!reply.delete_marker || reply.version_id.empty()) {
    // A gateway that adds no marker over a current one (RGW) answers without one: the key is
    // deleted already, and the marker current there is the one this call stands for. Taken for
    // a bucket without versions, the caller would record a DELETE (and an undelete at the
    // source would write an old version again after the marker).
    FERRY_ASSIGN_OR_RETURN(std::unique_ptr<ListingCursor> versions, ListVersions(key, "", ""));
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* newest, versions->Next());
    if (newest != nullptr && newest->key == key && newest->delete_marker &&
        !newest->version_id.empty()) {
      return WriteResult{"", newest->version_id};
    }
    return Status::FailedPrecondition("deleting " + Describe() + std::string(key) +
                                      " made no delete marker: the bucket's versioning is off");
  }
  return WriteResult{"", std::move(reply.version_id)};
}

}  // namespace ferry::storage
