// RestoreObject (POST ?restore): a temporary readable copy of an archived object.
#include "checksum/checksum.h"
#include "s3/client_internal.h"
#include "s3/restore.h"

namespace ferry::s3 {

Result<RestoreReply> S3Client::RestoreObject(const RestoreObjectRequest& request,
                                             std::stop_token stop) {
  if (request.days < 1) {
    return Status::InvalidArgument("restore of " + DisplayName(request.bucket, request.key) +
                                   ": days must be at least 1");
  }
  if (!IsRestoreTier(request.tier)) {
    return Status::InvalidArgument("restore tier must be Standard, Bulk or Expedited, not '" +
                                   request.tier + "'");
  }
  const std::string xml = BuildRestoreRequest(request.days, request.tier);
  RequestSpec spec;
  spec.method = "POST";
  spec.bucket = request.bucket;
  spec.key = request.key;
  spec.operation = "RestoreObject";
  spec.query = {{"restore", ""}};
  if (!request.version_id.empty()) spec.query.emplace_back("versionId", request.version_id);
  spec.body = checksum::AsBytes(xml);
  // S3 requires Content-MD5 on this POST, whatever the payload hash says.
  spec.headers.Set("Content-MD5", ContentMd5(spec.body));
  spec.headers.Set("Content-Type", "application/xml");
  Result<Reply> reply = Call::Run(*this, spec, stop);
  // 409 RestoreAlreadyInProgress (s3/errors.cc: kAlreadyExists): asked before, still running.
  if (!reply.ok() && reply.status().code() == ErrorCode::kAlreadyExists) {
    return RestoreReply::kAlreadyInProgress;
  }
  if (!reply.ok()) return reply.status();
  // 202 Accepted: started now; 200 OK: a restored copy exists and its expiry was moved.
  return reply->status == 200 ? RestoreReply::kAlreadyRestored : RestoreReply::kStarted;
}

}  // namespace ferry::s3
