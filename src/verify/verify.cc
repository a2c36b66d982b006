#include "verify/verify.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plan/merge.h"
#include "storage/sorted_listing.h"
#include "transfer/prefetch_cursor.h"
#include "verify/ranges.h"
#include "verify/read_ahead.h"

namespace ferry::verify {
namespace {

using Step = Decision::Step;

struct Sides {
  storage::Backend& src;
  storage::Backend& dst;
  storage::Backend& of(Side s) const { return s == Side::kSrc ? src : dst; }
};

Entry EntryOf(const storage::ObjectInfo* s, const storage::ObjectInfo* d) {
  Entry e;
  e.key = s != nullptr ? s->key : d->key;
  if (s != nullptr) e.src_size = s->size, e.src_etag = s->etag;
  if (d != nullptr) e.dst_size = d->size, e.dst_etag = d->etag;
  return e;
}

Mark MarkOf(Verdict v) {
  switch (v) {
    case Verdict::kIdentical: return Mark::kIdentical;
    case Verdict::kDiffer: return Mark::kDiffer;
    case Verdict::kSizeOnly: return Mark::kSizeOnly;
  }
  return Mark::kError;
}

// One pair whose listings did not decide: owns copies of both entries.
class PairCheck {
 public:
  PairCheck(const Sides& sides, const VerifyOptions& options, transfer::TaskQueue& queue,
            VerifyStats& stats, storage::ObjectInfo src, storage::ObjectInfo dst)
      : sides_(sides), options_(options), queue_(queue), stats_(stats),
        src_(std::move(src)), dst_(std::move(dst)) {
    facts_.src = FactsOf(sides_.src, &src_);
    facts_.dst = FactsOf(sides_.dst, &dst_);
  }

  // Runs the decision's steps until it is final; the entry to report.
  Entry Run(std::stop_token stop) {
    Entry e = EntryOf(&src_, &dst_);
    for (int round = 0; round < 8; ++round) {
      if (stop.stop_requested()) return Error(e, Status::Cancelled("interrupted"));
      const Decision d = Decide(facts_, options_.compare);
      Status s;
      switch (d.step) {
        case Step::kDone:
          e.mark = MarkOf(d.verdict);
          e.reason = d.reason;
          return e;
        case Step::kDetails:
          s = Details(stop);
          break;
        case Step::kLayout:
          Layout(d.side, stop);
          break;
        case Step::kRead:
          s = Read(d.side, d.part_sizes, d.whole, d.checksum, stop);
          break;
      }
      if (!s.ok()) return Error(e, s);
    }
    return Error(e, Status::Internal("verify: no decision for " + e.key));
  }

 private:
  static SideFacts FactsOf(storage::Backend& b, const storage::ObjectInfo* info) {
    SideFacts f;
    f.info = info;
    f.local = b.features().cheap_reads;
    f.metadata = b.features().metadata;
    return f;
  }
  SideFacts& facts(Side s) { return s == Side::kSrc ? facts_.src : facts_.dst; }
  storage::ObjectInfo& info(Side s) { return s == Side::kSrc ? src_ : dst_; }

  static Entry Error(Entry e, const Status& s) {
    e.mark = Mark::kError;
    e.reason = s.message();
    return e;
  }

  Status Details(std::stop_token stop) {
    for (Side side : {Side::kSrc, Side::kDst}) {
      SideFacts& f = facts(side);
      if (f.details_known || f.info->has_details) continue;
      storage::ObjectInfo& i = info(side);
      stats_.heads += 1;
      auto got = sides_.of(side).Stat(i.key, false, stop);
      if (!got.ok()) {
        return got.status().WithContext(side == Side::kSrc ? "HEAD in SRC" : "HEAD in DST");
      }
      // What the listing said stays (the key as listed); the HEAD adds the details. An
      // object changed since it was listed is compared as it is now.
      std::string key = i.key;
      i = std::move(*got);
      i.key = std::move(key);
      f.details_known = true;
    }
    return Status::Ok();
  }

  void Layout(Side side, std::stop_token stop) {
    SideFacts& f = facts(side);
    f.layout_asked = true;
    stats_.layout_asks += 1;
    auto got = sides_.of(side).FirstPartSize(info(side), stop);
    // A store that cannot tell (or fails to) leaves the layout to the candidates.
    if (got.ok()) f.first_part_size = *got;
  }

  Status Read(Side side, const std::vector<uint64_t>& part_sizes, bool whole,
              std::optional<checksum::Algorithm> checksum, std::stop_token stop) {
    storage::ObjectInfo& i = info(side);
    LayoutHasher hasher(part_sizes, whole, checksum);
    ReadRequest r;
    r.backend = &sides_.of(side);
    r.key = i.key;
    r.size = i.size;
    // Pinned to the ETag compared (S3 If-Match): a changed object fails instead of mixing.
    r.etag = facts(side).local ? std::string() : i.etag;
    r.chunk = std::max<uint64_t>(1, std::min(options_.read_chunk, i.size));
    r.depth = options_.read_depth;
    stats_.reads += 1;
    Status s = ReadInOrder(r, queue_, [&](std::span<const std::byte> bytes) {
      hasher.Update(bytes);
      stats_.bytes_read += bytes.size();
    }, stop);
    if (!s.ok()) return s.WithContext(side == Side::kSrc ? "read of SRC" : "read of DST");
    facts(side).read = hasher.Finish();
    return Status::Ok();
  }

  const Sides& sides_;
  const VerifyOptions& options_;
  transfer::TaskQueue& queue_;
  VerifyStats& stats_;
  storage::ObjectInfo src_, dst_;
  PairFacts facts_;
};

class Visitor : public plan::ListingVisitor {
 public:
  Visitor(const Sides& sides, const VerifyOptions& options, transfer::TaskQueue& queue,
          Report& report, VerifyStats& stats, const plan::Filter* filter)
      : sides_(sides), options_(options), queue_(queue), report_(report), stats_(stats),
        filter_(filter) {}

  Status SourceOnly(const storage::ObjectInfo& src) override {
    if (!Kept(src)) return Status::Ok();
    Entry e = EntryOf(&src, nullptr);
    e.mark = Mark::kMissing;
    e.reason = "only in SRC";
    Unreadable(e, src);
    report_.Add(e);
    return Status::Ok();
  }
  Status DestinationOnly(const storage::ObjectInfo& dst) override {
    if (!Kept(dst)) return Status::Ok();
    Entry e = EntryOf(nullptr, &dst);
    e.mark = Mark::kExtra;
    e.reason = "only in DST";
    Unreadable(e, dst);
    report_.Add(e);
    return Status::Ok();
  }
  Status Both(const storage::ObjectInfo& src, const storage::ObjectInfo& dst) override {
    if (!Kept(src)) return Status::Ok();  // the source's object decides, as for a copy
    Entry e = EntryOf(&src, &dst);
    if (Unreadable(e, src) || Unreadable(e, dst)) {
      report_.Add(e);
      return Status::Ok();
    }
    // What the listings alone decide is reported here, on the listing thread.
    PairFacts facts;
    SideFacts s, d;
    s.info = &src, s.local = sides_.src.features().cheap_reads;
    s.metadata = sides_.src.features().metadata;
    d.info = &dst, d.local = sides_.dst.features().cheap_reads;
    d.metadata = sides_.dst.features().metadata;
    facts.src = s, facts.dst = d;
    const Decision first = Decide(facts, options_.compare);
    if (first.step == Step::kDone) {
      e.mark = MarkOf(first.verdict);
      e.reason = first.reason;
      report_.Add(e);
      return Status::Ok();
    }
    auto check = std::make_shared<PairCheck>(sides_, options_, queue_, stats_,
                                             src, dst);
    queue_.Push([check, this](std::stop_token stop) { report_.Add(check->Run(stop)); },
                /*priority=*/false);
    return Status::Ok();
  }

 private:
  bool Kept(const storage::ObjectInfo& o) const {
    return filter_ == nullptr || filter_->Matches(o);
  }

  // An entry the listing found but could not read (a dangling link), or a folder it did not
  // enter: an error, never a verdict.
  static bool Unreadable(Entry& e, const storage::ObjectInfo& i) {
    if (!i.unreadable.empty()) {
      e.mark = Mark::kError;
      e.reason = i.unreadable;
      return true;
    }
    if (i.not_followed) {
      e.mark = Mark::kError;
      e.reason = "folder not followed (symbolic link)";
      return true;
    }
    return false;
  }

  const Sides& sides_;
  const VerifyOptions& options_;
  transfer::TaskQueue& queue_;
  Report& report_;
  VerifyStats& stats_;
  const plan::Filter* const filter_;
};

// Lists both sides over one key range and merge-joins them (the whole key space: no bound).
Status VerifyRange(const VerifyRun& run, const jobs::KeyRange& range, Visitor& visitor) {
  // Every key of the range starts with what its ends share: S3 then ends the range's last page
  // there instead of a page past it.
  const std::string prefix = range.SharedPrefix();
  storage::SortOptions in_range;
  in_range.keep = [&range](const storage::ObjectInfo& o) { return range.BeforeEnd(o.key); };
  FERRY_ASSIGN_OR_RETURN(auto src_list,
                         storage::ListSorted(run.src, prefix, range.start_after, in_range));
  FERRY_ASSIGN_OR_RETURN(auto dst_list,
                         storage::ListSorted(run.dst, prefix, range.start_after, in_range));
  transfer::PrefetchCursor::Options ahead;
  if (range.last) {
    ahead.ends_before = [&range](const storage::ObjectInfo& o) { return !range.BeforeEnd(o.key); };
  }
  transfer::PrefetchCursor src_cursor(std::move(src_list), ahead);
  transfer::PrefetchCursor dst_cursor(std::move(dst_list), ahead);
  return plan::MergeListings(src_cursor, dst_cursor, visitor);
}

}  // namespace

Status RunVerify(const VerifyRun& run, std::stop_token stop) {
  const Sides sides{run.src, run.dst};
  std::unique_ptr<transfer::TaskQueue> queue = run.executor.Open();
  std::stop_callback cancel(stop, [&queue] { queue->Cancel(); });
  Visitor visitor(sides, run.options, *queue, run.report, run.stats, run.filter);
  Status status = [&]() -> Status {
    if (run.listing) return run.listing(run.executor, run.src, run.dst, visitor, stop);
    RangePlanOptions ro;
    ro.max_ranges = run.options.list_ranges;
    FERRY_ASSIGN_OR_RETURN(RangePlan plan, PlanRanges(run.src, run.dst, ro));
    run.stats.ranges = plan.ranges.size();
    run.stats.range_requests = static_cast<uint64_t>(plan.requests);
    if (plan.ranges.size() == 1) return VerifyRange(run, plan.ranges[0], visitor);
    // One thread per range (each with its two prefetch threads); the visitor is shared (it
    // only reports and queues tasks, both thread-safe).
    std::vector<Status> results(plan.ranges.size());
    {
      std::vector<std::jthread> threads;
      threads.reserve(plan.ranges.size());
      for (size_t i = 0; i < plan.ranges.size(); ++i) {
        threads.emplace_back([&, i] { results[i] = VerifyRange(run, plan.ranges[i], visitor); });
      }
    }
    for (const Status& r : results) {
      if (!r.ok()) return r;
    }
    return Status::Ok();
  }();
  queue->Wait();
  if (status.ok() && stop.stop_requested()) status = Status::Cancelled("interrupted");
  return status;
}

}  // namespace ferry::verify
