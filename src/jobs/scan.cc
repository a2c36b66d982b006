// Scan jobs: one bounded chunk of the merged listings of one key range (key_range.h). The
// source side yields at most `scan_chunk` keys of the range; the destination side stops where
// the source stopped (after the last key of the chunk, or at the end of the range when the
// source ran out), so the chunks and ranges of a run cover the key space exactly once. Found work becomes
// jobs; the rest of a cut range becomes one scan job, or two when the run wants more listing
// in parallel.
#include "jobs/worker_internal.h"
#include "plan/merge.h"
#include "transfer/planner.h"

namespace ferry::jobs {
namespace {

// The source listing of one chunk: the keys of the range, at most `limit` of them. Reading one
// key past the limit tells whether the range goes on and where (`next`).
class BoundedSource : public storage::ListingCursor {
 public:
  BoundedSource(storage::ListingCursor& inner, const KeyRange& range, size_t limit)
      : inner_(inner), range_(range), limit_(limit) {}
  Result<const storage::ObjectInfo*> Next() override {
    if (ended_) return static_cast<const storage::ObjectInfo*>(nullptr);
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, inner_.Next());
    if (o == nullptr || !range_.BeforeEnd(o->key)) {
      ended_ = true;
      return static_cast<const storage::ObjectInfo*>(nullptr);
    }
    if (count_ == limit_) {
      ended_ = true;
      next_ = o->key;  // the next chunk starts after boundary_ with this key
      return static_cast<const storage::ObjectInfo*>(nullptr);
    }
    ++count_;
    boundary_ = o->key;
    return o;
  }
  // The range goes on after boundary(), at next().
  bool cut() const { return next_.has_value(); }
  const std::string& boundary() const { return boundary_; }
  const std::string& next() const { return *next_; }

 private:
  storage::ListingCursor& inner_;
  const KeyRange& range_;
  const size_t limit_;
  size_t count_ = 0;
  bool ended_ = false;
  std::string boundary_;
  std::optional<std::string> next_;
};

// The destination listing of the same chunk: the range's keys, until Stop().
class BoundedDestination : public storage::ListingCursor {
 public:
  BoundedDestination(storage::ListingCursor& inner, const KeyRange& range)
      : inner_(inner), range_(range) {}
  Result<const storage::ObjectInfo*> Next() override {
    if (stopped_) return static_cast<const storage::ObjectInfo*>(nullptr);
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
  bool stopped_ = false;
};

// Ends the chunk on the destination side where the source was cut. This is decided when a
// destination key is visited, not when it is read: the merge reads a destination key ahead,
// before the source has shown whether it goes on, and a key past the cut belongs to the next
// chunk (planning it here as "destination only" would delete an object the source has).
class ChunkVisitor : public plan::ListingVisitor {
 public:
  ChunkVisitor(plan::ListingVisitor& inner, const BoundedSource& src, BoundedDestination& dst)
      : inner_(inner), src_(src), dst_(dst) {}
  Status SourceOnly(const storage::ObjectInfo& src) override { return inner_.SourceOnly(src); }
  Status Both(const storage::ObjectInfo& src, const storage::ObjectInfo& dst) override {
    return inner_.Both(src, dst);
  }
  Status DestinationOnly(const storage::ObjectInfo& dst) override {
    // Visited only once the source is past it or has ended, so cut() is known by now.
    if (src_.cut() && dst.key > src_.boundary()) {
      dst_.Stop();
      return Status::Ok();
    }
    return inner_.DestinationOnly(dst);
  }

 private:
  plan::ListingVisitor& inner_;
  const BoundedSource& src_;
  BoundedDestination& dst_;
};

// Turns planned copies and deletes into transfer and (parked) delete jobs.
class JobSink : public transfer::PlanSink {
 public:
  JobSink(const RunContext& ctx, const WorkerOptions& options, std::vector<JobSpec>& out)
      : ctx_(ctx), options_(options), out_(out) {}
  ~JobSink() override = default;

  Status Copy(transfer::CopyRequest request) override {
    if (request.src.size >= ctx_.options.multipart_threshold) {
      std::vector<transfer::CopyRequest> one;
      one.push_back(std::move(request));
      Emit(JobKind::kTransfer, EncodeTransfer(one), 1, one[0].src.size);
      return Status::Ok();
    }
    batch_bytes_ += request.src.size;
    batch_.push_back(std::move(request));
    if (batch_.size() >= options_.batch_objects || batch_bytes_ >= options_.batch_bytes) Flush();
    return Status::Ok();
  }

  Status Delete(const storage::ObjectInfo& dst) override {
    deletes_.push_back(dst.key);
    if (deletes_.size() >= 1000) FlushDeletes();
    return Status::Ok();
  }

  void Flush() {
    if (!batch_.empty()) Emit(JobKind::kTransfer, EncodeTransfer(batch_), batch_.size(), batch_bytes_);
    batch_.clear();
    batch_bytes_ = 0;
  }
  void FlushDeletes() {
    if (deletes_.empty()) return;
    Emit(JobKind::kDelete, EncodeDelete(deletes_), deletes_.size(), 0, kParked);
    deletes_.clear();
  }

 private:
  void Emit(JobKind kind, std::string payload, uint64_t objects, uint64_t bytes,
            TimePoint not_before = {}) {
    JobSpec spec;
    spec.run = ctx_.run.id;
    spec.kind = kind;
    spec.payload = std::move(payload);
    spec.objects = objects;
    spec.bytes = bytes;
    spec.max_attempts = ctx_.options.max_attempts;
    spec.not_before = not_before;
    out_.push_back(std::move(spec));
  }

  const RunContext& ctx_;
  const WorkerOptions& options_;
  std::vector<JobSpec>& out_;
  std::vector<transfer::CopyRequest> batch_;
  uint64_t batch_bytes_ = 0;
  std::vector<std::string> deletes_;
};

JobSpec ScanJob(const RunContext& ctx, KeyRange range) {
  JobSpec spec;
  spec.run = ctx.run.id;
  spec.kind = JobKind::kScan;
  spec.payload = EncodeScan(range);
  spec.max_attempts = ctx.options.max_attempts;
  return spec;
}

}  // namespace

Status ScanChunk(RunContext& ctx, const KeyRange& range, const WorkerOptions& options,
                 const std::function<bool()>& want_split, transfer::Stats& stats,
                 std::vector<JobSpec>& more) {
  FERRY_ASSIGN_OR_RETURN(auto src, ctx.src->ListFrom("", range.start_after));
  FERRY_ASSIGN_OR_RETURN(auto dst, ctx.dst->ListFrom("", range.start_after));
  BoundedSource bounded_src(*src, range, options.scan_chunk);
  BoundedDestination bounded_dst(*dst, range);
  JobSink sink(ctx, options, more);
  transfer::Planner planner(*ctx.filter, ctx.options.decide, ctx.options.delete_extra, stats,
                            sink);
  ChunkVisitor visitor(planner, bounded_src, bounded_dst);
  FERRY_RETURN_IF_ERROR(plan::MergeListings(bounded_src, bounded_dst, visitor));
  sink.Flush();
  sink.FlushDeletes();
  if (!bounded_src.cut()) return Status::Ok();
  const KeyRange rest{bounded_src.boundary(), range.last};
  std::optional<std::string> split;
  if (want_split()) {
    int probes = 0;
    FERRY_ASSIGN_OR_RETURN(split, FindSplit(*ctx.src, rest, bounded_src.next(), &probes));
    if (options.verbose) {
      std::fprintf(stderr, "scan: %s after %d probes\n", split ? "split" : "no split", probes);
    }
  }
  if (!split) {
    more.push_back(ScanJob(ctx, rest));
    return Status::Ok();
  }
  more.push_back(ScanJob(ctx, KeyRange{rest.start_after, *split}));
  more.push_back(ScanJob(ctx, KeyRange{*split, rest.last}));
  return Status::Ok();
}

}  // namespace ferry::jobs
