// ferry ls LOCATION: every object under a location, one line each:
//   <size> <mtime RFC3339> <etag or -> <key>
// With --json: one JSON object per line (key, size, etag, mtime_ns, storage_class).
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/wiring.h"
#include "cli/commands.h"
#include "transfer/prefetch_cursor.h"

namespace ferry::cli {
namespace {

struct ListArgs {
  std::string location;
  bool json = false;
};

int Run(const ListArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto loc = app::ParseLocation(a.location);
  if (!loc.ok()) return ReportError(loc.status());
  app::Wiring wiring(std::move(config).value());
  auto backend = wiring.OpenBackend(*loc, false);
  if (!backend.ok()) return ReportError(backend.status());
  if (Status s = (*backend)->Check(ctx.stop); !s.ok()) return ReportError(s);
  auto cursor = (*backend)->List("");
  if (!cursor.ok()) return ReportError(cursor.status());
  // One write per 64 KiB of lines, on a terminal too (stdio writes a terminal line by line);
  // the rest is written by the fflush below, or by exit.
  static char buffer[64 * 1024];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  // The next page is requested while this one is printed.
  transfer::PrefetchCursor listing(std::move(cursor).value());
  for (;;) {
    auto next = listing.Next();
    if (!next.ok()) {
      std::fflush(stdout);  // what was listed before the error comes first
      return ReportError(next.status());
    }
    const storage::ObjectInfo* o = *next;
    if (o == nullptr) break;
    if (o->not_followed) continue;  // a symbolic link to a folder: not entered
    const auto ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(o->mtime.time_since_epoch()).count();
    if (a.json) {
      nlohmann::json j = {{"key", o->key},     {"size", o->size},
                          {"etag", o->etag},   {"mtime_ns", ns},
                          {"storage_class", o->storage_class}};
      std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    } else {
      const std::time_t secs = std::chrono::system_clock::to_time_t(o->mtime);
      std::tm tm{};
      gmtime_r(&secs, &tm);
      char when[32];
      std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
      std::printf("%12llu %s %s %s\n", static_cast<unsigned long long>(o->size), when,
                  o->etag.empty() ? "-" : o->etag.c_str(), o->key.c_str());
    }
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace

void RegisterList(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<ListArgs>();
  CLI::App* ls = app.add_subcommand("ls", "list objects under a location");
  ls->add_option("LOCATION", args->location, "s3://bucket/prefix, NAME:bucket/prefix or a folder")
      ->required();
  ls->add_flag("--json", args->json, "one JSON object per line");
  ls->callback([args, &ctx] { ctx.exit_code = Run(*args, ctx); });
}

}  // namespace ferry::cli
