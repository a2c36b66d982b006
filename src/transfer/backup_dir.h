// BackupDir: `--backup-dir LOCATION` and `--suffix` (ferry sync, cp, move; as rclone's): what a
// run would overwrite or delete on the destination is first copied, on the server, into the
// backup location under its own key (plus the suffix), and only once that copy succeeded is the
// overwrite or the delete made. A failed backup copy leaves the destination object untouched:
// the overwrite or delete fails (counted in Stats, the run exits non-zero).
//
// Where it hooks in (transfer::RunSync): an overwrite through CopyRequest::before_write (the
// fence right before the write that replaces the object: its PUT, its server-side copy, its
// multipart commit), a delete through TransferOptions::before_delete (per key, on the worker
// that deletes it). Both run on the run's executor, as the copies and deletes do.
//
// The backup location must be able to copy from the destination on the server (the same store
// and credentials: Backend::CanCopyFrom) and must not overlap the destination's prefix
// (CheckBackupLocation; the CLI refuses in one line before anything is listed). A replaced
// object is pinned to the ETag the run listed (a destination that changed since fails the
// backup, and so the overwrite); a deleted one is copied as it is (the delete spool keeps keys
// only). Objects above the store's single-copy limit (5 GiB on S3) fail their backup: not yet
// copied in parts.
//
// Thread-safety: Keep and KeepKey are thread-safe (the backends are); the object is immutable.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"
#include "transfer/stats.h"

namespace ferry::transfer {

struct BackupDirOptions {
  storage::Backend* backup = nullptr;  // the backup location; null: no backups. Not owned.
  std::string suffix;                  // appended to each key kept ("" = none)
  bool enabled() const { return backup != nullptr; }
};

// Where two locations of one store meet. `bucket` "" for a folder (then the prefixes are paths).
struct LocationPrefix {
  std::string bucket;
  std::string prefix;  // "" = the whole bucket or folder
};

// True when one location holds the other: the same bucket (or both folders) and one prefix
// inside the other at a '/' boundary, or the whole bucket.
bool LocationsOverlap(const LocationPrefix& a, const LocationPrefix& b);

// OK when `backup` and `destination` do not overlap: different buckets, or prefixes neither of
// which contains the other (at a '/' boundary, or the whole bucket). kInvalidArgument naming
// `--backup-dir` otherwise.
Status CheckBackupLocation(const LocationPrefix& backup, const LocationPrefix& destination);

class BackupDir {
 public:
  // `dst` is the run's destination; both backends must outlive this.
  BackupDir(const BackupDirOptions& options, storage::Backend& dst, Stats& stats)
      : options_(options), dst_(dst), stats_(stats) {}

  // Copies `object` (as listed on the destination: its ETag pins the copy) to the backup
  // location under object.key + suffix, on the server. OK once the copy exists.
  Status Keep(const storage::ObjectInfo& object, std::stop_token stop) const;
  // The same for a key known by name only (a delete replayed from the spool).
  Status KeepKey(const std::string& key, std::stop_token stop) const;

  // A CopyRequest::before_write that keeps `existing` first, then runs `then` (may be empty).
  std::function<Status()> BeforeWrite(storage::ObjectInfo existing, std::function<Status()> then,
                                      std::stop_token stop) const;
  // A TransferOptions::before_delete that keeps the key first.
  std::function<Status(const std::string&, std::stop_token)> BeforeDelete() const;

  uint64_t kept() const { return kept_.load(); }

 private:
  BackupDirOptions options_;
  storage::Backend& dst_;
  Stats& stats_;
  mutable std::atomic<uint64_t> kept_{0};
};

}  // namespace ferry::transfer
