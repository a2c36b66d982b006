// ferry serve's continuous roles beside replication and schedules (docs/design/serve.md,
// "Roles"): cache expiry ([[serve.cache]]: what `ferry cache serve` does, cache::Serve on the
// cache's index) and unpack followers ([[serve.unpack]]: what `ferry unpack --follow` does,
// app::FollowStaging). PlanRoles opens and checks every role when the config is read (at the
// start and on SIGHUP: a role that does not open refuses the config as any other error does);
// RoleRunner runs each on a loop thread of its own, as the SLA refreshers and SQS pollers run,
// the unpackers' writes on serve's one executor (its concurrency and memory budget), waiting
// through the Clock seam; Stop ends every loop (passes in flight cancelled) and joins them.
//
// Several serves (or a `ferry cache serve`) expiring one cache at once is safe: each entry's
// expiry is a compare-and-swap on its row's generation, then a mark held while its object is
// deleted (cache/expire.h), so two passes never delete an object a warm renewed, and what one
// pass deletes the other counts as kept. Several unpack followers of one staging prefix and
// region are safe where the staging store honours create-only writes: each archive is claimed
// by one at a time (transport/claim.h); elsewhere a warning is logged.
//
// Metrics (obs::DefaultRegistry): ferry_serve_role_passes_total{role,name,result},
// ferry_serve_role_last_pass_timestamp_seconds{role,name}, ferry_serve_cache_expired_objects_total
// {cache}, ferry_serve_cache_expired_bytes_total{cache}, ferry_serve_cache_expire_failures_total
// {cache}, ferry_serve_unpack_archives_total{staging}, ferry_serve_unpack_objects_written_total
// {staging}, ferry_serve_unpack_failures_total{staging}; after each cache pass, from the cache's
// index: ferry_cache_bytes{cache}, ferry_cache_objects{cache}, and its limits when set,
// ferry_cache_max_bytes{cache}, ferry_cache_max_objects{cache}.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include "app/cache_open.h"
#include "app/config.h"
#include "app/delete_limits.h"
#include "app/unpack_follow.h"
#include "app/wiring.h"
#include "base/clock.h"
#include "transfer/executor.h"

namespace ferry::serve::daemon {

struct CacheRole {
  app::CacheRoleConfig config;
  app::OpenedCache opened;  // without a wiring of its own: the plan's
  // Each pass's --max-delete: the entry's max_delete, else [cache] max_delete (a pass past it
  // deletes nothing and is logged and counted as failed).
  app::NamedDeleteLimit max_delete;
};
struct UnpackRole {
  app::UnpackRoleConfig config;
  std::unique_ptr<app::Unpacker> unpacker;
};
struct RolesPlan {
  std::vector<CacheRole> cache;
  std::vector<UnpackRole> unpack;
  size_t size() const { return cache.size() + unpack.size(); }
};

// Opens every role of `serve` through `wiring` (which must outlive them). Errors: the first
// role's that does not open, prefixed with its entry ("[[serve.cache]] #2 (rb:c): cache: ...").
Result<RolesPlan> PlanRoles(app::Wiring& wiring, const app::ServeConfig& serve,
                            std::stop_token stop);

// The roles' loops. Thread-safe: StatusJson may be called from any thread while they run.
class RoleRunner {
 public:
  // Starts a loop per role of `plan`; `plan`, `executor` and `clock` must outlive the runner.
  RoleRunner(RolesPlan& plan, transfer::Executor& executor, Clock& clock);
  ~RoleRunner() { Stop(); }
  RoleRunner(const RoleRunner&) = delete;
  RoleRunner& operator=(const RoleRunner&) = delete;
  // Stops every loop and returns once their threads are done. Idempotent.
  void Stop();
  // GET /api/status's "roles": per role {"role","name","interval_seconds","passes","last"}, with
  // "last" null before the first pass, else {"at" (ISO time),"outcome" ("ok"|"failed"),
  // "error", and the pass's counts: "expired","bytes","failed" for cache, "archives",
  // "objects_written","failed" (archives) for unpack; an unpacker's are its totals so far}.
  std::string StatusJson() const;

 private:
  struct Last {
    std::chrono::system_clock::time_point at;
    bool ok = true;
    std::string error;
    uint64_t a = 0, b = 0, failed = 0;  // expired, bytes / archives, objects written
  };
  struct Shown {
    std::string role, name;
    std::chrono::seconds interval{0};
    uint64_t passes = 0;
    bool ran = false;
    Last last;
  };
  void Record(size_t i, const Last& last);
  void RunCache(size_t i, CacheRole& role, std::stop_token stop);
  void RunUnpack(size_t i, UnpackRole& role, std::stop_token stop);

  transfer::Executor& executor_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::vector<Shown> shown_;  // GUARDED_BY(mu_); one per role, cache first
  std::vector<std::jthread> threads_;
};

// `status_json` (a JSON object) with "roles" added (RoleRunner::StatusJson).
std::string WithRoles(const std::string& status_json, const RoleRunner& roles);

}  // namespace ferry::serve::daemon
