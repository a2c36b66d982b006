// ferry cache expire --cache DST     delete cached objects past their TTL, with their entries
// ferry cache serve --cache DST      the same every --interval until interrupted
// ferry cache verify --cache DST     compare index and cache; mend both ways
#include <cstdio>
#include <string>
#include <nlohmann/json.hpp>

#include "cli/commands/cache_internal.h"
#include "obs/log.h"
#include "app/delete_limits.h"
#include "plan/filter.h"

namespace ferry::cli::cache_cmd {
namespace {

struct MaintainArgs {
  std::string cache;
  std::string state;
  bool json = false;
  std::string interval = "60s";
  std::string adopt;  // verify: the source to adopt unknown objects from
  bool delete_unknown = false;
  std::string max_delete;  // expire, serve: --max-delete N|P% of the entries held
};

// --max-delete (app/delete_limits.h) on an expiry pass, else the config's [cache] max_delete:
// the entries it would delete, of those the cache holds. Checked before the pass deletes
// anything; a serve's pass past it is refused and logged, and the next pass checks again. A bad
// flag is refused before anything is opened (`config` null: the flag alone).
Result<cache::ExpireOptions> ExpireOptionsOf(const MaintainArgs& a, const app::Config* config) {
  cache::ExpireOptions o;
  FERRY_ASSIGN_OR_RETURN(
      app::NamedDeleteLimit limit,
      app::ResolveDeleteLimit(a.max_delete,
                              config ? config->cache.max_delete : std::nullopt,
                              "[cache] max_delete"));
  o.approve = app::ExpireDeleteCheck(limit);
  return o;
}

nlohmann::json FailuresJson(const std::vector<cache::KeyFailure>& failures) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& f : failures) out.push_back({{"key", f.key}, {"error", f.error}});
  return out;
}

void PrintExpire(const cache::ExpireResult& r, bool json) {
  if (json) {
    nlohmann::json j = {{"expired", r.expired},
                        {"kept", r.kept},
                        {"failed", r.failed},
                        {"bytes", r.bytes},
                        {"failures", FailuresJson(r.failures)}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    for (const auto& f : r.failures) {
      std::printf("failed: %s: %s\n", f.key.c_str(), f.error.c_str());
    }
    std::printf("cache expire: %llu expired (%llu bytes), %llu renewed meanwhile, %llu failed\n",
                static_cast<unsigned long long>(r.expired),
                static_cast<unsigned long long>(r.bytes), static_cast<unsigned long long>(r.kept),
                static_cast<unsigned long long>(r.failed));
  }
  std::fflush(stdout);
}

int RunExpire(const MaintainArgs& a, Context& ctx) {
  if (auto flag = ExpireOptionsOf(a, nullptr); !flag.ok()) return ReportError(flag.status());
  auto o = Open(ctx, a.cache, a.state);
  if (!o.ok()) return ReportError(o.status());
  auto options = ExpireOptionsOf(a, &o->wiring->config());
  if (!options.ok()) return ReportError(options.status());
  auto r = cache::ExpirePass(*o->index, *o->cache, *options, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  PrintExpire(*r, a.json);
  return r->failed > 0 ? 1 : 0;
}

int RunServe(const MaintainArgs& a, Context& ctx) {
  auto interval = plan::ParseAge(a.interval);
  if (!interval.ok()) return ReportError(interval.status().WithContext("--interval"));
  if (interval->count() < 1) return ReportError(Status::InvalidArgument("--interval: at least 1s"));
  if (auto flag = ExpireOptionsOf(a, nullptr); !flag.ok()) return ReportError(flag.status());
  auto o = Open(ctx, a.cache, a.state);
  if (!o.ok()) return ReportError(o.status());
  auto options = ExpireOptionsOf(a, &o->wiring->config());
  if (!options.ok()) return ReportError(options.status());
  obs::Log(obs::Level::kInfo, "serving cache expiry",
           {{"cache", o->cache_name}, {"interval", a.interval}});
  cache::Serve(
      *o->index, *o->cache, *options, *interval,
      [&](const Result<cache::ExpireResult>& r) {
        if (!r.ok()) {
          obs::Log(obs::Level::kWarn, "cache expiry pass failed",
                   {{"error", r.status().message()}});
        } else if (r->expired > 0 || r->failed > 0 || a.json) {
          PrintExpire(*r, a.json);
        }
      },
      ctx.stop);
  return 0;
}

int RunVerify(const MaintainArgs& a, Context& ctx) {
  if (!a.adopt.empty() && a.delete_unknown) {
    return ReportError(Status::InvalidArgument("--adopt and --delete-unknown exclude each other"));
  }
  auto o = Open(ctx, a.cache, a.state);
  if (!o.ok()) return ReportError(o.status());
  cache::VerifyOptions options;
  std::unique_ptr<storage::Backend> source;
  if (!a.adopt.empty()) {
    auto s = OpenChecked(ctx, *o->wiring, a.adopt, "source");
    if (!s.ok()) return ReportError(s.status());
    source = std::move(s).value();
    options.unknown = cache::UnknownObjects::kAdopt;
  } else if (a.delete_unknown) {
    options.unknown = cache::UnknownObjects::kDelete;
  }
  auto r = cache::Verify(*o->index, *o->cache, source.get(), options, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  if (a.json) {
    nlohmann::json j = {{"objects", r->objects},
                        {"entries", r->entries},
                        {"dropped", r->dropped},
                        {"unknown", r->unknown},
                        {"nested", r->nested},
                        {"adopted", r->adopted},
                        {"deleted", r->deleted},
                        {"failures", FailuresJson(r->failures)}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    for (const auto& f : r->failures) {
      std::printf("failed: %s: %s\n", f.key.c_str(), f.error.c_str());
    }
    std::printf(
        "cache verify: %llu objects, %llu entries; %llu entries without object dropped, %llu "
        "unknown objects (%llu adopted, %llu deleted); %llu of nested caches left to them\n",
        static_cast<unsigned long long>(r->objects), static_cast<unsigned long long>(r->entries),
        static_cast<unsigned long long>(r->dropped), static_cast<unsigned long long>(r->unknown),
        static_cast<unsigned long long>(r->adopted), static_cast<unsigned long long>(r->deleted),
        static_cast<unsigned long long>(r->nested));
  }
  return r->failures.empty() ? 0 : 1;
}

CLI::App* AddCommon(CLI::App* cache, const char* name, const char* what, MaintainArgs& args) {
  CLI::App* cmd = cache->add_subcommand(name, what);
  cmd->add_option("--cache", args.cache, "the cache location")->required();
  cmd->add_option("--state", args.state, kStateHelp);
  cmd->add_flag("--json", args.json, "print results as JSON on stdout");
  return cmd;
}

}  // namespace

void RegisterMaintain(CLI::App* cache, Context& ctx) {
  constexpr const char* kMaxDeleteHelp =
      "if a pass would delete more than N expired objects, or more than P% of the objects the "
      "cache holds (N or P%), delete none, say so (cache expire: exit 2) (default: [cache] "
      "max_delete, else no limit)";
  auto expire = std::make_shared<MaintainArgs>();
  CLI::App* e = AddCommon(cache, "expire",
                          "delete cached objects past their TTL with their index entries", *expire);
  e->add_option("--max-delete", expire->max_delete, kMaxDeleteHelp);
  e->callback([expire, &ctx] { ctx.exit_code = RunExpire(*expire, ctx); });

  auto serve = std::make_shared<MaintainArgs>();
  CLI::App* s = AddCommon(cache, "serve", "expire every --interval until interrupted", *serve);
  s->add_option("--max-delete", serve->max_delete, kMaxDeleteHelp);
  s->add_option("--interval", serve->interval, "time between expiry passes (default 60s)");
  s->callback([serve, &ctx] { ctx.exit_code = RunServe(*serve, ctx); });

  auto verify = std::make_shared<MaintainArgs>();
  CLI::App* v = AddCommon(cache, "verify",
                          "compare the index with the cache location: drop entries whose object "
                          "is gone; report, adopt or delete objects the index does not know",
                          *verify);
  v->add_option("--adopt", verify->adopt,
                "adopt unknown objects that SRC still holds with the same bytes; delete the rest");
  v->add_flag("--delete-unknown", verify->delete_unknown, "delete objects the index does not know");
  v->callback([verify, &ctx] { ctx.exit_code = RunVerify(*verify, ctx); });
}

}  // namespace ferry::cli::cache_cmd
