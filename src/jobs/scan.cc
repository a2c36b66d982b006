// Scan jobs: one bounded chunk of the merged listings. The source side yields at most
// `scan_chunk` keys; the destination side stops at the last of them (unless the source ended),
// so consecutive chunks cover the key space exactly once. Found work becomes jobs.
#include "jobs/worker_internal.h"
#include "plan/merge.h"
#include "transfer/planner.h"

namespace ferry::jobs {
namespace {

class BoundedSource : public storage::ListingCursor {
 public:
  BoundedSource(storage::ListingCursor& inner, size_t limit) : inner_(inner), limit_(limit) {}
  Result<const storage::ObjectInfo*> Next() override {
    if (count_ == limit_) {
      cut_ = true;  // more may follow: the next scan job starts after boundary_
      return static_cast<const storage::ObjectInfo*>(nullptr);
    }
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, inner_.Next());
    if (o != nullptr) {
      ++count_;
      boundary_ = o->key;
    }
    return o;
  }
  bool cut() const { return cut_; }
  const std::string& boundary() const { return boundary_; }

 private:
  storage::ListingCursor& inner_;
  const size_t limit_;
  size_t count_ = 0;
  bool cut_ = false;
  std::string boundary_;
};

// Ends the destination listing after the source's boundary once the source was cut.
class BoundedDestination : public storage::ListingCursor {
 public:
  BoundedDestination(storage::ListingCursor& inner, const BoundedSource& source)
      : inner_(inner), source_(source) {}
  Result<const storage::ObjectInfo*> Next() override {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, inner_.Next());
    if (o != nullptr && source_.cut() && o->key > source_.boundary()) {
      return static_cast<const storage::ObjectInfo*>(nullptr);
    }
    return o;
  }

 private:
  storage::ListingCursor& inner_;
  const BoundedSource& source_;
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

}  // namespace

Status ScanChunk(RunContext& ctx, const std::string& start_after, const WorkerOptions& options,
                 transfer::Stats& stats, std::vector<JobSpec>& more) {
  FERRY_ASSIGN_OR_RETURN(auto src, ctx.src->ListFrom("", start_after));
  FERRY_ASSIGN_OR_RETURN(auto dst, ctx.dst->ListFrom("", start_after));
  BoundedSource bounded_src(*src, options.scan_chunk);
  BoundedDestination bounded_dst(*dst, bounded_src);
  JobSink sink(ctx, options, more);
  transfer::Planner planner(*ctx.filter, ctx.options.decide, ctx.options.delete_extra, stats,
                            sink);
  FERRY_RETURN_IF_ERROR(plan::MergeListings(bounded_src, bounded_dst, planner));
  sink.Flush();
  sink.FlushDeletes();
  if (bounded_src.cut()) {
    JobSpec next;
    next.run = ctx.run.id;
    next.kind = JobKind::kScan;
    next.payload = EncodeScan(bounded_src.boundary());
    next.max_attempts = ctx.options.max_attempts;
    more.push_back(std::move(next));
  }
  return Status::Ok();
}

}  // namespace ferry::jobs
