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

namespace {

// The options as they decide what a run does, without the instant at which relative ages
// (--newer-than 2h) were turned into times: a rerun an hour later means the same run.
std::string Comparable(jobs::RunOptions o) {
  if (o.filter.newer_than) o.filter.newer_than = std::chrono::system_clock::time_point{};
  if (o.filter.older_than) o.filter.older_than = std::chrono::system_clock::time_point{};
  return jobs::EncodeRunOptions(o);
}

}  // namespace

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
    auto stored = jobs::DecodeRunOptions(existing->spec.options);
    if (stored.ok() && Comparable(*stored) != Comparable(request.options)) {
      // Jobs already enqueued were planned with the old options; mixing would be wrong.
      std::fprintf(stderr,
                   "ferry: warning: run %lld keeps the options it was started with; the "
                   "options given now differ and apply to a new run once this one is done\n",
                   static_cast<long long>(result.run));
    }
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
