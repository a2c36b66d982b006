// The "cache-warm" job kind: `ferry cache warm ... --detach` queued as a run that a `ferry
// worker` serves beside everything else it serves, on its executor and within its budgets
// (docs/design/cache.md, "Warms served by workers").
//
// A warm run's source is the warm's source, its destination the cache location; it has one job,
// whose payload is the request (WarmJob). The job runs cache::Warm with the cache's index and
// prefix locks in the state database the worker serves (the index names the cache as the
// command that queued it did: WarmJob::cache_name), its holds owned by the worker and the job,
// so a warm served by a worker and one run by `ferry cache warm` share the work as two
// commands do. A retry copies only what is not cached yet.
//
// Outcomes: done when every object is cached; retried (with backoff) when objects failed or
// the warm as a whole did (its hold lost, the source's listing); failed at once for a request
// that can never run (no prefixes, a TTL <= 0).
//
// Thread-safety: the handler is shared by every job of its kind (kinds/handler.h).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "cache/warm.h"
#include "jobs/kinds/handler.h"

namespace ferry::cache {

inline constexpr char kWarmKind[] = "cache-warm";
// A warm run's RunOptions::command.
inline constexpr char kWarmCommand[] = "cache-warm";

struct WarmJob {
  std::string cache_name;  // the index's name of the cache location
  WarmRequest request;
  std::chrono::milliseconds lock_ttl{30'000};
  size_t record_batch = 200;
};

std::string EncodeWarmJob(const WarmJob& job);
Result<WarmJob> DecodeWarmJob(const std::string& json);

std::shared_ptr<const jobs::JobHandler> MakeWarmHandler();

}  // namespace ferry::cache
