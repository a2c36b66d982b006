// S3Backend::ListPendingUploads and AbortPendingUpload: finding and removing multipart uploads
// that were started and never completed (a crashed run, a copy that gave up), whose parts keep
// costing storage until someone aborts them.
#include "storage/s3/s3_backend.h"

namespace ferry::storage {

Result<std::vector<Backend::PendingUpload>> S3Backend::ListPendingUploads(std::string_view prefix,
                                                                          std::stop_token stop) {
  const std::string full_prefix = FullKey(prefix);
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::UploadInfo> uploads,
                         client_.ListMultipartUploads(bucket_, full_prefix, stop));
  std::vector<PendingUpload> pending;
  pending.reserve(uploads.size());
  for (s3::UploadInfo& u : uploads) {
    // The request's prefix guarantees this; a server that ignored it must not make us report
    // (and later abort) uploads outside this backend's root.
    if (!u.key.starts_with(full_prefix)) continue;
    pending.push_back(
        PendingUpload{u.key.substr(prefix_.size()), std::move(u.upload_id), u.initiated});
  }
  return pending;
}

Status S3Backend::AbortPendingUpload(const PendingUpload& upload, std::stop_token stop) {
  Status s = client_.AbortMultipartUpload(bucket_, FullKey(upload.key), upload.upload_id, stop);
  if (s.code() == ErrorCode::kNotFound) return Status::Ok();
  return s.WithContext("abort upload " + upload.upload_id + " of " + FullKey(upload.key));
}

}  // namespace ferry::storage
