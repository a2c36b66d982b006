// What marks a replica, and the order in which two writes of a key are "later".
//
// Every version a replication pass writes carries, in its user metadata:
//   ferry-replica-origin   the location name of the original write ("ra:bucket-a/")
//   ferry-replica-version  the original's version id ("null" for an unversioned origin)
//   ferry-replica-time     the original's write time, unix seconds with milliseconds
//                          ("1795369951.916"; older replicas carry whole seconds)
// A version with ferry-replica-origin is a replica: no pass replicates it again (status REPLICA).
//
// WriteOrder is how two-way replication decides which write of a key is the newest: the
// original write time in milliseconds, then the origin name, then the original version id,
// compared as byte strings. An original's time must come from a version listing (S3 HEAD
// replies carry whole seconds only; listings carry milliseconds), so that two writes of a key
// in the same second still compare by when they happened. Both directions compute the same
// order from the same metadata, so both sides end with the same current object.
// Pure; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>

#include "storage/object_info.h"

namespace ferry::replicate {

inline constexpr const char* kMetaReplicaOrigin = "ferry-replica-origin";
inline constexpr const char* kMetaReplicaVersion = "ferry-replica-version";
inline constexpr const char* kMetaReplicaTime = "ferry-replica-time";

struct WriteOrder {
  int64_t time_ms = 0;
  std::string origin;
  std::string version;
  auto operator<=>(const WriteOrder&) const = default;
};

// True when `info` (with details) is a replica written by a pass.
bool IsReplica(const storage::ObjectInfo& info);

// The order of `info` (with details) found at location `location_name`: its replica metadata
// when it is a replica, else its own write time (info.mtime: take it from a listing),
// `location_name` and version id.
WriteOrder OrderOf(const storage::ObjectInfo& info, std::string_view location_name);

// Adds the replica metadata of the original `info` (a version of `location_name`; with
// details) to `metadata`, keeping the origin of `info` when it is itself a replica.
void MarkReplica(const storage::ObjectInfo& info, std::string_view location_name,
                 std::map<std::string, std::string>& metadata);

// A digest of a tag set that does not depend on the order of the tags (32 hex digits), kept in
// the status store to tell whether a version's tags changed since both sides last agreed.
std::string TagsDigest(const storage::Tags& tags);

}  // namespace ferry::replicate
