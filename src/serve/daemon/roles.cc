// ferry serve's cache expiry and unpack follower roles (roles.h).
#include "serve/daemon/roles.h"

#include <nlohmann/json.hpp>

#include "app/views.h"
#include "cache/expire.h"
#include "obs/log.h"
#include "obs/metrics.h"

namespace ferry::serve::daemon {
namespace {

struct RoleMetrics {
  obs::FamilyRef<obs::Counter> passes, expired, expired_bytes, expire_failures, archives,
      written, unpack_failures;
  obs::FamilyRef<obs::Gauge> last_pass, cache_bytes, cache_objects, cache_max_bytes,
      cache_max_objects;
};

RoleMetrics Metrics() {
  obs::Registry& r = obs::DefaultRegistry();
  return RoleMetrics{
      .passes = r.AddCounter("ferry_serve_role_passes_total",
                             "Passes of serve's roles (cache expiry, unpack followers) by result",
                             {"role", "name", "result"}),
      .expired = r.AddCounter("ferry_serve_cache_expired_objects_total",
                              "Cached objects (and their index entries) expired by serve",
                              {"cache"}),
      .expired_bytes = r.AddCounter("ferry_serve_cache_expired_bytes_total",
                                    "Bytes of the cached objects expired by serve", {"cache"}),
      .expire_failures = r.AddCounter("ferry_serve_cache_expire_failures_total",
                                      "Cached objects serve failed to expire (retried later)",
                                      {"cache"}),
      .archives = r.AddCounter("ferry_serve_unpack_archives_total",
                               "Archives unpacked by serve's unpack followers", {"staging"}),
      .written = r.AddCounter("ferry_serve_unpack_objects_written_total",
                              "Objects written by serve's unpack followers", {"staging"}),
      .unpack_failures = r.AddCounter("ferry_serve_unpack_failures_total",
                                      "Archives serve's unpack followers failed to unpack",
                                      {"staging"}),
      .last_pass = r.AddGauge("ferry_serve_role_last_pass_timestamp_seconds",
                              "When a role's last pass ended (Unix time)", {"role", "name"}),
      .cache_bytes = r.AddGauge("ferry_cache_bytes",
                                "Bytes a cache holds by its index, read at each expiry pass",
                                {"cache"}),
      .cache_objects = r.AddGauge("ferry_cache_objects",
                                  "Objects a cache holds by its index, read at each expiry pass",
                                  {"cache"}),
      .cache_max_bytes = r.AddGauge("ferry_cache_max_bytes",
                                    "A cache's max_size ([[serve.cache]]), when set", {"cache"}),
      .cache_max_objects = r.AddGauge("ferry_cache_max_objects",
                                      "A cache's max_objects ([[serve.cache]]), when set",
                                      {"cache"}),
  };
}

double UnixSeconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

// After a pass: what the cache holds by its index (one grouped read, CacheIndex::Totals) and its
// limits, for the FerryCacheOverSize alert. A read that fails keeps the last values.
void ExportCacheTotals(const RoleMetrics& m, const CacheRole& role) {
  const std::string& name = role.opened.cache_name;
  Result<cache::CacheTotals> totals = role.opened.index->Totals();
  if (!totals.ok()) {
    obs::Log(obs::Level::kWarn, "cache totals not read",
             {{"cache", name}, {"error", totals.status().message()}});
  } else {
    m.cache_bytes.WithLabels({name}).Set(static_cast<double>(totals->bytes));
    m.cache_objects.WithLabels({name}).Set(static_cast<double>(totals->objects));
  }
  if (role.config.max_bytes > 0) {
    m.cache_max_bytes.WithLabels({name}).Set(static_cast<double>(role.config.max_bytes));
  }
  if (role.config.max_objects > 0) {
    m.cache_max_objects.WithLabels({name}).Set(static_cast<double>(role.config.max_objects));
  }
}

}  // namespace

Result<RolesPlan> PlanRoles(app::Wiring& wiring, const app::ServeConfig& serve,
                            std::stop_token stop) {
  RolesPlan plan;
  for (size_t i = 0; i < serve.cache.size(); ++i) {
    const app::CacheRoleConfig& c = serve.cache[i];
    Result<app::OpenedCache> opened =
        app::OpenCache(wiring, c.cache, c.state, SystemClock::Default(), stop);
    if (!opened.ok()) {
      return opened.status().WithContext("[[serve.cache]] #" + std::to_string(i + 1) + " (" +
                                         c.cache + ")");
    }
    Result<app::NamedDeleteLimit> limit = app::ResolveDeleteLimit(
        "", c.max_delete ? c.max_delete : wiring.config().cache.max_delete,
        c.max_delete ? "[[serve.cache]] max_delete" : "[cache] max_delete");
    if (!limit.ok()) return limit.status();
    plan.cache.push_back(
        {.config = c, .opened = std::move(opened).value(), .max_delete = *limit});
  }
  for (size_t i = 0; i < serve.unpack.size(); ++i) {
    const app::UnpackRoleConfig& c = serve.unpack[i];
    app::UnpackTarget target{.staging = c.staging,
                             .dst = c.destination,
                             .region = c.region,
                             .state = c.state,
                             .storage_class = c.storage_class,
                             .preserve_lock = c.preserve_lock,
                             .claim_ttl = c.claim_ttl};
    Result<std::unique_ptr<app::Unpacker>> u =
        app::OpenUnpacker(wiring, std::move(target), SystemClock::Default(), stop);
    if (!u.ok()) {
      return u.status().WithContext("[[serve.unpack]] #" + std::to_string(i + 1) + " (" +
                                    c.staging + ")");
    }
    plan.unpack.push_back({.config = c, .unpacker = std::move(u).value()});
  }
  return plan;
}

RoleRunner::RoleRunner(RolesPlan& plan, transfer::Executor& executor, Clock& clock)
    : executor_(executor), clock_(clock) {
  for (const CacheRole& c : plan.cache) {
    Shown shown;
    shown.role = "cache";
    shown.name = c.opened.cache_name;
    shown.interval = c.config.interval;
    shown_.push_back(std::move(shown));
  }
  for (const UnpackRole& u : plan.unpack) {
    Shown shown;
    shown.role = "unpack";
    shown.name = u.config.staging;
    shown.interval = u.config.interval;
    shown_.push_back(std::move(shown));
  }
  size_t i = 0;
  for (CacheRole& c : plan.cache) {
    obs::Log(obs::Level::kInfo, "serving cache expiry",
             {{"cache", c.opened.cache_name},
              {"interval", std::to_string(c.config.interval.count()) + "s"}});
    threads_.emplace_back([this, i, &c](std::stop_token stop) { RunCache(i, c, stop); });
    ++i;
  }
  for (UnpackRole& u : plan.unpack) {
    if (u.unpacker->claims() == nullptr) {
      obs::Log(obs::Level::kWarn, u.config.staging + " does not honour create-only writes: run "
                                  "only one unpacker per region and staging prefix");
    }
    obs::Log(obs::Level::kInfo, "following staging",
             {{"staging", u.config.staging}, {"destination", u.config.destination}});
    threads_.emplace_back([this, i, &u](std::stop_token stop) { RunUnpack(i, u, stop); });
    ++i;
  }
}

void RoleRunner::Stop() {
  for (std::jthread& t : threads_) t.request_stop();
  threads_.clear();  // joins
}

void RoleRunner::Record(size_t i, const Last& last) {
  std::lock_guard lock(mu_);
  Shown& s = shown_[i];
  ++s.passes;
  s.ran = true;
  s.last = last;
}

// `ferry cache serve`'s loop (cache::Serve) on the cache's index; each pass recorded.
void RoleRunner::RunCache(size_t i, CacheRole& role, std::stop_token stop) {
  const RoleMetrics m = Metrics();
  const std::string& name = role.opened.cache_name;
  cache::ExpireOptions options;
  options.approve = app::ExpireDeleteCheck(role.max_delete);
  cache::Serve(
      *role.opened.index, *role.opened.cache, options, role.config.interval,
      [&](const Result<cache::ExpireResult>& r) {
        Last last;
        last.at = clock_.Now();
        last.ok = r.ok();
        if (!r.ok()) {
          last.error = r.status().message();
          obs::Log(obs::Level::kWarn, "cache expiry pass failed",
                   {{"cache", name}, {"error", last.error}});
        } else {
          last.a = r->expired;
          last.b = r->bytes;
          last.failed = r->failed;
          m.expired.WithLabels({name}).Add(r->expired);
          m.expired_bytes.WithLabels({name}).Add(r->bytes);
          m.expire_failures.WithLabels({name}).Add(r->failed);
          for (const auto& f : r->failures) {
            obs::Log(obs::Level::kWarn, "cache expiry failed",
                     {{"cache", name}, {"key", f.key}, {"error", f.error}});
          }
          if (r->expired > 0) {
            obs::Log(obs::Level::kInfo, "cache expired",
                     {{"cache", name},
                      {"objects", std::to_string(r->expired)},
                      {"bytes", std::to_string(r->bytes)}});
          }
        }
        ExportCacheTotals(m, role);
        m.passes.WithLabels({"cache", name, last.ok ? "ok" : "failed"}).Add();
        m.last_pass.WithLabels({"cache", name}).Set(UnixSeconds(last.at));
        Record(i, last);
      },
      stop);
}

// `ferry unpack --follow`'s loop (app::FollowStaging) on serve's executor; each pass recorded.
void RoleRunner::RunUnpack(size_t i, UnpackRole& role, std::stop_token stop) {
  const RoleMetrics m = Metrics();
  const std::string& name = role.config.staging;
  app::UnpackTotals before;
  app::UnpackFollowOptions o;
  o.interval = role.config.interval;
  o.stop_on_error = false;
  o.clock = &clock_;
  o.on_pass = [&](const Status& s, const app::UnpackTotals& t) {
    Last last;
    last.at = clock_.Now();
    last.ok = s.ok() && t.failed == before.failed;
    if (!s.ok()) {
      last.error = s.message();
      obs::Log(obs::Level::kWarn, "unpack pass failed", {{"staging", name}, {"error", s.message()}});
    } else if (t.failed > before.failed) {
      last.error = std::to_string(t.failed - before.failed) + " archives failed";
    }
    last.a = t.archives;
    last.b = t.written;
    last.failed = t.failed;
    m.archives.WithLabels({name}).Add(t.archives - before.archives);
    m.written.WithLabels({name}).Add(t.written - before.written);
    m.unpack_failures.WithLabels({name}).Add(t.failed - before.failed);
    if (t.archives > before.archives) {
      obs::Log(obs::Level::kInfo, "unpacked",
               {{"staging", name},
                {"archives", std::to_string(t.archives - before.archives)},
                {"objects", std::to_string(t.written - before.written)}});
    }
    m.passes.WithLabels({"unpack", name, last.ok ? "ok" : "failed"}).Add();
    m.last_pass.WithLabels({"unpack", name}).Set(UnixSeconds(last.at));
    before = t;
    Record(i, last);
  };
  app::UnpackTotals totals;
  (void)app::FollowStaging(*role.unpacker, executor_, totals, o, stop);
}

std::string RoleRunner::StatusJson() const {
  nlohmann::json list = nlohmann::json::array();
  std::lock_guard lock(mu_);
  for (const Shown& s : shown_) {
    nlohmann::json j = {{"role", s.role},
                        {"name", s.name},
                        {"interval_seconds", s.interval.count()},
                        {"passes", s.passes},
                        {"last", nullptr}};
    if (s.ran) {
      nlohmann::json last = {{"at", app::When(s.last.at)},
                             {"outcome", s.last.ok ? "ok" : "failed"},
                             {"error", s.last.error},
                             {"failed", s.last.failed}};
      if (s.role == "cache") {
        last["expired"] = s.last.a;
        last["bytes"] = s.last.b;
      } else {
        last["archives"] = s.last.a;
        last["objects_written"] = s.last.b;
      }
      j["last"] = last;
    }
    list.push_back(std::move(j));
  }
  return list.dump();
}

std::string WithRoles(const std::string& status_json, const RoleRunner& roles) {
  nlohmann::json doc = nlohmann::json::parse(status_json, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return status_json;
  doc["roles"] = nlohmann::json::parse(roles.StatusJson());
  return doc.dump();
}

}  // namespace ferry::serve::daemon
