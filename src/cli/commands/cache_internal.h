// Internals of `ferry cache` (cache.cc: the subcommands and what they share; cache_warm.cc:
// warm; cache_maintain.cc: expire, serve, verify).
#pragma once

#include <memory>
#include <stop_token>
#include <string>

#include "app/location.h"
#include "app/wiring.h"
#include "cache/cache.h"
#include "cache/kinds/warm_kind.h"
#include "cli/commands.h"
#include "jobs/job_store.h"
#include "state/sql_session.h"
#include "storage/backend.h"

namespace ferry::cli::cache_cmd {

// What every cache subcommand opens: the config's wiring, the cache location's backend
// (checked), the state database and the cache's index and locks.
struct Opened {
  std::unique_ptr<app::Wiring> wiring;  // null from OpenWith (the caller's wiring)
  std::unique_ptr<storage::Backend> cache;
  std::string cache_name;  // the index's name of the cache location
  std::unique_ptr<state::SqlSession> session;
  std::unique_ptr<cache::CacheIndex> index;
  std::unique_ptr<cache::PrefixLocks> locks;
};

// The cache index's name for a location: one name whatever the spelling ("ra:b" and "ra:b/").
std::string CacheName(const app::Location& loc);

// Opens them; errors are one line (kInvalidArgument for a malformed location or state URL,
// the backend's Check error for an unknown bucket, prefixed with "cache").
Result<Opened> Open(Context& ctx, const std::string& cache_location, const std::string& state);
// The same through the caller's `wiring` (which must outlive the result): serve's cache roles.
Result<Opened> OpenWith(app::Wiring& wiring, const std::string& cache_location,
                        const std::string& state, std::stop_token stop);
// Opens and checks another location (the source) through the same wiring.
Result<std::unique_ptr<storage::Backend>> OpenChecked(Context& ctx, app::Wiring& wiring,
                                                      const std::string& location,
                                                      const char* role);

// A cache warm queued as a run of `store` with its one cache-warm job (cache/kinds/warm_kind.h),
// for a worker of the store to serve: `ferry cache warm --detach` and serve's scheduled warms.
Result<jobs::RunId> QueueWarmRun(jobs::JobStore& store, const std::string& source,
                                 const std::string& cache_location, const cache::WarmJob& job);

void RegisterWarm(CLI::App* cache, Context& ctx);      // cache_warm.cc
void RegisterMaintain(CLI::App* cache, Context& ctx);  // cache_maintain.cc: expire, serve, verify

// "--state" help text and the default database: StateDir()/cache.db.
extern const char kStateHelp[];
std::string StateOrDefault(const std::string& state);

}  // namespace ferry::cli::cache_cmd
