// A cache location opened as `ferry cache` and serve's cache roles ([[serve.cache]]) and
// scheduled warms ([[schedules]] command = "cache-warm") open it (docs/design/cache.md): the
// location's backend (checked), the state database with the cache's index and locks, and a
// warm queued as a durable run for a worker to serve. Thread-safety: one call per thread.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "app/location.h"
#include "app/wiring.h"
#include "base/clock.h"
#include "base/status.h"
#include "cache/cache.h"
#include "cache/kinds/warm_kind.h"
#include "jobs/job_store.h"
#include "jobs/payload.h"
#include "notify/target.h"
#include "state/sql_session.h"
#include "storage/backend.h"

namespace ferry::app {

// A cache, opened. Members are destroyed in reverse order: the index and locks before their
// session, the backend before the wiring that made it.
struct OpenedCache {
  std::unique_ptr<Wiring> wiring;  // null from OpenCache (the caller's wiring); the CLI's own
  std::unique_ptr<storage::Backend> cache;
  std::string cache_name;  // the index's name of the cache location
  std::unique_ptr<state::SqlSession> session;
  std::unique_ptr<cache::CacheIndex> index;
  std::unique_ptr<cache::PrefixLocks> locks;
};

// The cache index's name for a location: one name whatever the spelling ("ra:b" and "ra:b/").
std::string CacheName(const Location& loc);

// The state database of a cache: `state`, else StateDir()/cache.db.
std::string CacheStateUrl(const std::string& state);

// Opens `cache_location` (created when it is a local folder, then checked: "cache: ...") and the
// cache's index and locks in the database at CacheStateUrl(state), through `wiring`, which must
// outlive the result; the index, locks and session read time from `clock` (which must too).
// Errors are one line (kInvalidArgument for an empty or malformed location or a bad state URL).
Result<OpenedCache> OpenCache(Wiring& wiring, const std::string& cache_location,
                              const std::string& state, Clock& clock, std::stop_token stop);

// A cache warm queued as a run of `store` with its one cache-warm job (cache/kinds/warm_kind.h)
// and the targets told of its end (app/notify_run.h), created in one transaction, for a worker
// of the store to serve: `ferry cache warm --detach` and serve's scheduled warms. `report`
// (--report): the run carries it and its summary job (jobs/job_report.h); the warm job's
// attempts write its rows.
Result<jobs::RunId> QueueWarmRun(jobs::JobStore& store, const std::string& source,
                                 const std::string& cache_location, const cache::WarmJob& job,
                                 std::vector<notify::Target> targets,
                                 const jobs::ReportOptions& report = {});

}  // namespace ferry::app
