// S3Backend: archived objects (GLACIER, DEEP_ARCHIVE, Intelligent-Tiering's archive tiers):
// what a HEAD says of them, and RestoreObject (docs/design/glacier.md).
#include "s3/restore.h"
#include "storage/s3/s3_backend.h"

namespace ferry::storage {

ArchiveState ArchiveFromHead(const s3::ObjectHead& head) {
  ArchiveState a;
  a.archived = IsArchiveClass(head.storage_class) || head.archive_status == "ARCHIVE_ACCESS" ||
               head.archive_status == "DEEP_ARCHIVE_ACCESS";
  a.restore_requested = head.restore.requested;
  a.restore_ongoing = head.restore.ongoing;
  a.restore_expiry = head.restore.expiry;
  return a;
}

Result<RestoreOutcome> S3Backend::RequestRestore(const ObjectInfo& object,
                                                 const RestoreSpec& spec, std::stop_token stop) {
  s3::RestoreObjectRequest request;
  request.bucket = bucket_;
  request.key = FullKey(object.key);
  if (IsRealVersion(object.version_id)) request.version_id = object.version_id;
  request.days = spec.days;
  request.tier = spec.tier;
  auto reply = client_.RestoreObject(request, stop);
  if (!reply.ok()) return reply.status().WithContext("restore of " + Describe() + object.key);
  switch (*reply) {
    case s3::RestoreReply::kStarted:
      return RestoreOutcome::kStarted;
    case s3::RestoreReply::kAlreadyInProgress:
      return RestoreOutcome::kInProgress;
    case s3::RestoreReply::kAlreadyRestored:
      return RestoreOutcome::kAlreadyRestored;
  }
  return Status::Internal("unknown restore reply");
}

}  // namespace ferry::storage
