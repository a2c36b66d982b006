// S3Backend: server-side copies (CopyObject) between two S3Backends of one client.
#include "storage/s3/s3_backend.h"

namespace ferry::storage {

bool S3Backend::CanCopyFrom(const Backend& source) const {
  // One client means one endpoint and one set of credentials (app/wiring.cc shares clients).
  const auto* s3 = dynamic_cast<const S3Backend*>(&source);
  if (s3 == nullptr || &s3->client_ != &client_) return false;
  // Encryption asked of the copy, or a customer key to read the source: the bytes go through
  // ferry (GET, then PUT or parts). Ceph RGW 16 answers 501 NotImplemented to a CopyObject of
  // an SSE-KMS or SSE-C source and writes a copy unencrypted whatever the request asks
  // (measured: docs/design/encryption.md); CopyFrom's copy-source key headers serve the stores
  // that do both, once ferry is told it copies to one.
  return encryption_.write.none() && s3->encryption_.read_key.empty();
}

Result<WriteResult> S3Backend::CopyFrom(const Backend& source, const ObjectInfo& object,
                                        std::string_view key, std::string_view storage_class,
                                        std::stop_token stop) {
  const auto* src = dynamic_cast<const S3Backend*>(&source);
  if (src == nullptr || !CanCopyFrom(source)) {
    return Status::NotSupported("server-side copy from " + source.Describe() + " to " +
                                Describe());
  }
  s3::CopyObjectRequest request;
  request.source = {src->bucket_, src->FullKey(object.key), object.version_id, object.etag,
                    src->encryption_.read_key};
  request.encryption = encryption_.write;
  request.bucket = bucket_;
  request.key = FullKey(key);
  // With COPY, S3 writes its default class unless told: keep the source's.
  request.storage_class = storage_class.empty() ? object.storage_class : std::string(storage_class);
  FERRY_ASSIGN_OR_RETURN(s3::WrittenObject written, client_.CopyObject(request, stop));
  std::string version_id = VersionOfCopy(request.key, written, features_.versions, stop);
  return WriteResult{std::move(written.etag), std::move(version_id)};
}

}  // namespace ferry::storage

namespace ferry::storage {

Result<WriteResult> S3Backend::CopyFromWithSpec(const Backend& source, const ObjectInfo& object,
                                                std::string_view key, const WriteSpec& spec,
                                                std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(RefuseTagsOfDirectory(spec));
  const auto* src = dynamic_cast<const S3Backend*>(&source);
  if (src == nullptr || !CanCopyFrom(source)) {
    return Status::NotSupported("server-side copy from " + source.Describe() + " to " +
                                Describe());
  }
  s3::WriteOptions replace = WriteOptionsFromSpec(spec);  // encryption: request.encryption
  replace.content_md5.clear();
  replace.compute_md5 = false;
  s3::CopyObjectRequest request;
  request.source = {src->bucket_, src->FullKey(object.key), object.version_id, object.etag,
                    src->encryption_.read_key};
  request.encryption = encryption_.write;
  request.bucket = bucket_;
  request.key = FullKey(key);
  request.replace = &replace;
  request.checksum_algorithm = spec.checksum_algorithm;
  FERRY_ASSIGN_OR_RETURN(s3::WrittenObject written, client_.CopyObject(request, stop));
  // The version made must be known to lock it (RGW's CopyObject reply names none).
  std::string version_id =
      VersionOfCopy(request.key, written, features_.versions || spec.lock.any(), stop);
  // RGW 16 ignores the lock headers of CopyObject: set what it left out.
  FERRY_RETURN_IF_ERROR(ApplyLock(request.key, version_id, spec.lock, stop));
  return WriteResult{std::move(written.etag), std::move(version_id)};
}

}  // namespace ferry::storage
