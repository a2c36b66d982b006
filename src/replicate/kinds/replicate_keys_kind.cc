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
//
// The "replicate-event" kind (`ferry serve`'s event intake, replicate/payload.h EventWork) is
// the same for one key whose versions it lists when it runs: events are hints, the source is
// read before acting. When another job holds the key (a scan's keys job writing it), it waits
// and tries again later instead of leaving the key (the other job may have listed it before the
// write the event tells of): it takes the key before listing it, and a key held elsewhere ends
// the attempt as jobs::Outcome::kWait, not counted, due again after a wait that grows from 2 s
// to 30 s (BusyKeyWait), however long the other job holds the key.
// With compressed transport batched (Transport::max_delay), it packs nothing: its transported
// versions are recorded waiting (QueuedMessage) and it enqueues the run's pack job, due
// max_delay later (kPackLater: the first waiting version sets the time), or at once (kPackNow)
// when a batch's worth waits.
//
// The "replicate-pack" kind: the waiting versions of its run, the longest waiting first, up to
// a batch (Transport::batch_objects, batch_bytes): their keys are listed again and replicated
// as a keys job's, so they are collected and packed into one archive per staging location.
// What a batch left (or keys another job held) waits for the next pack job, due at once.
#include <algorithm>
#include <chrono>
#include <optional>
#include <set>
#include <string>

#include "base/clock.h"
#include "jobs/journal.h"
#include "jobs/kinds/lease_fence.h"
#include "jobs/payload.h"
#include "replicate/kinds/kinds.h"
#include "replicate/kinds/replicate_run.h"
#include "replicate/listing.h"
#include "replicate/replica.h"
#include "replicate/transport.h"
#include "transfer/executor.h"
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
      &S::versions_listed,    &S::replicated,        &S::delete_markers,
      &S::already,            &S::replicas,          &S::recovered,
      &S::restored,           &S::tags_synced,       &S::failed,
      &S::busy,               &S::deferred,          &S::planned,
      &S::bytes,              &S::server_side,       &S::server_side_parts,
      &S::parts_resumed,      &S::bytes_resumed,     &S::unverified,
      &S::kms_not_selected,   &S::transported,       &S::transport_archives,
      &S::transport_bytes_in, &S::transport_bytes_wire};
  for (auto field : kFields) (to.*field).fetch_add((from.*field).load());
}

// How long a pack job waits for the keys another job held.
constexpr std::chrono::seconds kBusyKeyRetry{2};
// How long an event's job waits when another job holds its key: half as long as it has waited
// already (since it was enqueued), within these bounds. A key held for long (a large version
// copied under --bwlimit) costs a claim every 30 s, not every 2 s; a short hold, little delay.
constexpr std::chrono::seconds kBusyKeyWaitMin{2};
constexpr std::chrono::seconds kBusyKeyWaitMax{30};

std::chrono::milliseconds BusyKeyWait(const jobs::Job& job, jobs::TimePoint now) {
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - job.created);
  return std::clamp<std::chrono::milliseconds>(waited / 2, kBusyKeyWaitMin, kBusyKeyWaitMax);
}

enum class Mode {
  kKeys,     // replicate-keys: a batch of a scan
  kEvent,    // replicate-event: one key an event named
  kPack,     // replicate-pack: the versions event jobs left waiting for transport
  kDeletes,  // replicate-deletes: keys a keys job parked for the delete phase (--max-delete)
};

// The jobs of the delete phase a keys job leaves (--max-delete): its keys that would delete at
// a destination that keeps no versions, as one replicate-deletes job whose objects are those
// deletes, and (a percentage limit) the keys it judged as a delete-scope job, the base of the
// percentage. Both parked: Worker::AdvanceRun unparks them once every keys job is done, and
// only when the run's deletes are within its limit (jobs/delete_guard.h).
void ParkDeletes(const JobContext& ctx, const std::vector<std::pair<std::string, uint64_t>>& keys,
                 uint64_t judged, std::vector<JobSpec>& more) {
  const jobs::Job& j = ctx.claimed.job;
  if (!keys.empty()) {
    JobSpec d;
    d.run = j.spec.run;
    d.kind = jobs::kReplicateDeletesKind;
    std::vector<KeyVersions> batch;
    for (const auto& [key, deletes] : keys) {
      batch.push_back(KeyVersions{.key = key, .versions = {}});
      d.objects += deletes;
    }
    d.payload = EncodeKeyBatch(batch);
    d.max_attempts = j.spec.max_attempts;
    d.not_before = jobs::kParked;
    more.push_back(std::move(d));
  }
  if (ctx.run.options.max_delete.kind == plan::DeleteLimit::Kind::kPercent && judged > 0) {
    JobSpec scope;
    scope.run = j.spec.run;
    scope.kind = jobs::kDeleteScopeKind;
    scope.payload = "{}";
    scope.objects = judged;
    scope.max_attempts = j.spec.max_attempts;
    scope.not_before = jobs::kParked;
    more.push_back(std::move(scope));
  }
}

class ReplicateKeysHandler : public jobs::JobHandler {
 public:
  ReplicateKeysHandler(PassStats* totals, Mode mode)
      : totals_(totals), mode_(mode), events_(mode != Mode::kKeys) {}

  std::string_view name() const override {
    switch (mode_) {
      case Mode::kEvent: return kReplicateEventKind;
      case Mode::kPack: return kReplicatePackKind;
      case Mode::kDeletes: return jobs::kReplicateDeletesKind;
      case Mode::kKeys: break;
    }
    return kReplicateKeysKind;
  }
  // The keys parked for the delete phase run after every keys job (jobs/delete_guard.h).
  int phase() const override { return mode_ == Mode::kDeletes ? 1 : 0; }
  // A worker that takes a pass's keys takes what they park: the deletes and the counts parked
  // beside them would otherwise hold the run.
  std::vector<std::string_view> companions() const override {
    if (mode_ == Mode::kKeys) return {jobs::kReplicateDeletesKind, jobs::kDeleteScopeKind};
    if (mode_ == Mode::kDeletes) return {jobs::kDeleteScopeKind};
    return {};
  }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return false; }
  // An event's job comes whenever its event does, in no round of the run's scans.
  bool outside_rounds() const override { return events_; }
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
      result.outcome = OutcomeOf(s.WithContext(std::string(name())), j.attempts);
      result.more.clear();
    } else if (mode_ == Mode::kEvent && stats.busy.load() > 0) {
      // A busy key is no failure: the job waits its turn without using up an attempt.
      Clock& clock = ClockOr(ctx.options.clock);
      result.outcome.kind = jobs::Outcome::Kind::kWait;
      result.outcome.error = "its key is being written by another job";
      result.outcome.retry_after = BusyKeyWait(j, clock.Now());
    }
    return result;
  }

 private:
  // The keys of the job with their versions: its batch, its event's key listed now, or the
  // keys of the versions waiting to be packed listed now (`*cut`: a batch's limit left some).
  Result<std::vector<KeyVersions>> Keys(JobContext& ctx, const ReplicationRun& r,
                                        const PackBatching& batching, bool* cut) const {
    if (mode_ == Mode::kKeys) return DecodeKeyBatch(ctx.claimed.job.spec.payload);
    if (mode_ == Mode::kPack) return WaitingKeys(ctx, r, batching, cut);
    if (mode_ == Mode::kDeletes) {
      // Listed now, not as the scan saw them: the run waited for every other key first, and a
      // delete is made only on the source's current facts (an undelete since is no delete).
      FERRY_ASSIGN_OR_RETURN(std::vector<KeyVersions> parked,
                             DecodeKeyBatch(ctx.claimed.job.spec.payload));
      std::vector<std::string> names;
      for (KeyVersions& k : parked) names.push_back(std::move(k.key));
      return ListNow(ctx, r, names);
    }
    FERRY_ASSIGN_OR_RETURN(EventWork work, DecodeEventWork(ctx.claimed.job.spec.payload));
    FERRY_ASSIGN_OR_RETURN(KeyVersions listed, ListKeyVersions(*r.source, work.key, ctx.cancel));
    std::vector<KeyVersions> keys;
    if (!listed.versions.empty()) keys.push_back(std::move(listed));
    return keys;
  }

  Status Replicate(JobContext& ctx, PassStats& stats, std::vector<JobSpec>& unpacks) const {
    FERRY_ASSIGN_OR_RETURN(std::shared_ptr<const ReplicationRun> r,
                           ReplicationOfJob(ctx));
    const PackBatching batching = BatchingOf(*r->options.rules);
    const bool locking = ctx.run.run.spec.continuous;
    if (locking && mode_ == Mode::kEvent) {
      // The key is taken before it is listed: while another job holds it, a waiting event's
      // job costs one statement, not a listing at the source. ReplicateKeys finds it held.
      FERRY_ASSIGN_OR_RETURN(EventWork work, DecodeEventWork(ctx.claimed.job.spec.payload));
      FERRY_ASSIGN_OR_RETURN(
          bool held, ctx.store.LockKey(ctx.claimed.lease, r->options.source_name, work.key));
      if (!held) {
        stats.busy += 1;
        return Status::Ok();
      }
    }
    bool cut = false;
    FERRY_ASSIGN_OR_RETURN(std::vector<KeyVersions> keys, Keys(ctx, *r, batching, &cut));
    if (cut) unpacks.push_back(PackJob(ctx, kPackNow, std::chrono::seconds(0)));
    if (keys.empty()) return Status::Ok();  // the key has no version left: nothing to do
    PassOptions o = r->options;
    o.executor = ctx.options.executor;  // the worker's: its workers and its ByteBudget
    jobs::LeaseFence fence(ctx);
    o.before_write = [&fence] { return fence.Check(); };
    // One job at a time writes a key: in a continuous run (ferry serve) an event's job and a
    // scan's may both hold it. A pass's keys jobs hold disjoint keys: no lock, no transaction.
    TransportCollector collected;
    const bool queue = mode_ == Mode::kEvent && batching.enabled() && !r->staging.empty();
    if (locking) {
      o.scan_repairs = !events_;  // a scan's keys job writes what events should have brought
      o.lock_key = [&ctx, scope = o.source_name](const std::string& key) {
        return ctx.store.LockKey(ctx.claimed.lease, scope, key);
      };
      // A key with versions collected for packing stays held until their rows say "packed
      // in" (after Pack): another job that took it meanwhile would find them unrecorded and
      // pack them a second time. Locks not given back are freed with the lease.
      o.unlock_key = [&ctx, &collected, queue, scope = o.source_name](const std::string& key) {
        if (!queue && collected.Has(key)) return;
        (void)ctx.store.UnlockKey(ctx.claimed.lease, scope, key);
      };
    }
    // A large version's parts are checkpointed under the job's lease: a kill or a lost lease
    // costs only the parts in flight (the job's next holder resumes the upload).
    o.journal = [&ctx](const std::string& destination, const std::string& key) {
      return std::make_shared<jobs::StoreJournal>(ctx.store, ctx.claimed.lease,
                                                  jobs::UploadRef{destination, key},
                                                  ctx.lease_lost);
    };
    // (Event jobs are `ferry serve`'s: its runs are continuous. A queued version's row is
    // recorded while its key is held, so the key is given back at once.)
    if (!r->staging.empty()) {
      o.transported = &collected;
      o.queue_transported = queue;
      o.in_transit = InTransit(*r->archives, ArchiveKeys(ctx));
    }
    // --max-delete: a key whose pass would delete waits for the run's delete phase.
    std::vector<std::pair<std::string, uint64_t>> deferred;
    const uint64_t judged = keys.size();
    if (mode_ == Mode::kKeys && ctx.run.options.max_delete.enabled()) {
      o.defer_deletes = [&deferred](const std::string& key, uint64_t deletes) {
        deferred.emplace_back(key, deletes);
      };
    }
    FERRY_RETURN_IF_ERROR(
        ReplicateKeys(o, r->scope, std::move(keys), stats, ctx.cancel));
    if (o.defer_deletes) ParkDeletes(ctx, deferred, judged, unpacks);
    // Keys another job held: a pack job comes back for them (their rows still wait).
    if (mode_ == Mode::kPack && stats.busy.load() > 0 && !cut) {
      unpacks.push_back(PackJob(ctx, kPackNow, kBusyKeyRetry));
    }
    if (collected.size() == 0) return Status::Ok();
    if (queue) return QueuePack(ctx, *r, batching, unpacks);
    FERRY_RETURN_IF_ERROR(Pack(ctx, *r, o, collected, stats, unpacks));
    if (locking) {
      for (const std::string& key : collected.Keys()) {
        (void)ctx.store.UnlockKey(ctx.claimed.lease, o.source_name, key);
      }
    }
    return Status::Ok();
  }

  // The waiting versions of the run (QueuedMessage rows), the longest waiting first, up to a
  // batch, and their keys listed now. A waiting row whose version the source no longer has
  // (deleted before it was packed) is forgotten, unless written again since it was read: else
  // the longest-waiting rows would be the same unpackable ones for every pack job after.
  static Result<std::vector<KeyVersions>> WaitingKeys(JobContext& ctx, const ReplicationRun& r,
                                                      const PackBatching& b, bool* cut) {
    const uint64_t objects = std::max<uint64_t>(1, b.objects);
    FERRY_ASSIGN_OR_RETURN(
        std::vector<VersionStatus> waiting,
        r.status->PendingWithMessage(r.options.source_name, QueuedMessage(),
                                     static_cast<int64_t>(objects) + 1));
    std::vector<std::string> order;
    std::set<std::string> seen;
    uint64_t taken = 0;
    uint64_t bytes = 0;
    for (const VersionStatus& row : waiting) {
      if (taken >= objects || (b.bytes > 0 && taken > 0 && bytes >= b.bytes)) {
        *cut = true;
        waiting.resize(taken);
        break;
      }
      ++taken;
      bytes += static_cast<uint64_t>(std::max<int64_t>(0, row.size));
      if (seen.insert(row.key).second) order.push_back(row.key);
    }
    FERRY_ASSIGN_OR_RETURN(std::vector<KeyVersions> keys, ListNow(ctx, r, order));
    std::set<std::pair<std::string, std::string>> at_source;  // (key, version id)
    for (const KeyVersions& versions : keys) {
      for (const storage::ObjectInfo& v : versions.versions) {
        at_source.emplace(versions.key, VersionName(v));
      }
    }
    for (const VersionStatus& row : waiting) {
      if (at_source.count({row.key, row.source_version}) > 0) continue;
      FERRY_RETURN_IF_ERROR(r.status->ForgetPendingWithMessage(row, QueuedMessage()).status());
    }
    return keys;
  }

  // The versions of `names` listed now, one listing per key as tasks of the process's executor
  // (a batch holds up to batch_objects keys: one after another they took 20 s for 500 keys on
  // the RGW pair). Keys without a version left are left out.
  static Result<std::vector<KeyVersions>> ListNow(JobContext& ctx, const ReplicationRun& r,
                                                  const std::vector<std::string>& names) {
    std::vector<std::optional<Result<KeyVersions>>> listed(names.size());
    auto list = [&](size_t i) {
      listed[i].emplace(ListKeyVersions(*r.source, names[i], ctx.cancel));
    };
    if (ctx.options.executor != nullptr) {
      transfer::RunAll(*ctx.options.executor, names.size(), list);
    } else {
      for (size_t i = 0; i < names.size(); ++i) list(i);
    }
    std::vector<KeyVersions> keys;
    for (std::optional<Result<KeyVersions>>& one : listed) {
      if (!one) return Status::Cancelled("job interrupted while listing its keys");
      FERRY_ASSIGN_OR_RETURN(KeyVersions versions, std::move(*one));
      if (!versions.versions.empty()) keys.push_back(std::move(versions));
    }
    return keys;
  }

  // A pack job of the run, due `after` from now, under `coalesce` (one waits per key).
  static JobSpec PackJob(const JobContext& ctx, const char* coalesce,
                         std::chrono::seconds after) {
    Clock& clock = ClockOr(ctx.options.clock);
    JobSpec pack;
    pack.run = ctx.run.run.id;
    pack.kind = kReplicatePackKind;
    pack.payload = "{}";
    pack.max_attempts = ctx.claimed.job.spec.max_attempts;
    pack.coalesce_key = coalesce;
    if (after.count() > 0) pack.not_before = clock.Now() + after;
    return pack;
  }

  // An event's versions recorded waiting: the run's pack job, due max_delay after the first
  // version waited (a waiting one keeps its time), and one due at once when a batch waits.
  static Status QueuePack(JobContext& ctx, const ReplicationRun& r, const PackBatching& b,
                          std::vector<JobSpec>& more) {
    more.push_back(PackJob(ctx, kPackLater, b.max_delay));
    FERRY_ASSIGN_OR_RETURN(
        auto waiting, r.status->CountPendingWithMessage(r.options.source_name, QueuedMessage(),
                                                        static_cast<int64_t>(b.objects)));
    if (static_cast<uint64_t>(waiting.first) >= b.objects ||
        static_cast<uint64_t>(waiting.second) >= b.bytes) {
      more.push_back(PackJob(ctx, kPackNow, std::chrono::seconds(0)));
    }
    return Status::Ok();
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
    stats.failed += packed.refused;  // recorded FAILED by PackTransported
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
  const Mode mode_;
  const bool events_;  // replicate-event or replicate-pack: outside the run's rounds
};

}  // namespace

std::shared_ptr<const jobs::JobHandler> MakeReplicateKeysHandler(PassStats* totals) {
  return std::make_shared<ReplicateKeysHandler>(totals, Mode::kKeys);
}

std::shared_ptr<const jobs::JobHandler> MakeReplicateEventHandler(PassStats* totals) {
  return std::make_shared<ReplicateKeysHandler>(totals, Mode::kEvent);
}

std::shared_ptr<const jobs::JobHandler> MakeReplicatePackHandler(PassStats* totals) {
  return std::make_shared<ReplicateKeysHandler>(totals, Mode::kPack);
}

std::shared_ptr<const jobs::JobHandler> MakeReplicateDeletesHandler(PassStats* totals) {
  return std::make_shared<ReplicateKeysHandler>(totals, Mode::kDeletes);
}

}  // namespace ferry::replicate
