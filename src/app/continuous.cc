// ContinuousRun (continuous.h).
#include "app/continuous.h"

#include "app/durable.h"
#include "jobs/payload.h"
#include "jobs/worker.h"
#include "obs/log.h"
#include "replicate/kinds/kinds.h"

namespace ferry::app {
namespace {

// A scan of the whole source (its run set by the caller, or by CreateRun).
jobs::JobSpec WholeScan(int max_attempts) {
  jobs::JobSpec scan;
  scan.kind = replicate::kReplicateScanKind;
  scan.payload = jobs::EncodeScan(jobs::KeyRange{});
  scan.max_attempts = max_attempts;
  return scan;
}

Status EnqueueScan(jobs::JobStore& store, jobs::RunId run, int max_attempts) {
  jobs::JobSpec scan = WholeScan(max_attempts);
  scan.run = run;
  return store.Enqueue({scan}).status();
}

}  // namespace

Result<jobs::RunId> ContinuousRun(jobs::JobStore& store, const ContinuousRunRequest& request,
                                  std::stop_token stop) {
  const replicate::DurablePass& pass = *request.pass;
  jobs::RunOptions ro;
  ro.command = "replicate";  // a replication pass that starts over: the same kinds serve it
  ro.multipart_threshold = pass.multipart_threshold;
  ro.part_size = pass.part_size;
  ro.server_side_copy_limit = pass.server_side_copy_limit;
  FERRY_ASSIGN_OR_RETURN(std::string options,
                         replicate::EncodeDurablePass(pass, jobs::EncodeRunOptions(ro)));
  FERRY_ASSIGN_OR_RETURN(std::optional<jobs::Run> existing,
                         store.FindUnfinishedRun(pass.source, request.destination));
  if (existing && !existing->spec.continuous) {
    return Status::InvalidArgument("unfinished `ferry replicate` run " +
                                   std::to_string(existing->id) + " from " + pass.source +
                                   ": finish it (rerun it) or discard it (--restart) first");
  }
  if (existing && existing->spec.options == options &&
      existing->spec.rescan_interval == request.scan_interval) {
    FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, existing->id).status());
    if (request.scan_now) {
      // The repair scan runs at start too: what was written while no one served the source
      // (its events lost) is replicated now, not an interval later. The next round's scan is
      // brought forward; when a round is under way instead (the process that served it died in
      // it) and none of its scans waits, one more scan of the whole source joins it. Continuous
      // runs lock each key they write, so two scans of a key never both write it.
      FERRY_RETURN_IF_ERROR(store.Hasten(existing->id).status());
      FERRY_ASSIGN_OR_RETURN(jobs::RunCounts counts, store.CountJobs(existing->id));
      if (counts.of(jobs::kScanKind).of(jobs::JobState::kQueued) == 0 &&
          counts.of(replicate::kReplicateScanKind).of(jobs::JobState::kQueued) == 0) {
        FERRY_RETURN_IF_ERROR(EnqueueScan(store, existing->id, ro.max_attempts));
      }
    }
    obs::Log(obs::Level::kInfo, "serving replication run " + std::to_string(existing->id),
             {{"source", pass.source}});
    return existing->id;
  }
  if (existing) {
    // The rules or options changed: the old run ends once its jobs' leases have run out.
    FERRY_RETURN_IF_ERROR(jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, existing->id).status());
    jobs::TimePoint until{};
    FERRY_ASSIGN_OR_RETURN(uint64_t removed, store.AbandonRun(existing->id, &until));
    obs::Log(obs::Level::kWarn, "the replication config changed: ended run " +
                                    std::to_string(existing->id) + " (" +
                                    std::to_string(removed) + " jobs removed)");
    FERRY_RETURN_IF_ERROR(WaitForLeases(until, existing->id, stop));
  }
  jobs::RunSpec spec{pass.source, request.destination, options};
  spec.continuous = true;
  spec.rescan_interval =
      std::chrono::duration_cast<std::chrono::milliseconds>(request.scan_interval);
  // The run with its first scan, in one transaction (JobStore::CreateRun).
  FERRY_ASSIGN_OR_RETURN(jobs::RunId run, store.CreateRun(spec, {WholeScan(ro.max_attempts)}));
  obs::Log(obs::Level::kInfo, "started replication run " + std::to_string(run),
           {{"source", pass.source}});
  return run;
}

}  // namespace ferry::app
