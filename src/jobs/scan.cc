// Scan jobs: one bounded chunk of the merged listings of one key range (key_range.h).
//
// The source side yields at most `scan_chunk` keys of the range; the destination side stops
// where the source stopped (after the last key of the chunk, or at the end of the range when
// the source ran out), so the chunks and ranges of a run cover the key space exactly once.
// Found work becomes jobs. Parallel listing: every `split_check_keys` source keys, and when the
// chunk is cut, a scan of a run that has nothing waiting to be claimed splits the rest of its
// range at a probed key. Mid-chunk, the high part is handed on at once (JobStore::HandOff: this
// job keeps the low part, also on a retry) and the listing goes on up to the new end; at the
// cut, the rest goes on as one or two scan jobs enqueued with the job's Finish.
//
// Bounded memory: the jobs a chunk finds are held until the job ends, except that whenever
// `scan_hand_off_jobs` of them have accumulated (a million destination-only keys between two
// source keys make a thousand delete jobs), they are handed on at once, together with moving
// the start of this job's range past the last key the merge has visited (JobStore::HandOff,
// one transaction). A visit of key k means every key below k on both sides was visited and
// planned, and every key the merge has read ahead is above k; so a retry lists from after k
// and neither loses nor repeats a job.
#include <cstdio>
#include <iterator>
#include <limits>

#include "jobs/kinds/run_hook.h"
#include "jobs/move_sources.h"
#include "jobs/worker_internal.h"
#include "obs/log.h"
#include "plan/merge.h"
#include "storage/sorted_listing.h"
#include "transfer/planner.h"
#include "transfer/prefetch_cursor.h"
#include "transfer/report_rows.h"

namespace ferry::jobs {
namespace {

// The source listing of one chunk: the keys of `range` (whose end may move down while the
// chunk is listed), at most `limit` of them. Every `check_every` keys it calls `checkpoint`
// with the last key yielded and the next one, before yielding the next one.
class BoundedSource : public storage::ListingCursor {
 public:
  using Checkpoint = std::function<void(const std::string& last, const std::string& next)>;
  BoundedSource(storage::ListingCursor& inner, const KeyRange& range, size_t limit,
                size_t check_every, Checkpoint checkpoint, std::stop_token stop)
      : inner_(inner),
        range_(range),
        limit_(limit),
        check_every_(check_every),
        checkpoint_(std::move(checkpoint)),
        stop_(std::move(stop)) {}

  Result<const storage::ObjectInfo*> Next() override {
    if (ended_) return static_cast<const storage::ObjectInfo*>(nullptr);
    if (count_ == limit_) {
      // Cut without reading ahead: reading one more key could cost a page that the next
      // chunk reads again. The rest may turn out to be empty.
      ended_ = cut_ = true;
      return static_cast<const storage::ObjectInfo*>(nullptr);
    }
    if (stop_.stop_requested()) return Status::Cancelled("scan cancelled");
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, inner_.Next());
    if (o == nullptr || !range_.BeforeEnd(o->key)) {
      ended_ = true;
      return static_cast<const storage::ObjectInfo*>(nullptr);
    }
    if (count_ > 0 && check_every_ > 0 && count_ % check_every_ == 0) {
      checkpoint_(boundary_, o->key);  // may lower the range's end, never below o->key
    }
    ++count_;
    boundary_ = o->key;
    return o;
  }
  // The chunk ended at its key limit: the range goes on after boundary().
  bool cut() const { return cut_; }
  const std::string& boundary() const { return boundary_; }

 private:
  storage::ListingCursor& inner_;
  const KeyRange& range_;
  const size_t limit_;
  const size_t check_every_;
  Checkpoint checkpoint_;
  const std::stop_token stop_;
  size_t count_ = 0;
  bool ended_ = false;
  bool cut_ = false;
  std::string boundary_;
};

// A listing without keys (the destination side of a plan that lists none: a backup's).
class NoKeys : public storage::ListingCursor {
 public:
  Result<const storage::ObjectInfo*> Next() override {
    return static_cast<const storage::ObjectInfo*>(nullptr);
  }
};

// The destination listing of the same chunk: the range's keys, until Stop().
class BoundedDestination : public storage::ListingCursor {
 public:
  BoundedDestination(storage::ListingCursor& inner, const KeyRange& range, std::stop_token stop)
      : inner_(inner), range_(range), stop_(std::move(stop)) {}
  Result<const storage::ObjectInfo*> Next() override {
    if (stopped_) return static_cast<const storage::ObjectInfo*>(nullptr);
    if (stop_.stop_requested()) return Status::Cancelled("scan cancelled");
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, inner_.Next());
    if (o == nullptr || !range_.BeforeEnd(o->key)) {
      return static_cast<const storage::ObjectInfo*>(nullptr);
    }
    return o;
  }
  void Stop() { stopped_ = true; }

 private:
  storage::ListingCursor& inner_;
  const KeyRange& range_;
  const std::stop_token stop_;
  bool stopped_ = false;
};

// Ends the chunk on the destination side where the source was cut, or where the range now
// ends. This is decided when a destination key is visited, not when it is read: the merge reads
// a destination key ahead, before the source has shown whether it goes on (or before a split
// moved the range's end down), and a key past the end belongs to another chunk or range.
// Planning it here as "destination only" would delete, under --delete, an object that the
// source has there.
//
// After each key it planned, it calls `visited` with that key: every key up to it, on both
// sides, is planned by then (the merge visits in key order), so the jobs found so far can be
// handed on with the range moved past it.
class ChunkVisitor : public plan::ListingVisitor {
 public:
  using Visited = std::function<Status(const std::string& key)>;
  ChunkVisitor(plan::ListingVisitor& inner, const KeyRange& range, const BoundedSource& src,
               BoundedDestination& dst, Visited visited)
      : inner_(inner), range_(range), src_(src), dst_(dst), visited_(std::move(visited)) {}
  Status SourceOnly(const storage::ObjectInfo& src) override {
    FERRY_RETURN_IF_ERROR(inner_.SourceOnly(src));
    return visited_(src.key);
  }
  Status Both(const storage::ObjectInfo& src, const storage::ObjectInfo& dst) override {
    FERRY_RETURN_IF_ERROR(inner_.Both(src, dst));
    return visited_(src.key);
  }
  Status DestinationOnly(const storage::ObjectInfo& dst) override {
    // Visited only once the source is past it or has ended, so cut() is known by now.
    if ((src_.cut() && dst.key > src_.boundary()) || !range_.BeforeEnd(dst.key)) {
      dst_.Stop();
      return Status::Ok();
    }
    FERRY_RETURN_IF_ERROR(inner_.DestinationOnly(dst));
    return visited_(dst.key);
  }

 private:
  plan::ListingVisitor& inner_;
  const KeyRange& range_;
  const BoundedSource& src_;
  BoundedDestination& dst_;
  Visited visited_;
};

// Turns planned copies and deletes into transfer and (parked) delete jobs; in a run served by a
// hook, the copies go to its chunk plan (kinds/run_hook.h), which makes its own jobs of them.
class JobSink : public transfer::PlanSink {
 public:
  JobSink(const RunContext& ctx, const WorkerOptions& options, ChunkPlan* chunk_plan,
          std::vector<JobSpec>& out)
      : ctx_(ctx),
        options_(options),
        plan_(chunk_plan),
        out_(out),
        move_(ctx.options.command == "move") {}
  ~JobSink() override = default;

  Status Copy(transfer::CopyRequest request) override {
    considered_ += move_ ? 1 : 0;
    if (plan_ != nullptr) {
      plan_->Copy(std::move(request), out_);
      return Status::Ok();
    }
    if (request.src.size >= ctx_.options.multipart_threshold) {
      std::vector<transfer::CopyRequest> one;
      one.push_back(std::move(request));
      Emit(kTransferKind, EncodeTransfer(one), 1, one[0].src.size);
      return Status::Ok();
    }
    batch_bytes_ += request.src.size;
    batch_.push_back(std::move(request));
    if (batch_.size() >= options_.batch_objects || batch_bytes_ >= options_.batch_bytes) Flush();
    return Status::Ok();
  }

  void Skipped(const storage::ObjectInfo& src, std::string_view reason) override {
    if (rows_ != nullptr) rows_->Add(transfer::SkipRow(src, reason));
    if (!move_) return;
    // A move: an identical destination proves the source object only by its bytes
    // (move_sources.h); the source deletes wait, parked, for the delete phase.
    considered_ += 1;
    moves_.Add(src, transfer::JudgeIdentical(reason));
    if (moves_.size() >= 1000) FlushDeletes();
  }
  void ReportTo(report::RowSink* rows) { rows_ = rows; }

  Status Delete(const storage::ObjectInfo& dst) override {
    deletes_.push_back(dst.key);
    // --backup-dir copies each key before its delete: smaller jobs spread those copies.
    if (deletes_.size() >= (ctx_.options.backup_dir.empty() ? 1000u : 50u)) FlushDeletes();
    return Status::Ok();
  }

  // `listing_ended`: this scan listed its range to the end (it was not cut), which a plan may
  // use (a compressed run's last batch packed in pieces for a slow stop: transport/batch.h).
  void Flush(bool listing_ended = false) {
    if (plan_ != nullptr) plan_->Flush(listing_ended, out_);
    if (!batch_.empty()) Emit(kTransferKind, EncodeTransfer(batch_), batch_.size(), batch_bytes_);
    batch_.clear();
    batch_bytes_ = 0;
  }
  void FlushDeletes() {
    FlushScope();
    moves_.TakeInto(ctx_.run.id, ctx_.options.max_attempts, out_);
    if (deletes_.empty()) return;
    // One job per region the plan names (a compressed run packed for several regions writes
    // each region's destination through that region's unpack worker, which deletes there too).
    for (const std::string& region : delete_regions_) {
      Emit(kDeleteKind, EncodeDelete(deletes_), deletes_.size(), 0, kParked, region);
    }
    deletes_.clear();
  }
  // A run with --max-delete P% counts the destination objects in scope that `planner` visits:
  // each flush parks their count since the last one as a delete-scope job per delete region
  // (so that a percentage compares like with like), with the jobs of the same keys.
  void CountScopeOf(const transfer::Planner& planner) {
    if (ctx_.options.delete_extra &&
        ctx_.options.max_delete.kind == plan::DeleteLimit::Kind::kPercent) {
      scope_of_ = &planner;
    }
  }

 private:
  void Emit(std::string kind, std::string payload, uint64_t objects, uint64_t bytes,
            TimePoint not_before = {}, std::string region = {}) {
    JobSpec spec;
    spec.run = ctx_.run.id;
    spec.kind = std::move(kind);
    spec.payload = std::move(payload);
    spec.objects = objects;
    spec.bytes = bytes;
    spec.max_attempts = ctx_.options.max_attempts;
    spec.not_before = not_before;
    spec.region = std::move(region);
    out_.push_back(std::move(spec));
  }

  void FlushScope() {
    // A move's percentage is of the source objects it considered (those its filters passed).
    if (move_ && ctx_.options.max_delete.kind == plan::DeleteLimit::Kind::kPercent &&
        considered_ > 0) {
      Emit(kDeleteScopeKind, "{}", considered_, 0, kParked);
      considered_ = 0;
    }
    if (scope_of_ == nullptr) return;
    const uint64_t seen = scope_of_->destination_in_scope();
    if (seen == scope_flushed_) return;
    for (const std::string& region : delete_regions_) {
      Emit(kDeleteScopeKind, "{}", seen - scope_flushed_, 0, kParked, region);
    }
    scope_flushed_ = seen;
  }

  const RunContext& ctx_;
  const WorkerOptions& options_;
  ChunkPlan* const plan_;  // nullptr: transfer jobs
  std::vector<JobSpec>& out_;
  std::vector<transfer::CopyRequest> batch_;
  uint64_t batch_bytes_ = 0;
  std::vector<std::string> deletes_;
  const transfer::Planner* scope_of_ = nullptr;  // CountScopeOf
  report::RowSink* rows_ = nullptr;               // ReportTo
  uint64_t scope_flushed_ = 0;
  const bool move_;          // a durable ferry move: source deletes of what it proved
  MoveSources moves_;        // move_: the identical sources found since the last flush
  uint64_t considered_ = 0;  // move_: source objects planned since the last flush
  const std::vector<std::string> delete_regions_ =
      plan_ != nullptr ? plan_->DeleteRegions() : std::vector<std::string>{std::string()};
};

// A split point of `rest` (whose first key is `first`). A failed probe costs only the split:
// the scan goes on whole.
std::optional<std::string> SplitPoint(RunContext& ctx, const KeyRange& rest,
                                      std::string_view first, bool verbose) {
  int probes = 0;
  auto found = FindSplit(*ctx.src, rest, first, &probes);
  if (verbose || obs::LogEnabled(obs::Level::kDebug)) {
    obs::Log(verbose ? obs::Level::kInfo : obs::Level::kDebug,
             found.ok() && *found ? "scan: split" : "scan: no split",
             {{"probes", probes}, {"error", found.ok() ? "" : found.status().message()}});
  }
  if (!found.ok()) return std::nullopt;
  return *found;
}

// What Planner::Finish asks of a copy held at the chunk's end (see ScanChunk): whether the
// destination has keys under its folder that the source lacks.
transfer::Planner::FolderProbe FolderProbeOf(RunContext& ctx) {
  auto has_under = [](storage::Backend& side, std::string_view folder) -> Result<bool> {
    FERRY_ASSIGN_OR_RETURN(std::optional<std::string> first, side.FirstKeyAfter(folder));
    return first.has_value() && first->starts_with(folder);
  };
  return [&ctx, has_under](std::string_view folder) -> Result<bool> {
    FERRY_ASSIGN_OR_RETURN(bool dst_has, has_under(*ctx.dst, folder));
    if (!dst_has) return false;
    FERRY_ASSIGN_OR_RETURN(bool src_has, has_under(*ctx.src, folder));
    return !src_has;
  };
}

// One ScanChunk (see there, and the top of this file), in its steps: the listings opened, merged
// into the planner with the mid-chunk splits and hand-offs, and the rest of the range enqueued.
// Lives on ScanChunk's stack: the listings and cursors hold references to range_.
class ChunkScanner {
 public:
  ChunkScanner(const ScanContext& scan, const KeyRange& job_range, std::vector<JobSpec>& more,
               std::stop_token stop)
      : scan_(scan),
        ctx_(scan.run),
        options_(scan.options),
        range_(job_range),
        more_(more),
        stop_(std::move(stop)),
        // A side that lists out of order (a directory bucket) is read whole and sorted on disk
        // (storage/sorted_listing.h), keeping this range's keys only. Its every chunk would
        // list it whole again, so such a run scans each range in one chunk and never splits (a
        // split probe reads a whole listing too); hand-offs still bound the jobs held and
        // checkpoint progress.
        ordered_(ctx_.src->features().sorted_listing && ctx_.dst->features().sorted_listing) {}
  ChunkScanner(const ChunkScanner&) = delete;
  ChunkScanner& operator=(const ChunkScanner&) = delete;

  Status Run() {
    FERRY_RETURN_IF_ERROR(OpenListings());
    BoundedSource src(
        *src_, range_, ordered_ ? options_.scan_chunk : std::numeric_limits<size_t>::max(),
        options_.split_check_keys,
        [this](const std::string& last, const std::string& next) { SplitMidChunk(last, next); },
        stop_);
    BoundedDestination dst(*dst_, range_, stop_);
    JobSink sink(ctx_, options_, chunk_plan_.get(), more_);
    sink.ReportTo(scan_.rows);
    transfer::Planner planner(*ctx_.filter, ctx_.options.decide, ctx_.options.delete_extra,
                              ctx_.dst->features().folder_markers, scan_.stats, sink);
    sink.CountScopeOf(planner);
    FERRY_RETURN_IF_ERROR(Merge(src, dst, sink, planner));
    // The destination listing stopped at the chunk's end: a copy held there may still have
    // destination keys under "key/" in the next chunk or range, which that chunk deletes when
    // the source has none there (a probe of each side per such copy). When the source has keys
    // there too, the copy goes ahead and fails, naming the conflict: it can never be held.
    FERRY_RETURN_IF_ERROR(planner.Finish(FolderProbeOf(ctx_)));
    sink.Flush(/*listing_ended=*/!src.cut());
    sink.FlushDeletes();
    if (src.cut()) EnqueueRest(KeyRange{src.boundary(), range_.last});
    return Status::Ok();
  }

 private:
  // The source listing sorted, the run hook's chunk plan, and the destination listing (none
  // when the plan lists none) read ahead on its own thread.
  Status OpenListings() {
    // Every key of the range starts with what its two ends share: listing under that prefix
    // lets S3 end the last page of the range instead of a page past it.
    const std::string prefix = range_.SharedPrefix();
    storage::SortOptions in_range;
    in_range.keep = [this](const storage::ObjectInfo& o) { return range_.BeforeEnd(o.key); };
    FERRY_ASSIGN_OR_RETURN(src_, storage::ListSorted(*ctx_.src, prefix, range_.start_after,
                                                     in_range));
    // A run served by a hook is planned by its chunk plan (kinds/run_hook.h), which may leave
    // the destination unlisted (a backup compares its source with its catalog) and the source
    // filtered, and makes its own jobs of the copies.
    chunk_plan_ = ctx_.hook != nullptr ? ctx_.hook->PlanChunk(ctx_, options_) : nullptr;
    std::unique_ptr<storage::ListingCursor> dst_list = std::make_unique<NoKeys>();
    if (chunk_plan_ == nullptr || chunk_plan_->ListsDestination()) {
      FERRY_ASSIGN_OR_RETURN(dst_list, storage::ListSorted(*ctx_.dst, prefix,
                                                           range_.start_after, in_range));
    }
    // The destination is listed on its own thread while the source is
    // (transfer/prefetch_cursor.h), at most one page ahead of the merge and never past the
    // job's range (whose end only moves down). The source is not: its chunk must end without
    // reading ahead.
    transfer::PrefetchCursor::Options ahead;
    ahead.max_batches = 1;
    ahead.ends_before = [end = range_](const storage::ObjectInfo& o) {
      return !end.BeforeEnd(o.key);
    };
    dst_ = std::make_unique<transfer::PrefetchCursor>(std::move(dst_list), std::move(ahead));
    return Status::Ok();
  }

  // BoundedSource's checkpoint: when the run wants more listers, the range after `last`
  // (whose first key is `next`) split at a probed key and its high part handed on at once.
  void SplitMidChunk(const std::string& last, const std::string& next) {
    if (!ordered_ || !scan_.control.WantsSplit()) return;
    const KeyRange rest{last, range_.last};
    std::optional<std::string> split = SplitPoint(ctx_, rest, next, options_.verbose);
    if (!split) return;
    const KeyRange kept{range_.start_after, *split};
    if (scan_.control.HandOff(kept, {ScanJob(ctx_, KeyRange{*split, range_.last})}).ok()) {
      range_.last = *split;
    }
  }

  // Hands the jobs found so far on once there are enough of them; `key` was just planned.
  Status HandOnFound(const std::string& key, JobSink& sink, const transfer::Planner& planner) {
    if (options_.scan_hand_off_jobs == 0 || more_.size() < options_.scan_hand_off_jobs ||
        planner.holding()) {  // a held copy is planned below `key` but not a job yet
      return Status::Ok();
    }
    sink.Flush();  // batches in the making cover keys up to `key` only
    sink.FlushDeletes();
    const KeyRange kept{key, range_.last};
    if (scan_.record_rows) scan_.record_rows(more_);  // the skips up to `key`: never planned again
    FERRY_RETURN_IF_ERROR(scan_.control.HandOff(kept, more_).WithContext("hand jobs on"));
    more_.clear();
    range_.start_after = key;
    return Status::Ok();
  }

  // Both listings merged into `planner`, through the run hook's chunk plan when there is one.
  Status Merge(BoundedSource& src, BoundedDestination& dst, JobSink& sink,
               transfer::Planner& planner) {
    ChunkVisitor visitor(planner, range_, src, dst, [&](const std::string& key) {
      return HandOnFound(key, sink, planner);
    });
    if (chunk_plan_ == nullptr) return plan::MergeListings(src, dst, visitor);
    const ChunkListing chunk{.range = range_,
                             .covered_to = [&]() -> std::optional<std::string> {
                               if (src.cut()) return src.boundary();
                               return range_.last;
                             }};
    Status merged = plan::MergeListings(chunk_plan_->Source(src, chunk), dst, visitor);
    chunk_plan_->Merged(scan_.stats);
    return merged;
  }

  // The chunk was cut: `rest` goes on as one scan job, or two split at a probed key when the
  // run wants more listers.
  void EnqueueRest(const KeyRange& rest) {
    std::optional<std::string> split;
    if (scan_.control.WantsSplit()) {
      // The first key of the rest, if the source has one: one key from the store, not a page.
      auto first = ctx_.src->FirstKeyAfter(rest.start_after);
      if (first.ok() && *first && rest.BeforeEnd(**first)) {
        split = SplitPoint(ctx_, rest, **first, options_.verbose);
      }
    }
    if (!split) {
      more_.push_back(ScanJob(ctx_, rest));
      return;
    }
    more_.push_back(ScanJob(ctx_, KeyRange{rest.start_after, *split}));
    more_.push_back(ScanJob(ctx_, KeyRange{*split, rest.last}));
  }

  const ScanContext& scan_;
  RunContext& ctx_;
  const WorkerOptions& options_;
  // What this job stands for now: its end moves down when a split hands the high part on, its
  // start moves up when the jobs found so far are handed on.
  KeyRange range_;
  std::vector<JobSpec>& more_;
  const std::stop_token stop_;
  const bool ordered_;
  // Destroyed in reverse: the destination's reading thread first, then the plan, the source.
  std::unique_ptr<storage::ListingCursor> src_;
  std::unique_ptr<ChunkPlan> chunk_plan_;
  std::unique_ptr<transfer::PrefetchCursor> dst_;
};

}  // namespace

Status PlanObjects(const ScanContext& scan, storage::ListingCursor& src,
                   storage::ListingCursor& dst, std::vector<JobSpec>& more) {
  RunContext& ctx = scan.run;
  JobSink sink(ctx, scan.options, nullptr, more);
  sink.ReportTo(scan.rows);
  transfer::Planner planner(*ctx.filter, ctx.options.decide, ctx.options.delete_extra,
                            ctx.dst->features().folder_markers, scan.stats, sink);
  sink.CountScopeOf(planner);
  FERRY_RETURN_IF_ERROR(plan::MergeListings(src, dst, planner));
  FERRY_RETURN_IF_ERROR(planner.Finish(FolderProbeOf(ctx)));
  sink.Flush(/*listing_ended=*/true);
  sink.FlushDeletes();
  return Status::Ok();
}

JobSpec ScanJob(const RunContext& ctx, const KeyRange& range) {
  JobSpec spec;
  spec.run = ctx.run.id;
  spec.kind = kScanKind;
  spec.payload = EncodeScan(range);
  spec.max_attempts = ctx.options.max_attempts;
  return spec;
}

JobSpec FirstScanJob(RunId run, int max_attempts) {
  JobSpec spec;
  spec.run = run;
  spec.kind = kScanKind;
  spec.payload = EncodeScan(KeyRange{});
  spec.max_attempts = max_attempts;
  return spec;
}

Status ScanChunk(const ScanContext& scan, const KeyRange& job_range, std::vector<JobSpec>& more,
                 std::stop_token stop) {
  ChunkScanner chunk(scan, job_range, more, std::move(stop));
  return chunk.Run();
}

}  // namespace ferry::jobs
