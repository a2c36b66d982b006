// Internals of `ferry cache` (cache.cc: the subcommands and what they share; cache_warm.cc:
// warm; cache_maintain.cc: expire, serve, verify).
#pragma once

#include <memory>
#include <stop_token>
#include <string>

#include "app/cache_open.h"
#include "app/location.h"
#include "app/wiring.h"
#include "cache/cache.h"
#include "cache/kinds/warm_kind.h"
#include "cli/commands.h"
#include "jobs/job_store.h"
#include "state/sql_session.h"
#include "storage/backend.h"

namespace ferry::cli::cache_cmd {

// What every cache subcommand opens (app/cache_open.h, shared with serve's cache roles and
// scheduled warms): the cache location's backend (checked), the state database and the
// cache's index and locks; from Open, also the config's wiring.
using Opened = app::OpenedCache;

// Opens them with the config of `ctx`; errors are one line (kInvalidArgument for a malformed
// location or state URL, the backend's Check error for an unknown bucket, prefixed with "cache").
Result<Opened> Open(Context& ctx, const std::string& cache_location, const std::string& state);
// Opens and checks another location (the source) through the same wiring.
Result<std::unique_ptr<storage::Backend>> OpenChecked(Context& ctx, app::Wiring& wiring,
                                                      const std::string& location,
                                                      const char* role);

void RegisterWarm(CLI::App* cache, Context& ctx);      // cache_warm.cc
void RegisterMaintain(CLI::App* cache, Context& ctx);  // cache_maintain.cc: expire, serve, verify

// "--state" help text (the default database: app::CacheStateUrl).
extern const char kStateHelp[];

}  // namespace ferry::cli::cache_cmd
