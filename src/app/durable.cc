#include "app/durable.h"

#include <chrono>
#include <cstdio>

namespace ferry::app {

jobs::BackendOpener OpenerFor(Wiring& wiring) {
  return [&wiring](const std::string& text,
                   bool destination) -> Result<std::unique_ptr<storage::Backend>> {
    FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(text));
    return wiring.OpenBackend(loc, destination);
  };
}

Result<uint64_t> AbortAbandonedUploads(storage::Backend& dst, jobs::TimePoint before,
                                       std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(auto pending, dst.ListPendingUploads("", stop));
  uint64_t aborted = 0;
  for (const auto& upload : pending) {
    if (upload.started >= before) continue;
    FERRY_RETURN_IF_ERROR(dst.AbortPendingUpload(upload, stop));
    ++aborted;
  }
  return aborted;
}

Result<DurableRunResult> RunDurable(jobs::JobStore& store, Wiring& wiring,
                                    const DurableRunRequest& request, transfer::Stats& stats,
                                    std::stop_token stop) {
  const auto start = std::chrono::steady_clock::now();
  DurableRunResult result;
  FERRY_ASSIGN_OR_RETURN(auto existing,
                         store.FindUnfinishedRun(request.source, request.destination));
  if (existing) {
    result.run = existing->id;
    result.resumed = true;
    std::fprintf(stderr, "ferry: resuming run %lld (%s -> %s)\n",
                 static_cast<long long>(result.run), request.source.c_str(),
                 request.destination.c_str());
    // Jobs a killed process of this machine still holds are taken over now, not in a minute.
    FERRY_RETURN_IF_ERROR(
        jobs::Worker::ReleaseLeasesOfDeadLocalOwners(store, result.run).status());
  } else {
    jobs::RunSpec spec{request.source, request.destination,
                       jobs::EncodeRunOptions(request.options)};
    FERRY_ASSIGN_OR_RETURN(result.run, store.CreateRun(spec));
    jobs::JobSpec scan;
    scan.run = result.run;
    scan.kind = jobs::JobKind::kScan;
    scan.payload = jobs::EncodeScan(jobs::KeyRange{});
    scan.max_attempts = request.options.max_attempts;
    FERRY_RETURN_IF_ERROR(store.Enqueue({scan}).status());
  }
  if (!request.detach) {
    jobs::WorkerOptions w = request.worker;
    w.only_run = result.run;
    w.exit_when_done = true;
    jobs::Worker worker(store, OpenerFor(wiring), w, stats);
    FERRY_RETURN_IF_ERROR(worker.Run(stop, &result.progress));
  }
  FERRY_ASSIGN_OR_RETURN(result.counts, store.CountJobs(result.run));
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

}  // namespace ferry::app
