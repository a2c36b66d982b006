// The --max-delete guard of a durable run (plan/delete_limit.h): the run's limit travels in its
// options (RunOptions::max_delete), the plan's count is the `objects` of its parked delete jobs
// (a sync's, or a replication pass's delete-marker keys: GuardedDeleteKind),
// and the base of a percentage the `objects` of its parked delete-scope jobs (kDeleteScopeKind:
// the destination objects in scope, counted by each scan chunk). Worker::AdvanceRun asks it
// before it unparks the deletes: past the limit, the run becomes kFailed with its deletes still
// parked, so no process that moves it on ever deletes. `ferry jobs` and the command say why
// from the same answer. docs/design/guards.md.
//
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/job_store.h"
#include "jobs/payload.h"

namespace ferry::jobs {

// Whether jobs of `kind` are deletes the guard counts: a sync's (kDeleteKind), a replication
// pass's parked delete-marker keys (kReplicateDeletesKind) and a move's source deletes
// (kMoveSourcesKind).
bool GuardedDeleteKind(std::string_view kind);

// The deletes the run's plan counts: the `objects` of its jobs of the guarded kinds.
uint64_t PlannedDeletes(const RunCounts& counts);

// The one line why the deletes of a run with these options and job counts must not run, or
// nullopt when they may (no limit, or within it). Counts read before the delete phase began
// (no delete job done yet), or of a run the guard stopped.
std::optional<std::string> DeleteGuardRefusal(const RunOptions& options, const RunCounts& counts);

// A run stopped by the guard: failed, no dead job, and its deletes still parked past the limit.
// The reason, or nullopt for any other run.
std::optional<std::string> StoppedByDeleteGuard(const RunOptions& options,
                                                const RunCounts& counts);

}  // namespace ferry::jobs
