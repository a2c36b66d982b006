// A durable `ferry move` (docs/design/guards.md, "ferry move"): the source deletes of a move run
// as jobs of its delete phase. Whoever proves a source object (a transfer job whose copy a
// checksum checked, a scan that found the destination identical by a byte proof) records it
// in a MoveSources batch; the batch is parked as one "move-sources" job (kMoveSourcesKind,
// phase 1) whose `objects` are its deletes, so that the --max-delete guard counts them before
// the first one (jobs/delete_guard.h), and nothing is deleted before every copy of the run is
// done. Its handler (kinds/move_sources_kind.cc) looks at the source again and deletes only
// the keys that still hold the bytes proved (transfer::LookAgainAtSources). What could not be
// proved travels in the same job as `kept`, with why: that job then ends dead, so the run
// fails naming them (its proved deletes made), as the in-memory move exits 1.
//
// Payload: {"objects":[{"k":key,"e":etag,"s":size,"m":mtime_ns},...],
//           "kept":[{"k":key,"f":why},...]}
// Thread-safety: MoveSources is not thread-safe (callers hold their own lock); the functions
// are pure.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "jobs/job_store.h"
#include "transfer/move_source.h"

namespace ferry::jobs {

struct MoveSourcesPayload {
  std::vector<transfer::MovedObject> moved;               // to delete, once still there
  std::vector<std::pair<std::string, std::string>> kept;  // key, why it stays on the source
};

std::string EncodeMoveSources(const MoveSourcesPayload& p);
Result<MoveSourcesPayload> DecodeMoveSources(const std::string& json);

// What one job's work proved, turned into the parked move-sources job of it.
class MoveSources {
 public:
  // `verdict` on the source object `src` (transfer::JudgeMovedCopy, JudgeIdentical).
  void Add(const storage::ObjectInfo& src, const transfer::MoveVerdict& verdict);
  bool empty() const { return p_.moved.empty() && p_.kept.empty(); }
  size_t size() const { return p_.moved.size() + p_.kept.size(); }
  // The parked move-sources job of `run` holding what was added, which is then cleared; nothing
  // when nothing was added.
  void TakeInto(RunId run, int max_attempts, std::vector<JobSpec>& out);

 private:
  MoveSourcesPayload p_;
};

}  // namespace ferry::jobs
