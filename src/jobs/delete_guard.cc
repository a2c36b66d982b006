#include "jobs/delete_guard.h"

namespace ferry::jobs {

std::optional<std::string> DeleteGuardRefusal(const RunOptions& options, const RunCounts& counts) {
  if (!options.max_delete.enabled()) return std::nullopt;
  const uint64_t planned = counts.of(kDeleteKind).objects_total;
  const uint64_t scope = counts.of(kDeleteScopeKind).objects_total;
  if (!options.max_delete.Exceeded(planned, scope)) return std::nullopt;
  return plan::DeleteLimitRefusal(options.max_delete, planned, scope, /*dry_run=*/false);
}

std::optional<std::string> StoppedByDeleteGuard(const RunOptions& options,
                                                const RunCounts& counts) {
  if (counts.state != RunState::kFailed || counts.jobs[static_cast<size_t>(JobState::kDead)] > 0) {
    return std::nullopt;
  }
  const KindCounts deletes = counts.of(kDeleteKind);
  if (deletes.of(JobState::kQueued) == 0 || deletes.of(JobState::kDone) > 0) return std::nullopt;
  return DeleteGuardRefusal(options, counts);
}

}  // namespace ferry::jobs
