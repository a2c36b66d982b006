// The "unpack" kind (compressed runs, kinds.h): streams one staged archive into the
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
// pass's transported destinations, which replication runs its own way (replicate/kinds/kinds.h:
// RunTransportedUnpack, joined to this kind by the composition root with jobs::ByCommand).
#include "jobs/kinds/lease_fence.h"
#include "obs/log.h"
#include "transport/kinds/kinds.h"
#include "transport/staging_requests.h"
#include "transport/store.h"
#include "transport/unpack.h"

namespace ferry::transport {
namespace {

using jobs::JobContext;
using jobs::JobResult;

class UnpackHandler : public jobs::JobHandler {
 public:
  std::string_view name() const override { return kUnpackKind; }
  int phase() const override { return 0; }
  bool counts_progress() const override { return true; }
  bool uses_lister_slot() const override { return false; }
  // One PUT at a time per archive: a worker holds several.
  size_t ObjectsInFlight(const jobs::Job&, const jobs::RunContext&,
                         const jobs::WorkerOptions& options) const override {
    return static_cast<size_t>(std::max(1, options.concurrency / 8));
  }

  JobResult Run(JobContext& ctx) const override {
    const jobs::Job& j = ctx.claimed.job;
    auto payload = DecodeUnpack(j.spec.payload);
    if (!payload.ok()) {
      return jobs::FailedAtOnce(payload.status());
    }
    jobs::RunContext& run = ctx.run;
    const jobs::TransportOptions& t = run.options.transport;
    auto compressed = CompressedRunOf(run);
    if (!compressed.ok()) {
      return jobs::EndedWith(compressed.status(), j.attempts);
    }
    CompressedRun& c = **compressed;
    // A run packed for several regions has one unpack job (and one progress row) per region:
    // this job's region is its own.
    const bool several = RegionList(t.region).size() > 1;
    const std::string region = several ? j.spec.region : t.region;
    StoreUnpackJournal journal(
        *c.archives,
        ArchiveRow{.staging = t.staging,
                              .archive = payload->archive,
                              .destination = RegionDestination(
                                  run.run.spec.destination, region, several),
                              .state = ArchiveState::kUnpacking,
                              .entries = payload->objects,
                              .written = 0,
                              .archive_bytes = 0,
                              .updated_ns = 0});
    UnpackOptions o;
    o.executor = ctx.options.executor;  // the process's: the writes are its tasks
    o.region = region;
    o.storage_class = run.options.storage_class;
    o.preserve_lock = run.options.preserve_lock;  // recorded by the packs (archive format 2)
    o.part_size = std::max<uint64_t>(run.options.part_size, 5ull << 20);
    jobs::LeaseFence fence(ctx);
    o.before_write = [&fence] { return fence.Check(); };
    auto r = UnpackArchive(*c.staging, payload->archive, *run.dst, journal, o,
                                      ctx.cancel);
    if (!r.ok()) {
      const Status s = r.status().WithContext("unpacking " + payload->archive);
      obs::Log(obs::Level::kWarn, "unpack failed", {{"error", s.message()}});
      return jobs::EndedWith(s, j.attempts);
    }
    ctx.stats.archives_unpacked += 1;
    ctx.stats.entries_verified += r->checksums_verified;
    ctx.stats.entries_already_present += r->already_present;
    ctx.stats.objects_copied += r->written + r->already_present;
    ctx.stats.bytes_copied += r->bytes_written;
    ctx.stats.bytes_moved += r->bytes_written;
    // The archive's reads (none when it was gone already: a crash after its delete).
    const uint64_t staging_gets =
        r->archive_missing ? 0 : ArchiveReadRequests(r->archive_bytes).get;
    ctx.stats.transport_extra_gets += staging_gets;
    if (ctx.options.verbose) {
      obs::Log(obs::Level::kInfo, "unpacked",
               {{"archive", payload->archive}, {"written", r->written},
                {"already_present", r->already_present}, {"bytes", r->bytes_written},
                {"staging_gets", staging_gets}});
    }
    return JobResult{};
  }

};

}  // namespace

std::shared_ptr<const jobs::JobHandler> MakeUnpackHandler() {
  return std::make_shared<UnpackHandler>();
}

}  // namespace ferry::transport
