// The process's limits (limits/limits.h) as the command line and the config file give them:
// --bwlimit, --max-rps, --max-rps-burst and --no-adaptive-rate win over the file's [limits]
// bwlimit, max_rps, max_rps_burst and adaptive. main applies them before the command runs; `ferry serve` again after each
// SIGHUP reload (the file's values may have changed; the command line's still win).
#pragma once

#include "app/config.h"
#include "base/status.h"
#include "cli/commands.h"
#include "limits/limits.h"

namespace ferry::cli {

// The limits `flags` and `file` give together. kInvalidArgument names the flag or key.
Result<limits::LimitsConfig> EffectiveLimits(const GlobalOptions& flags,
                                             const app::LimitsSettings& file);

// Applies EffectiveLimits to limits::ProcessLimits() and, when they differ from what held,
// logs one line with what holds now.
Status ApplyLimits(const GlobalOptions& flags, const app::LimitsSettings& file);

// The most requests of this process in flight at once: the command's --concurrency (its
// executor's workers), so that what its jobs send on their own threads (listings, lookups,
// catalog reads) shares one bound with the executor's tasks (limits::Limits::SetRequestSlots;
// ferry_http_requests_in_flight_peak shows it held).
void LimitRequestsInFlight(int concurrency);

}  // namespace ferry::cli
