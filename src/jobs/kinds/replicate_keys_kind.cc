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
                           ReplicationOf(ctx.run, ctx.store));
    return replicate::ReplicateKeys(r->options, r->scope, std::move(keys), stats, ctx.cancel);
  }

  replicate::PassStats* const totals_;
};

}  // namespace

std::shared_ptr<const JobHandler> MakeReplicateKeysHandler(replicate::PassStats* totals) {
  return std::make_shared<ReplicateKeysHandler>(totals);
}

}  // namespace ferry::jobs
