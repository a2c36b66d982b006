// The "part" kind (jobs/part_jobs.h): writes the missing parts of its range into the upload
// that its owner (the object's transfer job) recorded, each checkpointed in the owner's
// checkpoint under this job's lease. It never creates, aborts or completes the upload: the
// owner does, once. Whatever a part job cannot do (the owner's upload is gone, the source
// changed, its last attempt failed) it leaves to the owner's completion, which sends every
// part still missing; so a part job never dies and never fails its run.
#include <algorithm>

#include "jobs/kinds/registry.h"
#include "jobs/part_jobs.h"
#include "jobs/worker_internal.h"
#include "obs/log.h"

namespace ferry::jobs {
namespace {

class PartHandler : public JobHandler {
 public:
  std::string_view name() const override { return kPartKind; }
  int phase() const override { return 0; }
  // The object counts once, with its owner (the transfer job).
  bool counts_progress() const override { return false; }
  bool uses_lister_slot() const override { return false; }

  // Its parts are in flight at once, up to the worker's concurrency.
  size_t ObjectsInFlight(const Job& job, const RunContext& run,
                         const WorkerOptions& options) const override {
    (void)run;
    auto p = DecodePartJob(job.spec.payload);
    if (!p.ok()) return 0;
    return static_cast<size_t>(std::clamp(p->last - p->first + 1, 1, options.concurrency));
  }

  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    auto p = DecodePartJob(j.spec.payload);
    if (!p.ok()) return FailedAtOnce(p.status());
    auto objects = DecodeTransfer(p->transfer);
    if (!objects.ok()) return FailedAtOnce(objects.status());
    if (objects->size() != 1) return FailedAtOnce(Status::DataLoss("part job of no one object"));
    transfer::CopyRequest parts = objects->front();
    auto journal = std::make_shared<SharedPartJournal>(
        ctx.store, ctx.claimed.lease, p->owner, UploadRef{"", parts.src.key}, ctx.lease_lost);
    parts.journal = journal;
    parts.need_details = false;
    parts.only_parts = transfer::CopyRequest::PartRange{.first = p->first, .last = p->last};
    Status s = CopyAndWait(ctx, std::move(parts));
    if (s.ok()) {
      // Which worker sent which parts: the record a fleet's logs keep of a spread object.
      obs::Log(ctx.options.verbose ? obs::Level::kInfo : obs::Level::kDebug, "parts sent",
               {{"key", objects->front().src.key},
                {"parts", std::to_string(p->first) + "-" + std::to_string(p->last)}});
      WakeOwnerWhenComplete(ctx.store, p->owner, UploadRef{"", objects->front().src.key},
                            objects->front().src.size);
      return JobResult{};
    }
    const bool last_attempt = j.attempts >= j.spec.max_attempts;
    // Nothing of this job is needed (gone), or nothing it can do: the owner's completion sends
    // what is missing.
    if (journal->gone() || s.code() == ErrorCode::kFailedPrecondition ||
        (last_attempt && s.code() != ErrorCode::kCancelled)) {
      obs::Log(obs::Level::kInfo, "part job left its parts to the object's own job",
               {{"key", objects->front().src.key}, {"why", s.message()}});
      return JobResult{};
    }
    Outcome o = OutcomeOf(s, j.attempts);
    // A permanent failure is retried too: only the owner may end the object.
    if (o.kind == Outcome::Kind::kFail) o = OutcomeOf(Status::Unavailable(s.message()), j.attempts);
    return JobResult{.outcome = std::move(o), .more = {}};
  }
};

}  // namespace

std::shared_ptr<const JobHandler> MakePartHandler() { return std::make_shared<PartHandler>(); }

}  // namespace ferry::jobs
