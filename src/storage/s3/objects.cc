// S3Backend: single-request object operations (check, stat, read, put, delete, tags).
#include "storage/s3/s3_backend.h"

#include <algorithm>

namespace ferry::storage {

S3Backend::S3Backend(s3::S3Client& client, std::string bucket, std::string prefix)
    : client_(client), bucket_(std::move(bucket)), prefix_(std::move(prefix)) {
  features_.chunked_write = true;
  features_.server_side_copy = true;
  features_.tags = true;
  features_.storage_class = true;
  features_.metadata = true;
  features_.acl = true;
  features_.verifies_content_md5 = true;
  features_.put_if_absent = true;  // If-None-Match: * (Swift's s3api answers 501)
  if (client_.IsDirectoryBucket(bucket_)) {
    // S3 Express One Zone: listings in no order, no start-after, no versions, no object tags,
    // one storage class (docs/design/s3-express.md).
    directory_ = true;
    features_.sorted_listing = false;
    features_.start_after = false;
    features_.tags = false;
    features_.storage_class = false;
    features_.put_if_absent = false;  // not asked of directory buckets
  }
}

std::string S3Backend::Describe() const { return "s3://" + bucket_ + "/" + prefix_; }

Result<std::chrono::system_clock::time_point> S3Backend::ServerTime(std::stop_token stop) {
  return client_.ServerDate(bucket_, stop);
}

Status S3Backend::Check(std::stop_token stop) {
  Status s = client_.HeadBucket(bucket_, stop);
  if (s.code() == ErrorCode::kNotFound) {
    return Status::NotFound("bucket not found: s3://" + bucket_ + " at " +
                            client_.options().endpoint);
  }
  return s;
}

Status S3Backend::LearnVersions(std::stop_token stop) {
  if (directory_) {  // directory buckets keep no versions: nothing to ask
    features_.versions = false;
    return Status::Ok();
  }
  Result<s3::BucketVersioning> versioning = client_.GetBucketVersioning(bucket_, stop);
  if (!versioning.ok()) {
    // A user allowed objects but not the bucket's settings (403), a store without versioning
    // (501, 400): unversioned as far as ferry can tell. Only a store that cannot be reached
    // fails.
    const ErrorCode code = versioning.status().code();
    if (code == ErrorCode::kUnavailable || code == ErrorCode::kCancelled) {
      return versioning.status().WithContext("asking the versioning of " + Describe());
    }
    features_.versions = false;
    return Status::Ok();
  }
  features_.versions = *versioning == s3::BucketVersioning::kEnabled;
  // RGW 16.2 ignores If-None-Match: * on a versioned bucket (both writes succeed: measured by
  // the conformance suite), so create-only writes are not offered there.
  if (features_.versions) features_.put_if_absent = false;
  return Status::Ok();
}

Result<ObjectInfo> S3Backend::Stat(std::string_view key, bool with_tags, std::stop_token stop) {
  const std::string full = FullKey(key);
  FERRY_ASSIGN_OR_RETURN(s3::ObjectHead head, client_.HeadObject(bucket_, full, {}, stop,
                                                                  encryption_.read_key));
  ObjectInfo info = ObjectInfoFromHead(std::string(key), head);
  if (with_tags && head.tag_count > 0) {
    FERRY_ASSIGN_OR_RETURN(info.tags, client_.GetObjectTagging(bucket_, full, {}, stop));
  }
  return info;
}

Status S3Backend::ReadAt(std::string_view key, uint64_t offset, std::span<std::byte> out,
                         std::string_view etag, std::stop_token stop) {
  if (out.empty()) return Status::Ok();
  http::SpanSink sink(out);
  s3::GetObjectRequest request{bucket_, FullKey(key), {offset, out.size()}, std::string(etag), "",
                               encryption_.read_key};
  FERRY_ASSIGN_OR_RETURN(s3::ObjectHead head, client_.GetObject(request, sink, stop));
  (void)head;
  if (sink.written() != out.size()) {
    return Status::DataLoss("short read of " + Describe() + std::string(key) + ": got " +
                            std::to_string(sink.written()) + " of " +
                            std::to_string(out.size()) + " bytes");
  }
  return Status::Ok();
}

Result<ObjectInfo> S3Backend::ReadObject(std::string_view key, std::span<std::byte> out,
                                         std::string_view etag, std::stop_token stop) {
  const std::string full = FullKey(key);
  http::SpanSink sink(out);
  const s3::GetObjectRequest request{bucket_, full, {0, 0}, std::string(etag), "",
                                     encryption_.read_key};
  FERRY_ASSIGN_OR_RETURN(s3::ObjectHead head, client_.GetObject(request, sink, stop));
  if (sink.written() != out.size() || head.size != out.size()) {
    return Status::DataLoss("object " + Describe() + std::string(key) + " changed size: read " +
                            std::to_string(sink.written()) + " bytes, expected " +
                            std::to_string(out.size()));
  }
  ObjectInfo info = ObjectInfoFromHead(std::string(key), head);
  if (head.tag_count > 0) {
    FERRY_ASSIGN_OR_RETURN(info.tags, client_.GetObjectTagging(bucket_, full, {}, stop));
  }
  return info;
}

Result<std::optional<uint64_t>> S3Backend::FirstPartSize(const ObjectInfo& object,
                                                         std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(s3::ObjectHead head,
                         client_.HeadObjectPart(bucket_, FullKey(object.key), 1, stop,
                                                                encryption_.read_key));
  // A server that ignores partNumber answers with the whole object and no part count.
  if (head.parts_count <= 0 || head.size == 0 || head.size > object.size ||
      (head.etag != object.etag && !object.etag.empty())) {
    return std::optional<uint64_t>();
  }
  return std::optional<uint64_t>(head.size);
}

Status S3Backend::RefuseTagsOfDirectory(const WriteSpec& spec) const {
  if (!directory_ || !spec.tags || spec.tags->empty()) return Status::Ok();
  return Status::NotSupported("object tags are not kept by directory bucket " + Describe());
}

Result<WriteResult> S3Backend::Put(std::string_view key, std::span<const std::byte> data,
                                   const WriteSpec& spec, std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(RefuseTagsOfDirectory(spec));
  if (spec.if_absent && !features_.put_if_absent) {
    return Status::NotSupported("create-only writes to " + Describe());
  }
  s3::ObjectHead reply;
  Result<std::string> put =
      client_.PutObject(bucket_, FullKey(key), data, WriteOptionsFor(spec), stop, &reply);
  if (spec.if_absent && put.status().code() == ErrorCode::kFailedPrecondition) {
    // 412: the key exists. Final: another creator won.
    return Status::AlreadyExists("object exists (create-only write): " + put.status().message());
  }
  FERRY_ASSIGN_OR_RETURN(std::string etag, std::move(put));
  // SSE-KMS and SSE-C ETags are not MD5s of the bytes: report none, so that nobody compares
  // them (the body was checked by Content-MD5, and ferry's CRC32C is in the metadata).
  if (reply.etag_not_md5()) etag.clear();
  return WriteResult{std::move(etag), reply.version_id};
}

Status S3Backend::Delete(std::string_view key, std::stop_token stop) {
  Status s = client_.DeleteObject(bucket_, FullKey(key), {}, stop).status();
  return s.code() == ErrorCode::kNotFound ? Status::Ok() : s;
}

Status S3Backend::DeleteMany(std::span<const std::string> keys, std::stop_token stop) {
  constexpr size_t kBatch = 1000;  // the S3 limit for one DeleteObjects request
  std::vector<std::string> full;
  for (size_t i = 0; i < keys.size(); i += kBatch) {
    const size_t n = std::min(kBatch, keys.size() - i);
    full.clear();
    for (size_t j = 0; j < n; ++j) full.push_back(FullKey(keys[i + j]));
    FERRY_RETURN_IF_ERROR(client_.DeleteObjects(bucket_, full, stop));
  }
  return Status::Ok();
}

Status S3Backend::PutTags(std::string_view key, const Tags& tags, std::stop_token stop) {
  if (directory_) {
    return Status::NotSupported("object tags are not kept by directory bucket " + Describe());
  }
  return client_.PutObjectTagging(bucket_, FullKey(key), tags, stop);
}

Status S3Backend::PutVersionTags(std::string_view key, std::string_view version_id,
                                 const Tags& tags, std::stop_token stop) {
  const std::string_view id = IsRealVersion(version_id) ? version_id : std::string_view();
  return client_.PutObjectTagging(bucket_, FullKey(key), tags, stop, id);
}

}  // namespace ferry::storage
