// A cache location opened, and a warm queued (cache_open.h).
#include "app/cache_open.h"

#include <filesystem>

#include "app/notify_run.h"
#include "app/state_files.h"
#include "jobs/job_report.h"
#include "jobs/payload.h"
#include "state/state.h"

namespace ferry::app {

std::string CacheName(const Location& loc) {
  if (!loc.is_s3()) {
    std::error_code ec;
    auto abs = std::filesystem::weakly_canonical(loc.path, ec);
    return "file://" + (ec ? loc.path : abs.string());
  }
  return (loc.remote.empty() ? std::string("s3") : loc.remote) + "://" + loc.bucket + "/" +
         loc.prefix;
}

std::string CacheStateUrl(const std::string& state) {
  return state.empty() ? StateDir() + "/cache.db" : state;
}

Result<OpenedCache> OpenCache(Wiring& wiring, const std::string& cache_location,
                              const std::string& state, Clock& clock, std::stop_token stop) {
  if (cache_location.empty()) {
    return Status::InvalidArgument("--cache: the cache location is required");
  }
  FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(cache_location));
  OpenedCache o;
  o.cache_name = CacheName(loc);
  FERRY_ASSIGN_OR_RETURN(o.cache, wiring.OpenBackend(loc, /*create_local=*/true));
  if (Status s = o.cache->Check(stop); !s.ok()) return s.WithContext("cache");
  FERRY_ASSIGN_OR_RETURN(o.session, state::OpenSession(CacheStateUrl(state), clock));
  FERRY_ASSIGN_OR_RETURN(o.index, cache::CacheIndex::Open(*o.session, clock, o.cache_name));
  o.locks = std::make_unique<cache::PrefixLocks>(*o.session, clock, o.cache_name);
  return o;
}

Result<jobs::RunId> QueueWarmRun(jobs::JobStore& store, const std::string& source,
                                 const std::string& cache_location, const cache::WarmJob& job,
                                 std::vector<notify::Target> targets,
                                 const jobs::ReportOptions& report) {
  jobs::RunOptions ro;
  ro.command = cache::kWarmCommand;
  ro.report = report;
  jobs::JobSpec spec;
  spec.kind = cache::kWarmKind;
  spec.payload = cache::EncodeWarmJob(job);
  spec.max_attempts = ro.max_attempts;
  // The run with its job and its notification targets, in one transaction (JobStore::CreateRun).
  FERRY_ASSIGN_OR_RETURN(jobs::NewRunStep with_targets, RunTargetsStep(store, std::move(targets)));
  std::vector<jobs::JobSpec> first{spec};
  if (report.wanted()) first.push_back(jobs::ReportSummaryJob());
  return store.CreateRun(jobs::RunSpec{source, cache_location, jobs::EncodeRunOptions(ro)},
                         first, with_targets);
}

}  // namespace ferry::app
