// The "unpack" kind in a replication pass (kinds.h: RunTransportedUnpack): one staged archive
// of the pass's compressed transport into one destination, through the pass's status store.
//
// Every write that makes a version visible passes the job's LeaseFence (jobs/kinds/
// lease_fence.h): a worker cut off from the state database writes nothing more once another
// may have taken the job.
#include "jobs/kinds/lease_fence.h"
#include "obs/log.h"
#include "replicate/kinds/kinds.h"
#include "replicate/kinds/replicate_run.h"
#include "replicate/payload.h"
#include "replicate/transport.h"

namespace ferry::replicate {

using jobs::JobResult;

JobResult RunTransportedUnpack(jobs::JobContext& ctx) {
  const jobs::Job& j = ctx.claimed.job;
  auto u = DecodeTransportUnpack(j.spec.payload);
  if (!u.ok()) return jobs::FailedAtOnce(u.status());
  auto r = ReplicationOfJob(ctx);
  if (!r.ok()) return jobs::EndedWith(r.status(), j.attempts);
  auto staging = (*r)->staging.find(u->staging);
  auto dst = (*r)->options.destinations.find(u->destination);
  if (staging == (*r)->staging.end() || dst == (*r)->options.destinations.end() ||
      (*r)->archives == nullptr) {
    const Status s = Status::InvalidArgument("unpack of " + u->archive + ": the pass has no " +
                                             "transport to " + u->destination + " through " +
                                             u->staging);
    return jobs::FailedAtOnce(s);
  }
  jobs::LeaseFence fence(ctx);
  auto done = UnpackTransported(
      *u,
      TransportedUnpackSides{.staging = *staging->second,
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
    return jobs::EndedWith(s, j.attempts);
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

}  // namespace ferry::replicate
