// Two-way convergence of one key's pass (key.cc calls it after the key's versions): the latest
// write of the key kept current at each destination, at the source after a contest there, and
// at the source when a replica covered one of its writes. The decisions are key_order.h's; this
// reads the destination's versions and acts through the key's KeyWriter. Not thread-safe: on
// the key's task. See docs/design/replication.md, "Replicas, two-way, convergence".
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stop_token>
#include <string>

#include "replicate/key_replicas.h"
#include "replicate/key_writes.h"
#include "replicate/pass_internal.h"
#include "replicate/replica.h"

namespace ferry::replicate::internal {

// Per destination, what one key's pass did there.
struct KeyDestState {
  std::string blocked;           // why later versions wait ("": they don't)
  bool checked_current = false;  // the destination's current version was read
  std::optional<storage::ObjectInfo> current;  // ... and it was this one (none, or a marker)
  std::optional<WriteOrder> last_written;      // the order of the last version written there
  std::set<std::string> ours;                  // the versions this pass made there
};

// The key's pass as two-way convergence reads it. Every member outlives the call.
struct TwoWayKey {
  const PassOptions& o;
  const KeyWork& work;
  const Connected& connected;
  const SourceVersionsSeen& seen;  // replicas and originals of the source known in this pass
  KeyWriter& writer;
  PassStats& stats;
  std::stop_token stop;
};

// Two-way: a destination whose current version (read before the key's first write there) may
// be later than what this pass wrote (MayBeLater) is listed from its newest version down to
// it; when the newest is this pass's, the latest-ordered one it did not make, when later than
// its last write (LatestIfAfter), is made current again (KeepCurrent). And when the source's
// own current version is the one just written (SourceCurrentWasWritten), the source lost the
// same contest: a later write of the other side reached it earlier (a reverse rule wrote it: a
// COMPLETED row of `k.work.written_rows` says where) and was then covered by a write ordered
// before it (clocks of two regions disagree, or the same millisecond). That replica is made
// current on the source too (its row moved to the copy), or each side would keep its own.
// A destination that cannot be listed is counted failed and logged; the error is a failed
// status store.
Status KeepLatestCurrent(const TwoWayKey& k, const std::map<std::string, KeyDestState>& dests);

// When this pass wrote something of the key (`touched`: a quiet key costs nothing) and the
// source's current version is a replica ordered before a known original of the source (a write
// covered by a replica written at the same time: LatestOriginal), that original is made current
// again. The current replica's order is read (a HEAD) only when its details were not read in
// this pass; a failed read is counted and logged. Never an error.
Status HealCoveredWrite(const TwoWayKey& k, bool touched);

}  // namespace ferry::replicate::internal
