// The writes of one key's pass (key.cc acts through a KeyWriter): a version to a destination
// (the replica's spec, its object lock, the destination's overrides; CopyVersion moves the
// bytes), a delete marker (a DELETE where the destination keeps no versions), a version kept
// current (copied onto itself, two-way), and the lookup of a replica an earlier attempt may
// have written. Not thread-safe: one per key's pass, on its task.
#pragma once

#include <chrono>
#include <optional>
#include <stop_token>
#include <string>

#include "replicate/pass_internal.h"
#include "replicate/replica.h"
#include "replicate/rules.h"
#include "storage/backend.h"
#include "storage/object_info.h"

namespace ferry::replicate::internal {

class KeyWriter {
 public:
  // Every argument must outlive the writer: `key` is the key written, `connected` where replica
  // marks may name an origin (replica.h); what it does is counted in `stats`.
  KeyWriter(const PassOptions& o, const std::string& key, const Connected& connected,
            PassStats& stats, std::stop_token stop);

  // Writes listed version `v` of the source to `dst` for `destination`: a delete marker with
  // AddDeleteMarker (a DELETE where `dst` keeps no versions: kFailedPrecondition; then an empty
  // WriteResult), a version (with `details`; its bytes read ahead in `ahead`, may be null) with
  // CopyVersion and its replica spec (ReplicaSpecOf), its lock (CarryLock), the destination's
  // account (AccessControlTranslation) and storage class, and the journal of a chunked write.
  Result<storage::WriteResult> Write(const Destination& destination, const storage::ObjectInfo& v,
                                     const storage::ObjectInfo* details, ReadAhead* ahead,
                                     storage::Backend& dst);

  // As S3 replication does: a version's retention and legal hold go with it to a destination
  // with object lock (set in `spec`); to one without, a version that has them fails with one
  // line (kFailedPrecondition: never copied without its lock). The destination is asked
  // (Backend::HasObjectLock, one request) only for versions that have a lock.
  Status CarryLock(const storage::ObjectInfo& d, storage::Backend& dst, storage::WriteSpec& spec);

  // Copies `version` of the key on `b` (location `name`) onto itself as its new current
  // version, carrying the replica metadata of its original and ferry-replica-kept (an
  // original's time is `listed`, its listing's, when given: a HEAD reply has whole seconds
  // only). Returns the version made (empty string when unversioned), nullopt after a failure
  // (logged and counted failed); counted `restored` when made.
  std::optional<std::string> KeepCurrent(storage::Backend& b, const std::string& name,
                                         const std::string& version,
                                         std::chrono::system_clock::time_point listed = {});

  // A replica of the version with `details` that an interrupted pass wrote to `dst`
  // (FindReplicaOf over SoughtReplicaOf: newest first, a few versions); nullopt when none.
  Result<std::optional<std::string>> FindReplica(storage::Backend& dst,
                                                 const storage::ObjectInfo& details);

 private:
  const PassOptions& o_;
  const std::string& key_;
  const Connected& connected_;
  PassStats& stats_;
  std::stop_token stop_;
};

}  // namespace ferry::replicate::internal
