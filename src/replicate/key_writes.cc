// The writes of one key's pass (see key_writes.h).
#include "replicate/key_writes.h"

#include <utility>

#include "obs/log.h"
#include "replicate/key_records.h"
#include "replicate/key_replicas.h"
#include "replicate/transport.h"

namespace ferry::replicate::internal {

using storage::ObjectInfo;

KeyWriter::KeyWriter(const PassOptions& o, const std::string& key, const Connected& connected,
                     PassStats& stats, std::stop_token stop)
    : o_(o), key_(key), connected_(connected), stats_(stats), stop_(std::move(stop)) {}

Result<storage::WriteResult> KeyWriter::Write(const Destination& destination, const ObjectInfo& v,
                                              const ObjectInfo* details, ReadAhead* ahead,
                                              storage::Backend& dst) {
  if (v.delete_marker) {
    Result<storage::WriteResult> marker = dst.AddDeleteMarker(key_, stop_);
    if (marker.ok() || marker.status().code() != ErrorCode::kFailedPrecondition) return marker;
    // An unversioned destination: the marker's meaning is a delete.
    FERRY_RETURN_IF_ERROR(dst.Delete(key_, stop_));
    return storage::WriteResult{};
  }
  storage::WriteSpec spec = ReplicaSpecOf(*details, o_.source_name, connected_);
  FERRY_RETURN_IF_ERROR(CarryLock(*details, dst, spec));
  if (!destination.owner_account.empty()) {
    // AccessControlTranslation: the destination account gets the replica.
    spec.acl.grant_full_control = "id=\"" + destination.owner_account + "\"";
  }
  if (!destination.storage_class.empty()) spec.storage_class = destination.storage_class;
  return CopyVersion(o_,
                     {.src = *o_.source,
                      .dst = dst,
                      .version = *details,
                      .key = key_,
                      .spec = std::move(spec),
                      .ahead = ahead,
                      .journal = o_.journal ? o_.journal(destination.location, key_) : nullptr},
                     stats_, stop_);
}

Status KeyWriter::CarryLock(const ObjectInfo& d, storage::Backend& dst,
                            storage::WriteSpec& spec) {
  if (!d.lock.any()) return Status::Ok();
  FERRY_ASSIGN_OR_RETURN(bool locked, dst.HasObjectLock(stop_));
  if (!locked) {
    return Status::FailedPrecondition(dst.Describe() + " has no object lock: the retention or "
                                      "legal hold of " + d.key + " cannot be carried there");
  }
  spec.lock = d.lock;
  return Status::Ok();
}

std::optional<std::string> KeyWriter::KeepCurrent(storage::Backend& b, const std::string& name,
                                                  const std::string& version,
                                                  std::chrono::system_clock::time_point listed) {
  Result<ObjectInfo> full = version.empty() ? b.Stat(key_, true, stop_)
                                            : b.StatVersion(key_, version, true, stop_);
  Status s = full.status();
  std::optional<std::string> made;
  if (full.ok() && o_.before_write) s = o_.before_write();
  if (full.ok() && s.ok()) {
    full->key = key_;
    full->version_id = version;
    if (listed.time_since_epoch().count() != 0) full->mtime = listed;
    storage::WriteSpec spec = ReplicaSpecOf(*full, name, connected_);
    // The same bucket: its versions have a lock only where it has object lock.
    if (Status lock = CarryLock(*full, b, spec); !lock.ok()) spec.lock = {};
    spec.metadata[kMetaReplicaKept] = "1";  // a replica there even when its origin is `name`
    Result<storage::WriteResult> w = CopyVersion(o_,
                                                 {.src = b,
                                                  .dst = b,
                                                  .version = *full,
                                                  .key = key_,
                                                  .spec = std::move(spec),
                                                  .ahead = nullptr,
                                                  .journal = nullptr},
                                                 stats_, stop_);
    s = w.status();
    if (w.ok()) made = w->version_id;
  }
  if (!s.ok()) {
    stats_.failed.fetch_add(1);
    obs::Log(obs::Level::kWarn, "keeping the later current version of " + key_ + " at " + name +
                                    " failed: " + s.message());
    return std::nullopt;
  }
  stats_.restored.fetch_add(1);
  return made;
}

Result<std::optional<std::string>> KeyWriter::FindReplica(storage::Backend& dst,
                                                          const ObjectInfo& details) {
  const ReplicaSought sought = SoughtReplicaOf(details, o_.source_name, connected_);
  return FindReplicaOf(dst, key_, sought.marks, sought.facts, stop_);
}

}  // namespace ferry::replicate::internal
