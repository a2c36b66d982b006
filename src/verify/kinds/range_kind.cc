// The "verify-range" and "verify-list" kinds (kinds.h): one chunk of a key range, or of a key
// list, of a verify run, compared by RunVerify with a listing driver bounded to the chunk.
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "jobs/job_report.h"
#include "jobs/run_context.h"
#include "plan/merge.h"
#include "storage/find_keys.h"
#include "storage/sorted_listing.h"
#include "transfer/prefetch_cursor.h"
#include "verify/kinds/kinds.h"
#include "verify/verify.h"

namespace ferry::verify {
namespace {

using jobs::JobContext;
using jobs::JobResult;
using jobs::KeyRange;

// The source keys of one chunk, held in memory (at most scan_chunk of them), as a cursor.
class HeldCursor : public storage::ListingCursor {
 public:
  explicit HeldCursor(const std::vector<storage::ObjectInfo>& held) : held_(held) {}
  Result<const storage::ObjectInfo*> Next() override {
    if (at_ == held_.size()) return static_cast<const storage::ObjectInfo*>(nullptr);
    return &held_[at_++];
  }

 private:
  const std::vector<storage::ObjectInfo>& held_;
  size_t at_ = 0;
};

// What a chunk is: the source keys it compares, its end, and the first key after it (the rest
// of the range starts there) when the range goes on.
struct VerifyChunk {
  std::vector<storage::ObjectInfo> src;
  KeyRange covered;                     // (range.start_after, end]
  std::optional<std::string> next_key;  // the first source key after the chunk, if any
};

// Lists at most `limit` source keys of `range` (and one more, to know whether it goes on).
Result<VerifyChunk> ListChunk(storage::Backend& src, const KeyRange& range, size_t limit) {
  storage::SortOptions in_range;
  in_range.keep = [&range](const storage::ObjectInfo& o) { return range.BeforeEnd(o.key); };
  FERRY_ASSIGN_OR_RETURN(auto cursor, storage::ListSorted(src, range.SharedPrefix(),
                                                          range.start_after, in_range));
  VerifyChunk chunk;
  chunk.covered = range;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const storage::ObjectInfo* o, cursor->Next());
    if (o == nullptr || !range.BeforeEnd(o->key)) break;
    if (chunk.src.size() == limit) {
      chunk.next_key = o->key;
      chunk.covered.last = chunk.src.back().key;
      break;
    }
    chunk.src.push_back(*o);
  }
  return chunk;
}

// The listing driver of one chunk: the held source keys merged with the destination's keys of
// the same range.
transfer::ListingDriver ChunkDriver(const VerifyChunk& chunk) {
  return [&chunk](transfer::Executor&, storage::Backend&, storage::Backend& dst,
                  plan::ListingVisitor& visitor, std::stop_token) -> Status {
    const KeyRange& range = chunk.covered;
    storage::SortOptions in_range;
    in_range.keep = [&range](const storage::ObjectInfo& o) { return range.BeforeEnd(o.key); };
    FERRY_ASSIGN_OR_RETURN(auto dst_list, storage::ListSorted(dst, range.SharedPrefix(),
                                                              range.start_after, in_range));
    transfer::PrefetchCursor::Options ahead;
    if (range.last) {
      ahead.ends_before = [&range](const storage::ObjectInfo& o) {
        return !range.BeforeEnd(o.key);
      };
    }
    transfer::PrefetchCursor dst_cursor(std::move(dst_list), ahead);
    HeldCursor src_cursor(chunk.src);
    return plan::MergeListings(src_cursor, dst_cursor, visitor);
  };
}

// The jobs of the rest of the range after `chunk`: one, or two when the run is short of work
// and FindSplit finds a key to split at.
Result<std::vector<jobs::JobSpec>> RestJobs(JobContext& ctx, const RangeJob& job,
                                            const VerifyChunk& chunk) {
  std::vector<jobs::JobSpec> out;
  if (!chunk.next_key) return out;
  KeyRange rest{.start_after = *chunk.covered.last, .last = job.range.last};
  std::vector<KeyRange> pieces{rest};
  if (ctx.control.WantsSplit()) {
    FERRY_ASSIGN_OR_RETURN(std::optional<std::string> at,
                           jobs::FindSplit(*ctx.run.src, rest, *chunk.next_key));
    if (at) pieces = {KeyRange{rest.start_after, *at}, KeyRange{*at, rest.last}};
  }
  for (const KeyRange& piece : pieces) {
    jobs::JobSpec spec;
    spec.run = ctx.run.run.id;
    spec.kind = kVerifyRangeKind;
    spec.payload = EncodeRangeJob(RangeJob{.range = piece, .compare = job.compare});
    spec.max_attempts = ctx.claimed.job.spec.max_attempts;
    out.push_back(std::move(spec));
  }
  return out;
}

// Compares what `driver` merges into the run's comparison; when it finished, the verdicts are
// recorded (the job's verify-result record, its part of --report) and `rest` gives the jobs that
// follow. An attempt that did not finish records nothing: its retry compares again.
JobResult CompareAndRecord(JobContext& ctx, const CompareOptions& compare,
                           transfer::ListingDriver driver, std::stop_token stop,
                           const std::function<Result<std::vector<jobs::JobSpec>>()>& rest) {
  const jobs::Job& j = ctx.claimed.job;
  const std::shared_ptr<jobs::RunReport> part = jobs::ReportOf(ctx.run);
  const std::shared_ptr<report::JobRows> rows = part ? part->NewRows() : nullptr;
  VerifyTally tally;
  Report report(nullptr, false, rows.get(), [&tally](const Entry& e) { tally.Note(e); });
  VerifyOptions options;
  options.compare = compare;
  VerifyStats stats;
  const VerifyRun run{.executor = *ctx.options.executor,
                      .src = *ctx.run.src,
                      .dst = *ctx.run.dst,
                      .options = options,
                      .report = report,
                      .stats = stats,
                      .listing = std::move(driver),
                      .filter = ctx.run.filter ? &*ctx.run.filter : nullptr};
  Status s = RunVerify(run, stop);
  JobResult result;
  if (s.ok()) {
    auto more = rest();
    if (more.ok()) result.more = std::move(*more);
    s = more.status();
  }
  s = s.WithContext(ctx.claimed.job.spec.kind);
  result.outcome = jobs::OutcomeOf(s, j.attempts);
  if (!s.ok()) {
    result.more.clear();
    return result;
  }
  tally.counts = report.counts();
  jobs::JobSpec record;
  record.run = ctx.run.run.id;
  record.kind = kVerifyResultKind;
  record.payload = EncodeVerifyTally(tally);
  record.not_before = jobs::kParked;
  record.max_attempts = 1;
  result.records.push_back(std::move(record));
  if (part != nullptr) {
    if (auto r = part->Record(*rows, j)) result.records.push_back(*r);
  }
  return result;
}

// The job's stop: its lease lost, or the worker stopping.
class JobStop {
 public:
  explicit JobStop(const JobContext& ctx)
      : on_lost_(ctx.cancel, [this] { source_.request_stop(); }),
        on_stop_(ctx.worker_stop, [this] { source_.request_stop(); }) {}
  std::stop_token token() const { return source_.get_token(); }

 private:
  std::stop_source source_;
  std::stop_callback<std::function<void()>> on_lost_, on_stop_;
};

class VerifyRangeHandler : public jobs::JobHandler {
 public:
  std::string_view name() const override { return kVerifyRangeKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const jobs::Job& j = ctx.claimed.job;
    auto job = DecodeRangeJob(j.spec.payload);
    if (!job.ok()) return jobs::FailedAtOnce(job.status().WithContext("verify-range"));
    const JobStop stop(ctx);
    const size_t limit = std::max<size_t>(1, ctx.options.scan_chunk);
    auto chunk = ListChunk(*ctx.run.src, job->range, limit);
    if (!chunk.ok()) return jobs::EndedWith(chunk.status().WithContext("verify-range"), j.attempts);
    ctx.stats.objects_listed += chunk->src.size();
    return CompareAndRecord(ctx, job->compare, ChunkDriver(*chunk), stop.token(),
                            [&] { return RestJobs(ctx, *job, *chunk); });
  }
};

std::vector<jobs::JobSpec> NoJobs() { return {}; }

// What `backend` has of `keys` (sorted, unique), in key order. A folder the lookup could not
// enter stands for each listed key under it, as it was found (an error for each: verify.cc).
Result<std::vector<storage::ObjectInfo>> FoundObjects(storage::Backend& backend,
                                                      const std::vector<std::string>& keys,
                                                      std::stop_token stop) {
  std::vector<storage::ObjectInfo> out;
  FERRY_RETURN_IF_ERROR(storage::FindKeys(
      backend, keys,
      [&](const storage::ObjectInfo& o, size_t first, size_t end) {
        for (size_t i = first; i < end; ++i) {
          out.push_back(o);
          out.back().key = keys[i];
        }
        return Status::Ok();
      },
      stop));
  return out;
}

class VerifyListHandler : public jobs::JobHandler {
 public:
  std::string_view name() const override { return kVerifyListKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return true; }

  JobResult Run(JobContext& ctx) const override {
    const jobs::Job& j = ctx.claimed.job;
    auto job = DecodeListJob(j.spec.payload);
    if (!job.ok()) return jobs::FailedAtOnce(job.status().WithContext("verify-list"));
    const JobStop stop(ctx);
    auto src = FoundObjects(*ctx.run.src, job->keys, stop.token());
    if (!src.ok()) return jobs::EndedWith(src.status().WithContext("verify-list: SRC"), j.attempts);
    auto dst = FoundObjects(*ctx.run.dst, job->keys, stop.token());
    if (!dst.ok()) return jobs::EndedWith(dst.status().WithContext("verify-list: DST"), j.attempts);
    ctx.stats.objects_listed += src->size();
    auto driver = [&src, &dst](transfer::Executor&, storage::Backend&, storage::Backend&,
                               plan::ListingVisitor& visitor, std::stop_token) {
      HeldCursor src_cursor(*src), dst_cursor(*dst);
      return plan::MergeListings(src_cursor, dst_cursor, visitor);
    };
    // A list chunk is the job's whole work: nothing follows it.
    return CompareAndRecord(ctx, job->compare, driver, stop.token(),
                            [] { return Result<std::vector<jobs::JobSpec>>(NoJobs()); });
  }
};

}  // namespace

std::shared_ptr<const jobs::JobHandler> MakeVerifyRangeHandler() {
  return std::make_shared<VerifyRangeHandler>();
}

std::shared_ptr<const jobs::JobHandler> MakeVerifyListHandler() {
  return std::make_shared<VerifyListHandler>();
}

}  // namespace ferry::verify
