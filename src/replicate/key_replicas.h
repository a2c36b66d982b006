// Replica recognition of one key's pass (key.cc): which versions of the source are replicas (a
// pass wrote them here, or their marks name another connected location) and which originals,
// what a REPLICA row's message says and whether it still holds, what a recovery looks for at a
// destination, and when a write of an earlier attempt may still be landing there. Pure
// functions and one small class over plain data (rows, versions, marks); not thread-safe
// (a key's pass is one task). See docs/design/replication.md, "Replicas, two-way, convergence"
// and "Crashes".
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "replicate/replica.h"
#include "replicate/status_store.h"
#include "replicate/transport.h"
#include "storage/object_info.h"

namespace ferry::replicate::internal {

// A REPLICA row says why (its message): a pass wrote the version here (the store's COMPLETED row
// of a pass to this source), or its marks name a connected origin ("replica of ORIGIN"). Marks
// decide nothing outside the locations the rules connect: a row whose origin they no longer
// connect, or an older row that says neither, is looked at again (one HEAD).
inline constexpr std::string_view kReplicaRowWrittenHere = "written here by a pass";
inline constexpr std::string_view kReplicaRowOf = "replica of ";

// Whether a REPLICA `row` still makes its version a replica (above).
bool ReplicaRowHolds(const VersionStatus& row, const Connected& connected);

// The REPLICA row's message of listed version `v` when the store says a pass wrote it here
// (`written_here`: versions of this source a pass wrote, KeyWork::written_here); nullopt when it
// does not. Decides without reading anything: a delete marker (no metadata) is recognised only
// so.
std::optional<std::string> ReplicaByStore(const std::set<std::string>& written_here,
                                          const storage::ObjectInfo& v);

// The REPLICA row's message of a version with `details`, found at `source`, when its marks make
// it a replica (IsReplica: an origin another location of `connected`); nullopt: an original.
std::optional<std::string> ReplicaByMarks(const storage::ObjectInfo& details,
                                          std::string_view source, const Connected& connected);

// What one key's pass knows of the source's versions: replicas (with their write order, when
// their details were read) and originals. Facts come from the store (the key's rows, the
// versions a pass wrote here) and from the details read in this pass (Learn).
class SourceVersionsSeen {
 public:
  // `rows`: the store's rows of the key (this source); `written_here`: its versions a pass
  // wrote here. Both must outlive this object, as must `connected`.
  SourceVersionsSeen(std::string source, const Connected& connected,
                     const std::vector<VersionStatus>& rows,
                     const std::set<std::string>& written_here);

  // The details `d` of the source's version named `version` were read: remembered as a
  // replica with its order (IsReplica), else as an original. `d.mtime` must be the listing's.
  void Learn(const storage::ObjectInfo& d, const std::string& version);

  // A version known to be a replica: a pass wrote it here, the store says so (a REPLICA row), or
  // its details said so in this pass.
  bool KnownReplica(const std::string& version) const;
  // A version known to be an original: its details said so in this pass, or it has a row that
  // is not REPLICA (and is not known as a replica otherwise).
  bool KnownOriginal(const storage::ObjectInfo& v) const;
  // The write order of a replica whose details were read in this pass; nullopt otherwise.
  std::optional<WriteOrder> ReplicaOrder(const std::string& version) const;

 private:
  std::string source_;
  const Connected& connected_;
  const std::vector<VersionStatus>& rows_;
  const std::set<std::string>& written_here_;
  std::map<std::string, WriteOrder> replica_orders_;  // replicas read this pass
  std::set<std::string> originals_;                   // originals read this pass
};

// What a recovery looks for at a destination: the marks a replica of the version with
// `details` (at `source`) carries, and the store's facts it must agree with (FindReplicaOf).
struct ReplicaSought {
  std::map<std::string, std::string> marks;
  ReplicaFacts facts;
};
ReplicaSought SoughtReplicaOf(const storage::ObjectInfo& details, std::string_view source,
                              const Connected& connected);

// Whether an earlier attempt may have written `v` (row `row`) to the destination, so that its
// replica is looked for before it is written: a PENDING row (its process died), or a FAILED one
// (a write cancelled or a reply lost may have been completed by the server). Never a delete
// marker (it carries nothing to recognise it by), nor a row queued for the pack job (its
// version was collected, never written).
bool MayHaveLanded(const VersionStatus* row, const storage::ObjectInfo& v);

// How long after its PENDING row a write of a process that died may still land at the
// destination (the server completes requests whose client is gone; seconds on a loaded one).
inline constexpr std::chrono::seconds kWriteInFlightGrace{10};

// When a replica not found for `row` (MayHaveLanded) is to be looked for once more: the end of
// the grace after the row's update, while `now` is within it; nullopt when it is past, or the
// row's version was packed (written by its archive's unpack only: nothing in flight here).
std::optional<std::chrono::system_clock::time_point> InFlightUntil(
    const VersionStatus& row, std::chrono::system_clock::time_point now);

}  // namespace ferry::replicate::internal
