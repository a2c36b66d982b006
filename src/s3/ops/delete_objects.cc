// DeleteObject and DeleteObjects (multi-object delete).
#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/xml.h"

namespace ferry::s3 {

Result<DeleteReply> S3Client::DeleteObject(std::string_view bucket, std::string_view key,
                                           std::string_view version_id, std::stop_token stop) {
  RequestSpec spec;
  spec.method = "DELETE";
  spec.bucket = bucket;
  spec.key = key;
  if (!version_id.empty()) spec.query.emplace_back("versionId", std::string(version_id));
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  return DeleteReply{reply.headers.Get("x-amz-version-id"),
                     reply.headers.Get("x-amz-delete-marker") == "true"};
}

Status S3Client::DeleteObjects(std::string_view bucket, std::span<const std::string> keys,
                               std::stop_token stop) {
  constexpr size_t kMaxKeysPerRequest = 1000;
  if (keys.empty()) return Status::Ok();
  if (keys.size() > kMaxKeysPerRequest) {
    return Status::InvalidArgument("DeleteObjects takes at most 1000 keys, got " +
                                   std::to_string(keys.size()));
  }
  // Quiet mode: the reply lists only the failures.
  const std::string xml = BuildDeleteObjects(keys, /*quiet=*/true);
  RequestSpec spec;
  spec.method = "POST";
  spec.bucket = bucket;
  spec.query = {{"delete", ""}};
  spec.body = checksum::AsBytes(xml);
  spec.headers.Set("Content-MD5", ContentMd5(spec.body));  // S3 requires it for this call
  spec.headers.Set("Content-Type", "application/xml");
  FERRY_ASSIGN_OR_RETURN(Reply reply, Call::Run(*this, spec, stop));
  FERRY_ASSIGN_OR_RETURN(std::vector<DeleteFailure> failures, ParseDeleteResult(reply.body));
  if (failures.empty()) return Status::Ok();
  const DeleteFailure& first = failures.front();
  const ErrorTarget target{options_.endpoint, bucket, first.key, {}, {}};
  Status s = StatusFromS3Error(0, {first.code, first.message}, target);
  std::string message = "deleting " + std::to_string(failures.size()) + " of " +
                        std::to_string(keys.size()) + " keys failed; first: " + s.message();
  return Status(s.code(), std::move(message));
}

}  // namespace ferry::s3
