// The "unpack" kind (compressed runs, src/transport): streams one staged archive into the
// run's destination (only the entries meant for the run's region), checked, then deletes it
// from staging. Its progress lives in the archive progress store (transport/store.h) of the
// state database, so a retry after a crash resumes where it stopped without writing an entry
// twice (transport/unpack.h). Served by `ferry worker --role unpack --region NAME` near the
// destination, or by the worker of `ferry sync --compress` itself.
//
// Every write that makes an entry visible passes the job's LeaseFence (lease_fence.h): a worker
// cut off from the state database writes nothing more once another may have taken the job.
//
// In a replication pass (command "replicate"), an unpack job is one archive for one of the
// pass's transported destinations (replicate/transport.h): its versions are written in order
// and recorded COMPLETED in the status store; the archive goes once every destination's unpack
// is done.
#include "jobs/kinds/lease_fence.h"
#include "jobs/kinds/registry.h"
#include "jobs/kinds/replicate_run.h"
#include "jobs/worker_internal.h"
#include "obs/log.h"
#include "replicate/payload.h"
#include "replicate/transport.h"
#include "transport/staging_requests.h"
#include "transport/store.h"
#include "transport/unpack.h"

namespace ferry::jobs {
namespace {

class UnpackHandler : public JobHandler {
 public:
  std::string_view name() const override { return kUnpackKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return false; }
  // One PUT at a time per archive: a worker holds several.
  size_t ObjectsInFlight(const Job&, const RunContext&,
                         const WorkerOptions& options) const override {
    return static_cast<size_t>(std::max(1, options.concurrency / 8));
  }

  JobResult Run(JobContext& ctx) const override {
    const Job& j = ctx.claimed.job;
    if (ctx.run.options.command == "replicate") return RunReplicated(ctx);
    auto payload = DecodeUnpack(j.spec.payload);
    if (!payload.ok()) {
      return JobResult{.outcome = OutcomeOf(payload.status(), 1 << 20), .more = {}};
    }
    RunContext& run = ctx.run;
    const TransportOptions& t = run.options.transport;
    // A run packed for several regions has one unpack job (and one progress row) per region:
    // this job's region is its own.
    const bool several = transport::RegionList(t.region).size() > 1;
    const std::string region = several ? j.spec.region : t.region;
    transport::StoreUnpackJournal journal(
        *run.archives,
        transport::ArchiveRow{.staging = t.staging,
                              .archive = payload->archive,
                              .destination = transport::RegionDestination(
                                  run.run.spec.destination, region, several),
                              .state = transport::ArchiveState::kUnpacking,
                              .entries = payload->objects,
                              .written = 0,
                              .archive_bytes = 0,
                              .updated_ns = 0});
    transport::UnpackOptions o;
    o.executor = ctx.options.executor;  // the process's: the writes are its tasks
    o.region = region;
    o.storage_class = run.options.storage_class;
    o.part_size = std::max<uint64_t>(run.options.part_size, 5ull << 20);
    LeaseFence fence(ctx);
    o.before_write = [&fence] { return fence.Check(); };
    auto r = transport::UnpackArchive(*run.staging, payload->archive, *run.dst, journal, o,
                                      ctx.cancel);
    if (!r.ok()) {
      const Status s = r.status().WithContext("unpacking " + payload->archive);
      obs::Log(obs::Level::kWarn, "unpack failed", {{"error", s.message()}});
      return JobResult{.outcome = OutcomeOf(s, j.attempts), .more = {}};
    }
    ctx.stats.archives_unpacked += 1;
    ctx.stats.entries_verified += r->checksums_verified;
    ctx.stats.entries_already_present += r->already_present;
    ctx.stats.objects_copied += r->written + r->already_present;
    ctx.stats.bytes_copied += r->bytes_written;
    ctx.stats.bytes_moved += r->bytes_written;
    // The archive's reads (none when it was gone already: a crash after its delete).
    const uint64_t staging_gets =
        r->archive_missing ? 0 : transport::ArchiveReadRequests(r->archive_bytes).get;
    ctx.stats.transport_extra_gets += staging_gets;
    if (ctx.options.verbose) {
      obs::Log(obs::Level::kInfo, "unpacked",
               {{"archive", payload->archive}, {"written", r->written},
                {"already_present", r->already_present}, {"bytes", r->bytes_written},
                {"staging_gets", staging_gets}});
    }
    return JobResult{};
  }

 private:
  static JobResult RunReplicated(JobContext& ctx) {
    const Job& j = ctx.claimed.job;
    auto u = replicate::DecodeTransportUnpack(j.spec.payload);
    if (!u.ok()) return JobResult{.outcome = OutcomeOf(u.status(), 1 << 20), .more = {}};
    auto r = ReplicationOfJob(ctx);
    if (!r.ok()) return JobResult{.outcome = OutcomeOf(r.status(), j.attempts), .more = {}};
    auto staging = (*r)->staging.find(u->staging);
    auto dst = (*r)->options.destinations.find(u->destination);
    if (staging == (*r)->staging.end() || dst == (*r)->options.destinations.end() ||
        (*r)->archives == nullptr) {
      const Status s = Status::InvalidArgument("unpack of " + u->archive + ": the pass has no " +
                                               "transport to " + u->destination + " through " +
                                               u->staging);
      return JobResult{.outcome = OutcomeOf(s, 1 << 20), .more = {}};
    }
    LeaseFence fence(ctx);
    auto done = replicate::UnpackTransported(
        *u,
        replicate::TransportedUnpackSides{.staging = *staging->second,
                                          .dst = *dst->second,
                                          .status = *(*r)->status,
                                          .archives = *(*r)->archives,
                                          .source_name = (*r)->pass.source,
                                          .before_write = [&fence] { return fence.Check(); },
                                          .executor = ctx.options.executor,
                                          .clock = (*r)->options.clock},
        ctx.cancel);
    if (!done.ok()) {
      const Status s = done.status().WithContext("unpacking " + u->archive + " into " +
                                                 u->destination);
      obs::Log(obs::Level::kWarn, "unpack failed", {{"error", s.message()}});
      return JobResult{.outcome = OutcomeOf(s, j.attempts), .more = {}};
    }
    ctx.stats.archives_unpacked += 1;
    ctx.stats.entries_verified += done->checksums_verified;
    ctx.stats.entries_already_present += done->already_present;
    ctx.stats.bytes_moved += done->bytes_written;
    if (ctx.options.verbose) {
      obs::Log(obs::Level::kInfo, "unpacked",
               {{"archive", u->archive}, {"destination", u->destination},
                {"written", done->written}, {"already_present", done->already_present},
                {"bytes", done->bytes_written}, {"deleted", done->archive_deleted}});
    }
    return JobResult{};
  }
};

}  // namespace

std::shared_ptr<const JobHandler> MakeUnpackHandler() {
  return std::make_shared<UnpackHandler>();
}

}  // namespace ferry::jobs
