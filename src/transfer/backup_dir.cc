#include "transfer/backup_dir.h"

#include <utility>

namespace ferry::transfer {
namespace {

// "a/b" -> "a/b/"; "" stays "" (the whole bucket or folder).
std::string BackupDirBoundary(std::string prefix) {
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  return prefix;
}

}  // namespace

bool LocationsOverlap(const LocationPrefix& a, const LocationPrefix& b) {
  if (a.bucket != b.bucket) return false;
  const std::string x = BackupDirBoundary(a.prefix);
  const std::string y = BackupDirBoundary(b.prefix);
  return x.starts_with(y) || y.starts_with(x);
}

Status CheckBackupLocation(const LocationPrefix& backup, const LocationPrefix& destination) {
  if (LocationsOverlap(backup, destination)) {
    return Status::InvalidArgument(
        "--backup-dir: '" + (backup.bucket.empty() ? "" : backup.bucket + "/") + backup.prefix +
        "' overlaps the destination '" +
        (destination.bucket.empty() ? "" : destination.bucket + "/") + destination.prefix +
        "': give a prefix outside it (e.g. a sibling prefix of the same bucket)");
  }
  return Status::Ok();
}

Status BackupDir::Keep(const storage::ObjectInfo& object, std::stop_token stop) const {
  const std::string key = object.key + options_.suffix;
  auto copied = options_.backup->CopyFrom(dst_, object, key, "", stop);
  if (!copied.ok()) {
    return copied.status().WithContext("--backup-dir: keeping " + dst_.Describe() + object.key +
                                       " as " + options_.backup->Describe() + key +
                                       " failed, so it was not replaced or deleted");
  }
  kept_ += 1;
  stats_.backups_kept += 1;
  return Status::Ok();
}

Status BackupDir::KeepKey(const std::string& key, std::stop_token stop) const {
  storage::ObjectInfo object;
  object.key = key;
  return Keep(object, stop);
}

std::function<Status()> BackupDir::BeforeWrite(storage::ObjectInfo existing,
                                               std::function<Status()> then,
                                               std::stop_token stop) const {
  return [this, existing = std::move(existing), then = std::move(then), stop] {
    FERRY_RETURN_IF_ERROR(Keep(existing, stop));
    return then ? then() : Status::Ok();
  };
}

std::function<Status(const std::string&, std::stop_token)> BackupDir::BeforeDelete() const {
  return [this](const std::string& key, std::stop_token stop) { return KeepKey(key, stop); };
}

}  // namespace ferry::transfer
