// S3Backend: whether the bucket has S3 Object Lock, objects' retention and legal holds, and
// their ACLs (docs/design/object-lock.md).
#include "storage/s3/s3_backend.h"

namespace ferry::storage {

Result<bool> S3Backend::HasObjectLock(std::stop_token stop) {
  auto config = client_.GetObjectLockConfiguration(bucket_, stop);
  if (!config.ok()) {
    return config.status().WithContext("object lock configuration of " + Describe());
  }
  return config->enabled;
}

Result<WriteAcl> S3Backend::ReadAcl(const ObjectInfo& object, std::stop_token stop) {
  const std::string version = IsRealVersion(object.version_id) ? object.version_id : "";
  auto acl = client_.GetObjectAcl(bucket_, FullKey(object.key), version, stop);
  if (!acl.ok()) return acl.status().WithContext("ACL of " + Describe() + object.key);
  return WriteAcl{acl->canned, acl->grant_read, acl->grant_read_acp, acl->grant_write_acp,
                  acl->grant_full_control};
}

namespace {

std::chrono::milliseconds Ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch());
}

}  // namespace

Status S3Backend::ApplyLock(const std::string& full_key, const std::string& version_id,
                            const ObjectLock& lock, std::stop_token stop) {
  if (!lock.any()) return Status::Ok();
  const std::string version = IsRealVersion(version_id) ? version_id : "";
  auto head = client_.HeadObject(bucket_, full_key, version, stop);
  if (!head.ok()) return head.status().WithContext("object lock of " + full_key);
  const ObjectLock found = LockFromS3(head->lock);
  if (!lock.mode.empty() &&
      (found.mode != lock.mode || Ms(found.retain_until) != Ms(lock.retain_until))) {
    FERRY_RETURN_IF_ERROR(client_.PutObjectRetention(bucket_, full_key, version, LockToS3(lock),
                                                     /*bypass_governance=*/false, stop)
                              .WithContext("retention of " + full_key));
  }
  if (lock.legal_hold && !found.legal_hold) {
    FERRY_RETURN_IF_ERROR(client_.PutObjectLegalHold(bucket_, full_key, version, true, stop)
                              .WithContext("legal hold of " + full_key));
  }
  return Status::Ok();
}

}  // namespace ferry::storage
