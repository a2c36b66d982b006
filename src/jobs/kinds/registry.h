// KindRegistry: the job kinds a process knows, by name (handler.h), and the run hooks of the
// capabilities that serve runs beyond jobs' own kinds (run_hook.h). Builtin() holds jobs' own
// kinds (scan, transfer, delete), registered in registry.cc. Every kind of this ferry (those
// plus transport's pack and unpack and replication's kinds, each beside its capability) and the
// hooks are registered by the composition root (app::Kinds(), src/app/kinds.cc); a test copies
// a registry and registers more. The worker, AdvanceRun and `ferry jobs` ask the registry and
// never name a kind.
//
// Thread-safety: const methods are thread-safe; Register and AddRunHook must not race with
// them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jobs/kinds/handler.h"
#include "jobs/kinds/run_hook.h"

namespace ferry::jobs {

class KindRegistry {
 public:
  // jobs' own kinds (scan, transfer, delete), no run hook. A worker of only these claims no
  // job of another kind and opens no compressed run (OpenRunContext).
  static const KindRegistry& Builtin();

  // Adds a kind. kAlreadyExists when its name is taken, kInvalidArgument for an empty name or
  // a negative phase.
  Status Register(std::shared_ptr<const JobHandler> handler);
  // The handler of `kind`; nullptr when this process does not know it.
  const JobHandler* Find(std::string_view kind) const;
  // Every kind name, sorted.
  std::vector<std::string> Names() const;
  // The phase of `kind`; a kind this process does not know counts as phase 0 (its jobs then
  // hold back every later phase rather than being skipped).
  int PhaseOf(std::string_view kind) const;
  // Whether the objects and bytes of `kind` count toward progress (unknown kinds: yes).
  bool CountsProgress(std::string_view kind) const;
  // Whether `kind`'s jobs come outside a continuous run's rounds (JobHandler::outside_rounds;
  // unknown kinds: no), and every such kind, sorted.
  bool OutsideRounds(std::string_view kind) const;
  // Whether `kind`'s jobs run in a run that failed (JobHandler::runs_when_failed; unknown: no).
  bool RunsWhenFailed(std::string_view kind) const;
  std::vector<std::string> OutsideRoundKinds() const;
  // "scan,transfer" -> {"scan", "transfer"} (`ferry worker --kinds`): kInvalidArgument naming
  // the first name this registry does not know, and the known ones.
  Result<std::vector<std::string>> ParseKinds(std::string_view list) const;
  // `kinds` and, after them, the companions of each (JobHandler::companions) this registry
  // knows and the record kinds every worker serves (jobs/job_report.h's report-part: any kind
  // may leave records, and a run waits for them), each once: what a worker given `kinds`
  // (`ferry worker --kinds`, `--role`) claims.
  std::vector<std::string> WithCompanions(std::vector<std::string> kinds) const;

  // Adds a run hook; OpenRunContext offers a run to the hooks in the order they were added.
  // kInvalidArgument for nullptr.
  Status AddRunHook(std::shared_ptr<const RunHook> hook);
  const std::vector<std::shared_ptr<const RunHook>>& run_hooks() const { return hooks_; }

 private:
  std::map<std::string, std::shared_ptr<const JobHandler>, std::less<>> handlers_;
  std::vector<std::shared_ptr<const RunHook>> hooks_;
};

// Progress of a run: the objects and bytes of the kinds that count toward it.
struct Progress {
  uint64_t objects_done = 0;
  uint64_t objects_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};
Progress ProgressOf(const RunCounts& counts, const KindRegistry& kinds);

// jobs' own handlers (one file each: scan_kind.cc, transfer_kind.cc, delete_kind.cc).
std::shared_ptr<const JobHandler> MakeScanHandler();
std::shared_ptr<const JobHandler> MakeTransferHandler();
std::shared_ptr<const JobHandler> MakeDeleteHandler();
// "list-scan" (list_scan_kind.cc): a chunk of a --files-from run's list.
std::shared_ptr<const JobHandler> MakeListScanHandler();
// "report-part" (job_report.cc): the record of one part of a durable run's report.
std::shared_ptr<const JobHandler> MakeReportPartHandler();
// "report-summary": MakeReportSummaryHandler in job_report.h.
// "delete-scope" (delete_kind.cc): phase 1 beside the deletes, a count and nothing to do.
std::shared_ptr<const JobHandler> MakeDeleteScopeHandler();
// "move-sources" (move_sources_kind.cc): a durable move's source deletes (move_sources.h).
std::shared_ptr<const JobHandler> MakeMoveSourcesHandler();
// "part" (part_kind.cc): a range of parts of a large object spread over workers (part_jobs.h).
std::shared_ptr<const JobHandler> MakePartHandler();

}  // namespace ferry::jobs
