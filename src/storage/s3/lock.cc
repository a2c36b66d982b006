// S3Backend: whether the bucket has S3 Object Lock (docs/design/object-lock.md).
#include "storage/s3/s3_backend.h"

namespace ferry::storage {

Result<bool> S3Backend::HasObjectLock(std::stop_token stop) {
  auto config = client_.GetObjectLockConfiguration(bucket_, stop);
  if (!config.ok()) {
    return config.status().WithContext("object lock configuration of " + Describe());
  }
  return config->enabled;
}

}  // namespace ferry::storage
