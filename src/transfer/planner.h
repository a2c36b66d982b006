// Planner: the per-key half of a run. Fed by plan::MergeListings, it applies the filter to
// source objects, asks plan::Decide, counts, and hands copies and deletes to a PlanSink: the
// engine directly (RunSync), or batches of durable jobs (jobs/scan.cc).
//
// Keys a destination folder cannot hold as they are (when !Features::folder_markers):
//  * Folder markers: a source key ending in '/' or the empty key (an object named like the
//    location's prefix) with size 0 is skipped and counted in Stats::markers_skipped; folders
//    are implied by the keys under them. With a size it is planned as usual and its write fails
//    (kInvalidArgument naming it): bytes are never dropped silently.
//  * A file and a folder of one name trading places (source "a" a file, destination "a/..."
//    keys; or source "a/b" where the destination has a file "a"): with delete_extra, when the
//    other side's keys are deleted by this run, the copy waits for the next run (counted in
//    Stats::conflicts_deferred) instead of failing, so that the deletes can run: sync --delete
//    converges in two runs. Without delete_extra the write fails with a message naming the
//    conflict. To see the destination keys under "a/" the copy of "a" is held back until the
//    merge is past them, which is why Finish must be called at the end.
//
// Unreadable source entries (ObjectInfo::unreadable, e.g. a dangling symbolic link) are never
// skipped or treated as absent: they are handed on as copies, which fail, so that the run
// reports them and deletes nothing; destination keys under an unreadable source folder ("a/")
// are never planned for deletion. An unreadable folder is handed on even when the filter would
// leave out its key, since the keys inside it are unknown. A folder the listing did not enter
// (ObjectInfo::not_followed: a symbolic link to a folder) is counted and not copied, and the
// destination keys under it are never planned for deletion either.
//
// Thread-safety: one merge at a time; the sink is called from the merging thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "plan/decide.h"
#include "plan/filter.h"
#include "plan/merge.h"
#include "transfer/engine.h"
#include "transfer/stats.h"

namespace ferry::transfer {

class PlanSink {
 public:
  virtual ~PlanSink() = default;
  virtual Status Copy(CopyRequest request) = 0;
  // A destination-only key to delete (only with delete_extra, and only if it passes the filter).
  virtual Status Delete(const storage::ObjectInfo& dst) = 0;
  // A source object the listing decided needs nothing (`reason`: plan::kReason*), for the
  // run's per-object report. Default: nothing.
  virtual void Skipped(const storage::ObjectInfo& src, std::string_view reason) {
    (void)src, (void)reason;
  }
};

class Planner : public plan::ListingVisitor {
 public:
  // `dst_folder_markers`: the destination's Features::folder_markers (see above).
  Planner(const plan::Filter& filter, const plan::DecideOptions& decide, bool delete_extra,
          bool dst_folder_markers, Stats& stats, PlanSink& sink)
      : filter_(filter),
        decide_(decide),
        delete_extra_(delete_extra),
        dst_folder_markers_(dst_folder_markers),
        stats_(stats),
        sink_(sink) {}

  Status SourceOnly(const storage::ObjectInfo& src) override { return Handle(&src, nullptr); }
  Status DestinationOnly(const storage::ObjectInfo& dst) override;
  Status Both(const storage::ObjectInfo& src, const storage::ObjectInfo& dst) override {
    if (filter_.Matches(dst)) ++destination_in_scope_;
    return Handle(&src, &dst);
  }
  // Hands on the copies held back (see above). Call once, after the merge returned OK.
  // A merge that ended before the destination listing was past a held copy's "key/" region
  // (a durable scan's chunk or range ends there: its destination listing stops at the end)
  // passes `folder_below`, which tells whether this run will delete destination keys under a
  // prefix (the destination has some and the source none): a held copy for which it says so
  // for "key/" waits for the next run (counted in conflicts_deferred), since those deletes
  // belong to the following chunk or range. Without it, the merge saw every destination key.
  using FolderProbe = std::function<Result<bool>(std::string_view prefix)>;
  Status Finish(const FolderProbe& folder_below = nullptr);
  // True while a copy is held back: the keys planned so far are not all in the sink yet.
  bool holding() const { return !held_.empty(); }
  // The destination objects visited so far that pass the filter (on both sides or destination
  // only, to be deleted or not): the scope of --max-delete P% (plan/delete_limit.h).
  uint64_t destination_in_scope() const { return destination_in_scope_; }

 private:
  struct Held {
    CopyRequest request;
    bool conflict = false;  // a destination key under request.src.key + "/" is deleted
  };

  Status Handle(const storage::ObjectInfo* src, const storage::ObjectInfo* dst);
  // The merge reached `key`: hands on the held copies whose folder region it passed and
  // forgets deleted files and unreadable folders it passed.
  Status Advance(std::string_view key);
  Status Release(Held& held);
  Status Plan(CopyRequest request);
  // True when deletes of destination files and copies under them may trade places here.
  bool PathKeys() const { return delete_extra_ && !dst_folder_markers_; }

  const plan::Filter& filter_;
  const plan::DecideOptions& decide_;
  const bool delete_extra_;
  const bool dst_folder_markers_;
  Stats& stats_;
  PlanSink& sink_;
  std::vector<Held> held_;                  // ascending keys, each a prefix region not passed
  std::vector<std::string> deleted_files_;  // "d/" of deleted destination keys d, not passed
  std::string unreadable_folder_;           // "a/": keep its destination keys ("" = none)
  uint64_t destination_in_scope_ = 0;
};

}  // namespace ferry::transfer
