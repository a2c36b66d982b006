// ferry cache: fill a fast cache location from a source with a TTL (warm), delete what expired
// (expire, serve), and mend index and cache (verify). See docs/design/cache.md.
#include <filesystem>

#include "app/location.h"
#include "app/state_files.h"
#include "cli/commands/cache_internal.h"
#include "state/state.h"

namespace ferry::cli {
namespace cache_cmd {

std::string CacheName(const app::Location& loc) {
  if (!loc.is_s3()) {
    std::error_code ec;
    auto abs = std::filesystem::weakly_canonical(loc.path, ec);
    return "file://" + (ec ? loc.path : abs.string());
  }
  return (loc.remote.empty() ? std::string("s3") : loc.remote) + "://" + loc.bucket + "/" +
         loc.prefix;
}

const char kStateHelp[] =
    "state database holding the cache index and locks (SQLite path or postgres://...; "
    "default: cache.db in ferry's state folder)";

std::string StateOrDefault(const std::string& state) {
  return state.empty() ? app::StateDir() + "/cache.db" : state;
}

Result<std::unique_ptr<storage::Backend>> OpenChecked(Context& ctx, app::Wiring& wiring,
                                                      const std::string& location,
                                                      const char* role) {
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(location));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> backend,
                         wiring.OpenBackend(loc, /*create_local=*/false));
  if (Status s = backend->Check(ctx.stop); !s.ok()) return s.WithContext(role);
  return backend;
}

Result<Opened> OpenWith(app::Wiring& wiring, const std::string& cache_location,
                        const std::string& state, std::stop_token stop) {
  if (cache_location.empty())
    return Status::InvalidArgument("--cache: the cache location is required");
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(cache_location));
  Opened o;
  o.cache_name = CacheName(loc);
  FERRY_ASSIGN_OR_RETURN(o.cache, wiring.OpenBackend(loc, /*create_local=*/true));
  if (Status s = o.cache->Check(stop); !s.ok()) return s.WithContext("cache");
  const std::string url = StateOrDefault(state);
  FERRY_ASSIGN_OR_RETURN(o.session, state::OpenSession(url, SystemClock::Default()));
  FERRY_ASSIGN_OR_RETURN(o.index,
                         cache::CacheIndex::Open(*o.session, SystemClock::Default(), o.cache_name));
  o.locks = std::make_unique<cache::PrefixLocks>(*o.session, SystemClock::Default(), o.cache_name);
  return o;
}

Result<Opened> Open(Context& ctx, const std::string& cache_location, const std::string& state) {
  if (cache_location.empty())
    return Status::InvalidArgument("--cache: the cache location is required");
  FERRY_ASSIGN_OR_RETURN(app::Config config, app::LoadConfig(ctx.global.config_path));
  auto wiring = std::make_unique<app::Wiring>(std::move(config));
  FERRY_ASSIGN_OR_RETURN(Opened o, OpenWith(*wiring, cache_location, state, ctx.stop));
  o.wiring = std::move(wiring);
  return o;
}

}  // namespace cache_cmd

void RegisterCache(CLI::App& app, Context& ctx) {
  CLI::App* cache = app.add_subcommand(
      "cache", "fill a fast cache location from a source with a TTL, expire it, verify it");
  cache->require_subcommand(1);
  cache_cmd::RegisterWarm(cache, ctx);
  cache_cmd::RegisterMaintain(cache, ctx);
}

}  // namespace ferry::cli
