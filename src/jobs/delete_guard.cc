#include "jobs/delete_guard.h"

namespace ferry::jobs {

bool GuardedDeleteKind(std::string_view kind) {
  return kind == kDeleteKind || kind == kReplicateDeletesKind || kind == kMoveSourcesKind;
}

uint64_t PlannedDeletes(const RunCounts& counts) {
  return counts.of(kDeleteKind).objects_total + counts.of(kReplicateDeletesKind).objects_total +
         counts.of(kMoveSourcesKind).objects_total;
}

std::optional<std::string> DeleteGuardRefusal(const RunOptions& options, const RunCounts& counts) {
  if (!options.max_delete.enabled()) return std::nullopt;
  const uint64_t planned = PlannedDeletes(counts);
  const uint64_t scope = counts.of(kDeleteScopeKind).objects_total;
  if (!options.max_delete.Exceeded(planned, scope)) return std::nullopt;
  // A replication pass's percentage is of the source keys it judged, a move's of the source
  // objects it considered (kDeleteScopeKind).
  const bool of_source = options.command == "replicate" || options.command == "move";
  return plan::DeleteLimitRefusal(options.max_delete, planned, scope, /*dry_run=*/false,
                                  of_source ? "source" : "destination");
}

std::optional<std::string> StoppedByDeleteGuard(const RunOptions& options,
                                                const RunCounts& counts) {
  if (counts.state != RunState::kFailed || counts.jobs[static_cast<size_t>(JobState::kDead)] > 0) {
    return std::nullopt;
  }
  uint64_t queued = 0;
  uint64_t done = 0;
  for (const char* kind : {kDeleteKind, kReplicateDeletesKind, kMoveSourcesKind}) {
    queued += counts.of(kind).of(JobState::kQueued);
    done += counts.of(kind).of(JobState::kDone);
  }
  if (queued == 0 || done > 0) return std::nullopt;
  return DeleteGuardRefusal(options, counts);
}

}  // namespace ferry::jobs
