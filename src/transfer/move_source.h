// SourceDeletes: the second half of `ferry move` (docs/design/guards.md, "ferry move"): a
// source object is deleted only once the destination is proved to hold its bytes, and only
// after every copy of the run ended, in batches (S3 DeleteObjects, 1000 keys a request) as
// tasks of the run's executor.
//
// What proves an object (the same proof the summary counts as verified):
//  - a copy the engine made and checked (CopyRequest::unverified false: the bytes read matched
//    a checksum the source declares, or the destination checked the MD5 it was sent, or the
//    store copied its own bytes server-side, or the source is a local file read whole);
//  - a destination found identical by a byte proof: the same plain MD5 ETag, the same
//    full-object checksum, or content read and compared (plan::kReasonSameEtag,
//    kReasonSameChecksum, kReasonSameContent; a move compares with --checksum).
// Anything else keeps the source object: a failed copy, a copy nothing could check, a skip
// decided on sizes or times, an archived source not copied. Each kept object is counted
// (Stats::sources_kept) and named as a failure (operation "move"), so the run exits non-zero
// and a rerun tries it again.
//
// Deletes happen on current facts: before each batch's delete the source is looked at again
// (storage::FindKeys: a listing of the batch's range, or a HEAD of each sparse key) and only
// the keys whose object is still the one that was copied or found identical (the same ETag
// and size where both have an ETag, else the same size and modification time) are deleted. One
// written anew meanwhile is kept (counted and named: a rerun moves the new bytes); one already
// gone needs nothing. Left: the moment between that look and the delete (S3's DeleteObjects
// takes no condition; RGW has no conditional delete): a write landing exactly then is lost on
// an unversioned source, hidden behind the delete marker on a versioned one.
//
// On a versioned source a delete removes the current version only (S3 adds a delete marker):
// the older versions stay.
//
// Thread-safety: Watch, Identical and the callbacks they install may be called from any thread
// (the engine's workers); Run once, after every copy ended.
#pragma once

#include <cstdint>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "report/row.h"
#include "storage/backend.h"
#include "transfer/engine.h"
#include "transfer/key_spool.h"
#include "transfer/stats.h"

namespace ferry::transfer {

class Executor;

// True when a skip for `reason` (plan/decide.h) rests on the bytes themselves.
bool ProvesSameBytes(std::string_view reason);

// What a move does with one source object, by the proof above: delete it (the destination
// proved it), keep it (`why`: a failure of the move), or nothing (its copy failed, a failure
// already, or it is gone from the source).
struct MoveVerdict {
  enum class Kind { kNothing, kDelete, kKeep };
  Kind kind = Kind::kNothing;
  std::string why;
};
// A copy that ended (CopyRequest::finished's arguments); a dry run proves what it would copy.
MoveVerdict JudgeMovedCopy(const CopyRequest& r, const char* what, const Status& status,
                           bool not_copied, bool dry_run);
// A source object the plan found needing nothing, for `reason`.
MoveVerdict JudgeIdentical(std::string_view reason);

// What identifies the bytes a move proved: the source object as it was copied or found
// identical. Its delete waits until the source still holds exactly that (StillMoved).
struct MovedObject {
  std::string key;
  std::string etag;
  uint64_t size = 0;
  int64_t mtime_ns = 0;
  bool operator==(const MovedObject&) const = default;
};
MovedObject MovedOf(const storage::ObjectInfo& src);

// The source looked at again before its deletes (storage::FindKeys: a listing of the keys'
// range where dense, a HEAD each where sparse): `doomed`, the keys still holding the object
// moved; `kept`, each key whose object changed since, or whose folder could not be read, with
// why. Keys gone already are in neither. `moved` is sorted by key and made unique here.
struct SourcesNow {
  std::vector<std::string> doomed;
  std::vector<std::pair<std::string, std::string>> kept;  // key, why it stays
};
Result<SourcesNow> LookAgainAtSources(storage::Backend& src, std::vector<MovedObject> moved,
                                      std::stop_token stop);

class SourceDeletes {
 public:
  // `report` (may be null) gets a delete-source row per source delete. Not owned.
  SourceDeletes(Stats& stats, bool dry_run, report::RowSink* report)
      : stats_(stats), dry_run_(dry_run), report_(report) {}

  // Installs `request.finished` (chaining any already set): as the copy ends, its source key is
  // queued for deletion when the destination proves it, else kept (see above).
  void Watch(CopyRequest& request);
  // A source object the listing found needing nothing (PlanSink::Skipped): queued when
  // `reason` proves the bytes, else kept. `src` is the object as listed: the one deleted only
  // while the source still holds it.
  void Identical(const storage::ObjectInfo& src, std::string_view reason);

  // Source objects queued for deletion so far.
  uint64_t count() const { return spool_.count(); }

  // Deletes the queued keys from `src` in batches of `batch` keys, each batch one task of
  // `executor`; returns when all ended. A dry run logs and reports them (would-delete-source)
  // instead. Each deleted key is counted in Stats::sources_deleted; a failed batch's keys are
  // failures (operation "delete-source") and stay on the source. Non-OK only when the spool
  // cannot be read.
  Status Run(Executor& executor, storage::Backend& src, std::stop_token stop,
             size_t batch = 1000);

 private:
  void Apply(const storage::ObjectInfo& src, const MoveVerdict& verdict);
  void Queue(const storage::ObjectInfo& src);
  void Kept(const std::string& key, std::string_view why);
  void Ended(const CopyRequest& request, const char* what, const Status& status,
             bool not_copied);
  void DeleteBatch(storage::Backend& src, const std::vector<std::string>& records,
                   std::stop_token stop);

  Stats& stats_;
  const bool dry_run_;
  report::RowSink* const report_;
  KeySpool spool_;  // a record per object: its key with what identifies the bytes moved
};

}  // namespace ferry::transfer
