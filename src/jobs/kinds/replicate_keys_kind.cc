// The "replicate-keys" kind: a batch of keys of a replication pass with their listed versions
// (oldest first). Replicates each key's versions in order to every destination its rules name,
// as a single-process pass does (replicate::ReplicateKeys), recording each version in the status
// store. A retry (its worker died, the job was cancelled) starts the batch over at no cost for
// what is done: COMPLETED versions cost nothing, and a PENDING one (written, perhaps, but not
// recorded) is first looked for at the destination by its replica metadata, never written twice.
// A version that fails is recorded FAILED (the report and `ferry replicate status` show it, the
// next pass retries it) and the job is done; only a failure of the pass itself (status store,
// opening the run) fails the attempt.
#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>

#include "jobs/kinds/registry.h"
#include "jobs/kinds/replicate_run.h"

namespace ferry::jobs {
namespace {

void AddInto(replicate::PassStats& to, const replicate::PassStats& from) {
  using S = replicate::PassStats;
  static constexpr std::atomic<uint64_t> S::*kFields[] = {
      &S::versions_listed, &S::replicated, &S::delete_markers, &S::already,
      &S::replicas,        &S::recovered,  &S::restored,       &S::tags_synced,
      &S::failed,          &S::planned,    &S::bytes,          &S::server_side,
      &S::server_side_parts};
  for (auto field : kFields) (to.*field).fetch_add((from.*field).load());
}

class ReplicateKeysHandler : public JobHandler {
 public:
  explicit ReplicateKeysHandler(replicate::PassStats* totals) : totals_(totals) {}

  std::string_view name() const override { return kReplicateKeysKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return false; }
  // Its versions are what it has in flight (a batch is at most the pass's batch_versions).
  size_t ObjectsInFlight(const Job& job, const RunContext& run,
                         const WorkerOptions& options) const override {
    (void)run;
    return static_cast<size_t>(
        std::clamp<uint64_t>(job.spec.objects, 1, static_cast<uint64_t>(options.concurrency)));
  }

  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    replicate::PassStats stats;
    Status s = Replicate(ctx, stats);
    if (totals_ != nullptr) AddInto(*totals_, stats);
    ctx.stats.objects_copied += stats.replicated.load();
    ctx.stats.bytes_copied += stats.bytes.load();
    JobResult result;
    if (!s.ok()) result.outcome = OutcomeOf(s.WithContext("replicate-keys"), j.attempts);
    return result;
  }

 private:
  static Status Replicate(JobContext& ctx, replicate::PassStats& stats) {
    FERRY_ASSIGN_OR_RETURN(std::vector<replicate::KeyVersions> keys,
                           replicate::DecodeKeyBatch(ctx.claimed.job.spec.payload));
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const ReplicationRun> r,
                           ReplicationOfJob(ctx));
    replicate::PassOptions o = r->options;
    LeaseFence fence(ctx);
    o.before_write = [&fence] { return fence.Check(); };
    return replicate::ReplicateKeys(o, r->scope, std::move(keys), stats, ctx.cancel);
  }

  // Before each write: the job's lease was renewed (by this fence) less than half a lease time
  // ago, else it is renewed now. A write so starts at least half a lease time before another
  // worker could claim the job, even when this worker's renewals stalled (a loaded machine): the
  // job's keys are never written by two jobs at once. A lease found lost cancels the job.
  class LeaseFence {
   public:
    explicit LeaseFence(JobContext& ctx) : ctx_(ctx) {}
    Status Check() {
      std::lock_guard lock(mu_);
      const auto now = std::chrono::steady_clock::now();
      if (renewed_ && now - *renewed_ < ctx_.options.lease_ttl / 2) return Status::Ok();
      if (ctx_.cancel.stop_requested()) return Status::Cancelled("the job's lease was lost");
      Status s = ctx_.store.Renew(ctx_.claimed.lease, ctx_.options.lease_ttl);
      if (s.code() == ErrorCode::kFailedPrecondition || s.code() == ErrorCode::kNotFound) {
        ctx_.lease_lost(s);
        return Status::Cancelled("the job's lease was lost: " + s.message());
      }
      FERRY_RETURN_IF_ERROR(s);
      renewed_ = now;
      return Status::Ok();
    }

   private:
    JobContext& ctx_;
    std::mutex mu_;
    std::optional<std::chrono::steady_clock::time_point> renewed_;  // GUARDED_BY(mu_)
  };

  replicate::PassStats* const totals_;
};

}  // namespace

std::shared_ptr<const JobHandler> MakeReplicateKeysHandler(replicate::PassStats* totals) {
  return std::make_shared<ReplicateKeysHandler>(totals);
}

}  // namespace ferry::jobs
