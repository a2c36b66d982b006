// ferry cache: fill a fast cache location from a source with a TTL (warm), delete what expired
// (expire, serve), and mend index and cache (verify). See docs/design/cache.md.
#include "app/cache_open.h"
#include "app/location.h"
#include "base/clock.h"
#include "cli/commands/cache_internal.h"

namespace ferry::cli {
namespace cache_cmd {

const char kStateHelp[] =
    "state database holding the cache index and locks (SQLite path or postgres://...; "
    "default: cache.db in ferry's state folder)";

Result<std::unique_ptr<storage::Backend>> OpenChecked(Context& ctx, app::Wiring& wiring,
                                                      const std::string& location,
                                                      const char* role) {
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(location));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::Backend> backend,
                         wiring.OpenBackend(loc, /*create_local=*/false));
  if (Status s = backend->Check(ctx.stop); !s.ok()) return s.WithContext(role);
  return backend;
}

Result<Opened> Open(Context& ctx, const std::string& cache_location, const std::string& state) {
  if (cache_location.empty())
    return Status::InvalidArgument("--cache: the cache location is required");
  FERRY_ASSIGN_OR_RETURN(app::Config config, app::LoadConfig(ctx.global.config_path));
  auto wiring = std::make_unique<app::Wiring>(std::move(config));
  FERRY_ASSIGN_OR_RETURN(Opened o, app::OpenCache(*wiring, cache_location, state,
                                                  SystemClock::Default(), ctx.stop));
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
