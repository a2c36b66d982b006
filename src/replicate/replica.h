// What marks a replica, and the order in which two writes of a key are "later".
//
// Every version a replication pass writes carries, in its user metadata:
//   ferry-replica-origin   the location name of the original write ("ra:bucket-a/")
//   ferry-replica-version  the original's version id ("null" for an unversioned origin)
//   ferry-replica-time     the original's write time, unix seconds with milliseconds
//                          ("1795369951.916"; older replicas carry whole seconds)
//   ferry-replica-kept     "1" on a copy a two-way pass made of a version onto its own location
//                          to keep it current (its origin may be that location)
// These marks are claims: any writer can set them, and any tool that keeps metadata (rclone -M,
// aws s3 cp of a replica) carries them to a place no pass wrote. A loop can only form among the
// locations one run's rules connect (its source and the destinations they name: Connected), so
// only there do marks make a replica: a version whose ferry-replica-origin names another
// connected location than its own, or a kept copy whose origin is connected, is a replica (no
// pass replicates it again: status REPLICA). A version whose origin is the location it is found
// at came back there (fail-back: copied from a replica by any tool, metadata and all), and one
// whose origin names a place the rules do not connect was copied from elsewhere (a third
// bucket's replica): either is an original of the location it is found at, ordered and marked by
// its own write. (That a pass wrote a version is also known without marks, from the status
// store's COMPLETED rows: key.cc asks it first.)
//
// WriteOrder is how two-way replication decides which write of a key is the newest: the
// original write time in milliseconds, then the origin name, then the original version id,
// compared as byte strings. An original's time must come from a version listing (S3 HEAD
// replies carry whole seconds only; listings carry milliseconds), so that two writes of a key
// in the same second still compare by when they happened. Both directions compute the same
// order from the same metadata, so both sides end with the same current object.
// Pure; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>

#include "replicate/rules.h"
#include "storage/object_info.h"

namespace ferry::replicate {

inline constexpr const char* kMetaReplicaOrigin = "ferry-replica-origin";
inline constexpr const char* kMetaReplicaVersion = "ferry-replica-version";
inline constexpr const char* kMetaReplicaTime = "ferry-replica-time";
inline constexpr const char* kMetaReplicaKept = "ferry-replica-kept";

// A version's name as the status store and the replica marks give it: its version id, "null"
// for the version of an unversioned bucket.
std::string VersionName(const storage::ObjectInfo& info);

// `t` in milliseconds since the Unix epoch (WriteOrder::time_ms).
int64_t EpochMillis(std::chrono::system_clock::time_point t);

struct WriteOrder {
  int64_t time_ms = 0;
  std::string origin;
  std::string version;
  auto operator<=>(const WriteOrder&) const = default;
};

// The locations one run's replication connects (canonical location names, as replica marks
// name origins): its source and every destination its rules name (enabled or not).
using Connected = std::set<std::string, std::less<>>;
Connected ConnectedLocations(std::string_view source, const RuleSet& rules);

// True when `info` (with details), found at location `location_name` (one of `connected`), is a
// replica written there by a pass: its ferry-replica-origin names another location of
// `connected`, or it is a kept copy whose origin is one of `connected`. Marks naming a place
// outside `connected` make no replica (see above).
bool IsReplica(const storage::ObjectInfo& info, std::string_view location_name,
               const Connected& connected);

// The order of `info` (with details) found at location `location_name`: its replica metadata
// when it is a replica (IsReplica), else its own write time (info.mtime: take it from a
// listing), `location_name` and version id.
WriteOrder OrderOf(const storage::ObjectInfo& info, std::string_view location_name,
                   const Connected& connected);

// Adds the replica metadata of the original `info` (a version of `location_name`; with
// details) to `metadata`, keeping the origin of `info` when it is itself a replica (IsReplica);
// for an original, a ferry-replica-kept its metadata carried from elsewhere is removed.
void MarkReplica(const storage::ObjectInfo& info, std::string_view location_name,
                 const Connected& connected, std::map<std::string, std::string>& metadata);

// Whether `metadata` (a version's user metadata) marks the replica of the original whose marks
// are `marks` (what MarkReplica adds for it): the same origin and version, and for an
// unversioned original (version "null", rewritten in place) the same write time too, so that
// the replica of an earlier write is never taken for the rewrite's. A time in whole seconds
// (older replicas) matches any time within that second.
bool IsReplicaOf(const std::map<std::string, std::string>& metadata,
                 const std::map<std::string, std::string>& marks);

// A digest of a tag set that does not depend on the order of the tags (32 hex digits), kept in
// the status store to tell whether a version's tags changed since both sides last agreed.
std::string TagsDigest(const storage::Tags& tags);

}  // namespace ferry::replicate
