// The run hook of compressed runs (kinds.h): opening a compressed run on a worker, and the chunk
// plan of its scans: the copies batched into pack jobs (batch.h), the deletes per region.
#include <iterator>

#include "jobs/payload.h"
#include "transport/batch.h"
#include "transport/kinds/kinds.h"

namespace ferry::transport {
namespace {

// A scan chunk of a compressed run: its copies become pack jobs; a keeper's run (a backup)
// merges the keeper's source and no destination.
class PackPlan : public jobs::ChunkPlan {
 public:
  PackPlan(jobs::RunContext& run, const jobs::WorkerOptions& options, const ArchiveKeeper* keeper)
      : run_(run), options_(options), keeper_(keeper) {}

  bool ListsDestination() const override { return keeper_ == nullptr; }

  storage::ListingCursor& Source(storage::ListingCursor& listed,
                                 const jobs::ChunkListing& chunk) override {
    if (keeper_ == nullptr) return listed;
    // Only what changed since the keeper's latest entry of its key is planned (and packed); the
    // keeper notes what the listing lacks, up to where the chunk ends.
    source_ = keeper_->SourceOf(run_, options_, listed, chunk);
    return *source_;
  }

  void Merged(transfer::Stats& stats) override {
    if (source_ == nullptr) return;
    stats.objects_listed += source_->unchanged();
    stats.objects_skipped += source_->unchanged();
  }

  // Batches of objects become archives (batch.h).
  void Copy(transfer::CopyRequest request, std::vector<jobs::JobSpec>& out) override {
    const uint64_t size = request.src.size;
    if (packer_.ClosesBefore(size)) Flush(false, out);
    packer_.Add(size);
    pack_.push_back(std::move(request));
  }

  // The batch in the making becomes one pack job, or at the end of the listing
  // (`listing_ended`) pieces of halving size (SlowStopPieces). When another scan job's range
  // follows (a split), its pieces are merely smaller archives.
  void Flush(bool listing_ended, std::vector<jobs::JobSpec>& out) override {
    if (pack_.empty()) return;
    if (!listing_ended) {
      Emit(jobs::EncodeTransfer(pack_), pack_.size(), packer_.bytes(), out);
    } else {
      std::vector<uint64_t> sizes;
      sizes.reserve(pack_.size());
      for (const transfer::CopyRequest& r : pack_) sizes.push_back(r.src.size);
      auto next = pack_.begin();
      for (const SlowStopPiece& p : SlowStopPieces(sizes, limits_.first())) {
        const auto end = next + static_cast<ptrdiff_t>(p.objects);
        std::vector<transfer::CopyRequest> piece(std::make_move_iterator(next),
                                                 std::make_move_iterator(end));
        Emit(jobs::EncodeTransfer(piece), piece.size(), p.bytes, out);
        next = end;
      }
    }
    pack_.clear();
    packer_.Reset();
  }

  // Each region of a list that the run's unpack jobs are split by (pack_kind.cc), else one job
  // of no region: a run packed for several regions writes each region's destination through
  // that region's unpack worker, which deletes there too (a job of no region is claimed by one
  // worker, and only its region's destination lost the keys).
  std::vector<std::string> DeleteRegions() const override {
    const jobs::TransportOptions& t = run_.options.transport;
    std::vector<std::string> regions;
    if (!t.backup && t.unpack_jobs) regions = RegionList(t.region);
    if (regions.size() < 2) regions.assign(1, std::string());
    return regions;
  }

 private:
  void Emit(std::string payload, uint64_t objects, uint64_t bytes,
            std::vector<jobs::JobSpec>& out) const {
    jobs::JobSpec spec;
    spec.run = run_.run.id;
    spec.kind = kPackKind;
    spec.payload = std::move(payload);
    spec.objects = objects;
    spec.bytes = bytes;
    spec.max_attempts = run_.options.max_attempts;
    out.push_back(std::move(spec));
  }

  jobs::RunContext& run_;
  const jobs::WorkerOptions& options_;
  const ArchiveKeeper* const keeper_;  // a run that keeps its archives; else nullptr
  const BatchLimits limits_{
      .max_bytes = run_.options.transport.batch_bytes,
      .max_objects = static_cast<size_t>(run_.options.transport.batch_objects)};
  Batcher packer_{limits_};
  std::vector<transfer::CopyRequest> pack_;  // the objects of the batch in the making
  std::unique_ptr<ArchiveKeeper::Source> source_;
};

class CompressedRunHook : public jobs::RunHook {
 public:
  explicit CompressedRunHook(std::shared_ptr<const ArchiveKeeper> keeper)
      : keeper_(std::move(keeper)) {}

  Result<bool> Open(jobs::RunContext& run, const jobs::RunOpening& opening) const override {
    const jobs::TransportOptions& t = run.options.transport;
    if (!t.enabled()) return false;
    auto c = std::make_shared<CompressedRun>();
    FERRY_ASSIGN_OR_RETURN(c->staging, run.opener(t.staging, true));
    if (!opening.checked) FERRY_RETURN_IF_ERROR(c->staging->Check({}).WithContext("staging"));
    jobs::JobStore& store = opening.store;
    if (store.session() == nullptr) {
      return Status::NotSupported("compressed transport needs a SQL state store");
    }
    Clock& clock = ClockOr(opening.options.clock);
    FERRY_ASSIGN_OR_RETURN(c->archives, TransportStore::Open(*store.session(), clock));
    if (t.level == 0) {
      FERRY_ASSIGN_OR_RETURN(c->levels, LevelStore::Open(*store.session()));
    }
    jobs::SetKindState(run, kCompressedRunState, std::move(c));
    if (t.backup) {
      if (keeper_ == nullptr) {
        return Status::NotSupported("run " + std::to_string(run.run.id) +
                                    " keeps its archives (a backup): this worker cannot");
      }
      FERRY_RETURN_IF_ERROR(keeper_->Open(run, opening));
    }
    return true;
  }

  std::unique_ptr<jobs::ChunkPlan> PlanChunk(jobs::RunContext& run,
                                             const jobs::WorkerOptions& options) const override {
    const ArchiveKeeper* keeper = run.options.transport.backup ? keeper_.get() : nullptr;
    return std::make_unique<PackPlan>(run, options, keeper);
  }

 private:
  const std::shared_ptr<const ArchiveKeeper> keeper_;
};

}  // namespace

Result<std::shared_ptr<CompressedRun>> CompressedRunOf(jobs::RunContext& run) {
  auto c = jobs::FindKindState<CompressedRun>(run, kCompressedRunState);
  if (c == nullptr) {
    return Status::FailedPrecondition("run " + std::to_string(run.run.id) +
                                      " is not open as a compressed run on this worker");
  }
  return c;
}

std::shared_ptr<const jobs::RunHook> MakeRunHook(std::shared_ptr<const ArchiveKeeper> keeper) {
  return std::make_shared<CompressedRunHook>(std::move(keeper));
}

}  // namespace ferry::transport
