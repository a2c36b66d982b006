// The "replicate-keys" kind: a batch of keys of a replication pass with their listed versions
// (oldest first). Replicates each key's versions in order to every destination its rules name,
// as a single-process pass does (ReplicateKeys), recording each version in the status
// store. A retry (its worker died, the job was cancelled) starts the batch over at no cost for
// what is done: COMPLETED versions cost nothing, and a PENDING one (written, perhaps, but not
// recorded) is first looked for at the destination by its replica metadata, never written twice.
// A version that fails is recorded FAILED (the report and `ferry replicate status` show it, the
// next pass retries it) and the job is done; only a failure of the pass itself (status store,
// opening the run) fails the attempt.
//
// Compressed transport (a destination with `transport`): the versions for such destinations
// are collected instead of written, packed once the batch's keys are done into one archive per
// staging location (replicate/transport.h), and the job finishes enqueuing one unpack job per
// destination (in its transport region). A rerun packs the same archive key again: its rows
// are PENDING "packed in" it and nothing unpacked it yet.
#include <algorithm>

#include "jobs/kinds/lease_fence.h"
#include "jobs/payload.h"
#include "replicate/kinds/kinds.h"
#include "replicate/kinds/replicate_run.h"
#include "replicate/transport.h"
#include "transport/kinds/kinds.h"

namespace ferry::replicate {
namespace {

using jobs::JobContext;
using jobs::JobResult;
using jobs::JobSpec;
using jobs::OutcomeOf;

void AddInto(PassStats& to, const PassStats& from) {
  using S = PassStats;
  static constexpr std::atomic<uint64_t> S::*kFields[] = {
      &S::versions_listed, &S::replicated, &S::delete_markers, &S::already,
      &S::replicas,        &S::recovered,  &S::restored,       &S::tags_synced,
      &S::failed,          &S::planned,    &S::bytes,          &S::server_side,
      &S::server_side_parts, &S::unverified, &S::transported, &S::transport_archives,
      &S::transport_bytes_in, &S::transport_bytes_wire};
  for (auto field : kFields) (to.*field).fetch_add((from.*field).load());
}

class ReplicateKeysHandler : public jobs::JobHandler {
 public:
  explicit ReplicateKeysHandler(PassStats* totals) : totals_(totals) {}

  std::string_view name() const override { return kReplicateKeysKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return false; }
  // Its versions are what it has in flight (a batch is at most the pass's batch_versions).
  size_t ObjectsInFlight(const jobs::Job& job, const jobs::RunContext& run,
                         const jobs::WorkerOptions& options) const override {
    (void)run;
    return static_cast<size_t>(
        std::clamp<uint64_t>(job.spec.objects, 1, static_cast<uint64_t>(options.concurrency)));
  }

  JobResult Run(JobContext& ctx) const override {
    const jobs::Job& j = ctx.claimed.job;
    PassStats stats;
    JobResult result;
    Status s = Replicate(ctx, stats, result.more);
    if (totals_ != nullptr) AddInto(*totals_, stats);
    ctx.stats.objects_copied += stats.replicated.load();
    ctx.stats.bytes_copied += stats.bytes.load();
    if (!s.ok()) {
      result.outcome = OutcomeOf(s.WithContext("replicate-keys"), j.attempts);
      result.more.clear();
    }
    return result;
  }

 private:
  static Status Replicate(JobContext& ctx, PassStats& stats,
                          std::vector<JobSpec>& unpacks) {
    FERRY_ASSIGN_OR_RETURN(std::vector<KeyVersions> keys,
                           DecodeKeyBatch(ctx.claimed.job.spec.payload));
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const ReplicationRun> r,
                           ReplicationOfJob(ctx));
    PassOptions o = r->options;
    o.executor = ctx.options.executor;  // the worker's: its workers and its ByteBudget
    jobs::LeaseFence fence(ctx);
    o.before_write = [&fence] { return fence.Check(); };
    TransportCollector collected;
    if (!r->staging.empty()) {
      o.transported = &collected;
      o.in_transit = InTransit(*r->archives, ArchiveKeys(ctx));
    }
    FERRY_RETURN_IF_ERROR(
        ReplicateKeys(o, r->scope, std::move(keys), stats, ctx.cancel));
    if (collected.size() == 0) return Status::Ok();
    return Pack(ctx, *r, o, collected, stats, unpacks);
  }

  // The archive key of this job on a staging location, "r<run>-j<job>-<8 hex>.fza": the same
  // on every attempt; the hex digits tell apart passes of two state stores staging into one
  // prefix.
  static std::function<std::string(const std::string&)> ArchiveKeys(const JobContext& ctx) {
    const jobs::RunContext& run = ctx.run;
    RunArchiveNames names;
    names.run = run.run.id;
    names.source = run.run.spec.source;
    names.created_ticks = run.run.created.time_since_epoch().count();
    const jobs::JobId job = ctx.claimed.job.id;
    return [names = std::move(names), job](const std::string& staging) {
      return names.KeyOf(job, staging);
    };
  }

  // Packs the collected versions (one archive per staging location) and makes their unpack jobs.
  static Status Pack(JobContext& ctx, const ReplicationRun& r, const PassOptions& o,
                     TransportCollector& collected, PassStats& stats,
                     std::vector<JobSpec>& unpacks) {
    FERRY_RETURN_IF_ERROR(o.before_write());  // the job still holds its lease
    const jobs::Job& j = ctx.claimed.job;
    const jobs::RunContext& run = ctx.run;
    PackTransportOptions t;
    t.archive_key = ArchiveKeys(ctx);
    for (const auto& [name, backend] : r.staging) t.staging[name] = backend.get();
    t.archives = r.archives.get();
    t.levels = r.levels.get();
    t.retry = j.attempts > 1;
    t.executor = ctx.options.executor;
    FERRY_ASSIGN_OR_RETURN(PackedTransport packed,
                           PackTransported(o, collected.Take(), t, ctx.cancel));
    stats.transported += packed.versions;
    stats.transport_archives += packed.archives;
    stats.transport_bytes_in += packed.bytes_in;
    stats.transport_bytes_wire += packed.bytes_wire;
    ctx.stats.archives_staged += packed.archives;
    ctx.stats.entries_packed += packed.entries;
    ctx.stats.transport_bytes_in += packed.bytes_in;
    ctx.stats.transport_bytes_wire += packed.bytes_wire;
    for (const TransportUnpack& u : packed.unpacks) {
      JobSpec unpack;
      unpack.run = run.run.id;
      unpack.kind = transport::kUnpackKind;
      unpack.payload = EncodeTransportUnpack(u);
      unpack.objects = u.objects;
      unpack.bytes = u.bytes;
      unpack.max_attempts = j.spec.max_attempts;
      unpack.region = u.region;
      unpacks.push_back(std::move(unpack));
    }
    return Status::Ok();
  }

  PassStats* const totals_;
};

}  // namespace

std::shared_ptr<const jobs::JobHandler> MakeReplicateKeysHandler(PassStats* totals) {
  return std::make_shared<ReplicateKeysHandler>(totals);
}

}  // namespace ferry::replicate
