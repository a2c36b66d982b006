// The "transfer" kind: feeds the job's objects to the run's TransferEngine and waits for the
// last one; then the job is done, retried (only the objects that failed, after a backoff) or
// dead (a permanent failure such as access denied). A large object alone in its job keeps its
// upload's checkpoints in the store under the job's lease (StoreJournal). The engine writes
// with deferred durability (RunContext): the job makes its objects durable with one
// Backend::Sync of the destination before its outcome (and its report rows) says they are done.
#include <algorithm>
#include <condition_variable>
#include <mutex>

#include "jobs/job_report.h"
#include "jobs/kinds/registry.h"
#include "jobs/move_sources.h"
#include "jobs/part_jobs.h"
#include "jobs/worker_internal.h"

namespace ferry::jobs {
namespace {

// The objects of one job in flight: what came back so far.
struct Pending {
  std::mutex mu;
  std::condition_variable cv;
  size_t remaining = 0;                        // GUARDED_BY(mu)
  std::vector<transfer::CopyRequest> failed;  // GUARDED_BY(mu)
  std::vector<std::string> errors;             // GUARDED_BY(mu): failed[i]'s own error
  Status permanent;                            // GUARDED_BY(mu): first permanent failure
  Status transient;                            // GUARDED_BY(mu): first transient failure
  // GUARDED_BY(mu): copies the command's --max-transfer kept from starting, or cancelled at
  // its hard cut (WorkerOptions::cutoff): neither copied nor failed, given back to the run.
  std::vector<transfer::CopyRequest> left;
  // GUARDED_BY(mu): a durable ferry move: what each copy proved of its source object
  // (move_sources.h), parked as the run's source deletes with the job's outcome, whatever it is.
  MoveSources moves;
};

// One object that is copied in parts: the job's journal follows its upload part by part.
bool SingleLarge(size_t objects, uint64_t first_size, const RunContext& run) {
  return objects == 1 && first_size >= run.options.multipart_threshold;
}

class TransferHandler : public JobHandler {
 public:
  std::string_view name() const override { return kTransferKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return false; }
  // An owner waits for its part jobs (part_jobs.h): whoever serves transfers serves them.
  std::vector<std::string_view> companions() const override { return {kPartKind}; }

  // A large object keeps a worker busy for all its parts: it counts as that many objects in
  // flight, so that a worker claims no more large jobs than it can move (the others stay
  // claimable by idle workers instead of gathering attempts here).
  size_t ObjectsInFlight(const Job& job, const RunContext& run,
                         const WorkerOptions& options) const override {
    auto shape = PeekTransfer(job.spec.payload);
    if (!shape.ok()) return 0;
    if (!SingleLarge(shape->objects, shape->first_size, run)) return shape->objects;
    const uint64_t part = std::max<uint64_t>(1, run.options.part_size);
    return static_cast<size_t>(std::min<uint64_t>((shape->first_size + part - 1) / part,
                                                  static_cast<uint64_t>(options.concurrency)));
  }

  JobResult Run(JobContext& ctx) const override {
    // A large object spread over the run's workers as part jobs: this job hands them out and
    // completes the object (part_jobs.h).
    const auto copy_here = [&ctx](const std::string& payload) { return RunObjects(ctx, payload); };
    if (auto owner = RunPartOwner(ctx, copy_here)) return *std::move(owner);
    return RunObjects(ctx, ctx.claimed.job.spec.payload);
  }

 private:
  // Copies the objects of `payload` (the job's, or its part-jobs owner's) here.
  static JobResult RunObjects(JobContext& ctx, const std::string& payload) {
    const Job& j = ctx.claimed.job;
    auto objects = DecodeTransfer(payload);
    if (!objects.ok()) return FailedAtOnce(objects.status());
    if (objects->empty()) return JobResult{};
    auto pending = std::make_shared<Pending>();
    pending->remaining = objects->size();
    const bool single_large = SingleLarge(objects->size(), objects->front().src.size, ctx.run);
    // --report: the engine's rows of these objects are this job's (job_report.h).
    const std::shared_ptr<RunReport> report = ReportOf(ctx.run);
    const std::shared_ptr<report::JobRows> rows = report ? report->NewRows() : nullptr;
    if (report != nullptr) {
      for (const auto& r : *objects) report->Route(r.src.key, rows);
    }
    for (auto& r : *objects) {
      ctx.stats.objects_planned += 1;
      ctx.stats.bytes_planned += r.src.size;
      // A later attempt (its worker died, or the job was retried) looks at both sides first:
      // the earlier one may have finished the object just before it died (a completed upload
      // is not resumable, and would otherwise be sent again whole), or the source may have
      // changed.
      if (j.attempts > 1) r.need_details = true;
      if (single_large) {
        r.journal = std::make_shared<StoreJournal>(ctx.store, ctx.claimed.lease,
                                                   UploadRef{"", r.src.key}, ctx.lease_lost);
      }
      transfer::CopyRequest copy = r;
      copy.cancel = ctx.cancel;
      // --backup-dir: an object this copy replaces is kept there first, as it is now (the
      // payload knows it was there, not its ETag: the scan may be days old), and only then
      // replaced; a failed backup fails the copy and leaves it.
      if (ctx.run.backup != nullptr && copy.dst) {
        copy.before_write =
            ctx.run.backup->BeforeWrite(*copy.dst, std::move(copy.before_write), ctx.cancel);
      }
      copy.done = [pending, r, cutoff = ctx.options.cutoff](const Status& s) {
        ObjectDone(*pending, r, s, cutoff);
      };
      if (ctx.run.options.command == "move") {
        copy.finished = [pending](const transfer::CopyRequest& c, const char* what,
                                  const Status& s, bool not_copied) {
          const transfer::MoveVerdict v =
              transfer::JudgeMovedCopy(c, what, s, not_copied, /*dry_run=*/false);
          std::lock_guard lock(pending->mu);
          pending->moves.Add(c.src, v);
        };
      }
      ctx.run.engine->Copy(std::move(copy));
    }
    std::unique_lock lock(pending->mu);
    pending->cv.wait(lock, [&] { return pending->remaining == 0; });
    if (pending->failed.size() + pending->left.size() < objects->size()) {
      FailUnlessDurable(*pending, *objects, ctx.run.dst->Sync(ctx.cancel));
    }
    JobResult result;
    // Only copies made durable prove anything: a failed Sync failed them all, to be retried.
    if (pending->failed.size() < objects->size()) {
      pending->moves.TakeInto(j.spec.run, j.spec.max_attempts, result.records);
    }
    if (!pending->left.empty()) {
      result.outcome = GiveBackLeft(*pending);
    } else if (!pending->failed.empty()) {
      result.outcome = OutcomeOf(pending->permanent.ok() ? pending->transient : pending->permanent,
                                 j.attempts);
      // Each failed object keeps its own error in the payload: the job's one error is the
      // first failure's, and would otherwise stand for all of them (issue 43, item 12).
      result.outcome.payload = EncodeTransfer(pending->failed, pending->errors);
    }
    if (report != nullptr) RecordRows(*report, *rows, *objects, j, result);
    return result;
  }

  // The job's rows as its part, recorded with its outcome. A failed object that will be tried
  // again has its row from that attempt; the last attempt's failures are rows.
  static void RecordRows(RunReport& report, report::JobRows& rows,
                         const std::vector<transfer::CopyRequest>& objects, const Job& j,
                         JobResult& result) {
    for (const auto& r : objects) report.Unroute(r.src.key, &rows);
    RecordAttempt(report, rows, j, result);
  }

  // A Sync that failed may have lost any of the objects written: each is failed with its error,
  // so the job is retried (or dead) as for a failure of the write, and none is recorded done.
  // REQUIRES: pending.mu held, every object done.
  static void FailUnlessDurable(Pending& pending, const std::vector<transfer::CopyRequest>& objects,
                                const Status& durable) {
    if (durable.ok()) return;
    pending.failed.clear();
    pending.errors.clear();
    pending.permanent = pending.transient = Status::Ok();
    for (const auto& r : objects) {
      RecordFailure(pending, r, durable.WithContext("make the copies durable"));
    }
  }

  static void ObjectDone(Pending& pending, const transfer::CopyRequest& r, const Status& s,
                         const transfer::Cutoff* cutoff) {
    std::lock_guard lock(pending.mu);
    if (s.code() == ErrorCode::kCancelled && cutoff != nullptr && cutoff->cut()) {
      transfer::CopyRequest left = r;  // its upload's checkpoints stay the job's (a hard cut)
      pending.left.push_back(std::move(left));
    } else if (!s.ok()) {
      RecordFailure(pending, r, s);
    }
    if (--pending.remaining == 0) pending.cv.notify_all();
  }

  // A job the command's --max-transfer cut: queued again with the copies it left and those that
  // failed (their errors kept), without counting an attempt (kWait), due at once for whichever
  // worker claims it next (the command's own claims nothing more). REQUIRES: pending.mu not held
  // by another thread (every object done).
  static Outcome GiveBackLeft(Pending& pending) {
    Outcome o;
    o.kind = Outcome::Kind::kWait;
    o.error = "stopped by the command's --max-transfer: " + std::to_string(pending.left.size()) +
              " objects not copied";
    std::vector<transfer::CopyRequest> rest = pending.failed;
    std::vector<std::string> errors = pending.errors;
    for (const transfer::CopyRequest& r : pending.left) {
      rest.push_back(r);
      errors.emplace_back();
    }
    o.payload = EncodeTransfer(rest, errors);
    return o;
  }

  // REQUIRES: pending.mu held.
  static void RecordFailure(Pending& pending, const transfer::CopyRequest& r, const Status& s) {
    transfer::CopyRequest failed = r;
    failed.journal.reset();
    // A retry (or a redrive days later) looks at the source again and copies its current
    // version: the ETag and size seen at scan time may be stale (an object changed since
    // fails its pinned read with 412 forever otherwise).
    failed.need_details = true;
    pending.failed.push_back(std::move(failed));
    pending.errors.push_back(s.message());  // as --no-state reports it (the key beside it)
    Status& slot = IsTransient(s) ? pending.transient : pending.permanent;
    if (slot.ok()) slot = s.WithContext(r.src.key);
  }
};

}  // namespace

std::shared_ptr<const JobHandler> MakeTransferHandler() {
  return std::make_shared<TransferHandler>();
}

}  // namespace ferry::jobs
