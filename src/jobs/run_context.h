// RunContext: one run as a worker holds it while it serves its jobs: the run's row and options,
// both sides opened and checked, the run's TransferEngine (a session on the worker's executor),
// the capability that serves the run beyond jobs' own kinds (kinds/run_hook.h), and what the
// capabilities keep for it on this worker. The worker opens it at the run's first job here
// (OpenRunContext) and drops it when the run is done; every handler of the run's jobs
// (kinds/handler.h: JobContext::run) gets it, also the handlers of other modules (transport's
// pack and unpack, replication's kinds).
//
// Thread-safety: the members are set when the context is opened and only read after, except
// kind_state (under kind_state_mu: KindStateOf, FindKindState, SetKindState). Its backends and
// engine are thread-safe; the jobs of a run run on threads of their own.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/job_store.h"
#include "jobs/payload.h"
#include "jobs/worker.h"
#include "plan/filter.h"
#include "storage/backend.h"
#include "transfer/backup_dir.h"
#include "transfer/engine.h"
#include "transfer/stats.h"

namespace ferry::jobs {

class KindRegistry;
class RunHook;

struct RunContext {
  Run run;
  RunOptions options;
  std::unique_ptr<storage::Backend> src;
  std::unique_ptr<storage::Backend> dst;
  // --backup-dir (RunOptions::backup_dir): its location, opened with the run, and what keeps
  // each destination object a transfer job replaces or a delete job deletes there first
  // (transfer/backup_dir.h). Null without it.
  std::unique_ptr<storage::Backend> backup_location;
  std::unique_ptr<transfer::BackupDir> backup;
  std::optional<plan::Filter> filter;
  std::unique_ptr<transfer::TransferEngine> engine;
  // How this worker opens locations (kinds that reach more than the two sides use it); set by
  // the Worker, valid while it lives.
  BackendOpener opener;
  // The capability that serves this run beyond jobs' own kinds: the first RunHook of the
  // worker's registry whose Open took the run (a compressed run: transport's); its ChunkPlans
  // plan the run's scans. nullptr: a plain run, planned into transfer and delete jobs. Not
  // owned (the registry outlives the worker).
  const RunHook* hook = nullptr;
  // What a capability keeps for the run on this worker, under a name of its own: a compressed
  // run's staging location and archive progress store ("transport"), a backup's catalog
  // ("backup"), a replication pass's rules, destinations and status store ("replicate"). Made
  // when the run is opened (RunHook::Open) or by its first job here; kept until the worker drops
  // the run. Opaque to the worker.
  std::mutex kind_state_mu;
  // GUARDED_BY(kind_state_mu)
  std::map<std::string, std::shared_ptr<void>, std::less<>> kind_state;
};

// The state `name` of `run` (as T, which it must have been made as); nullptr when none.
template <class T>
std::shared_ptr<T> FindKindState(RunContext& run, std::string_view name) {
  std::lock_guard lock(run.kind_state_mu);
  auto it = run.kind_state.find(name);
  return it == run.kind_state.end() ? nullptr : std::static_pointer_cast<T>(it->second);
}

// Keeps `state` as the state `name` of `run`, replacing any.
inline void SetKindState(RunContext& run, std::string_view name, std::shared_ptr<void> state) {
  std::lock_guard lock(run.kind_state_mu);
  run.kind_state[std::string(name)] = std::move(state);
}

// The state `name` of `run`, made by `make` when there is none yet, under the run's lock (one
// make at a time per run; other jobs of the run wait for it). A failure is returned and not
// kept: the next call makes it again.
template <class T>
Result<std::shared_ptr<T>> KindStateOf(RunContext& run, std::string_view name,
                                       const std::function<Result<std::shared_ptr<T>>()>& make) {
  std::lock_guard lock(run.kind_state_mu);
  auto it = run.kind_state.find(name);
  if (it != run.kind_state.end()) return std::static_pointer_cast<T>(it->second);
  FERRY_ASSIGN_OR_RETURN(std::shared_ptr<T> made, make());
  run.kind_state[std::string(name)] = made;
  return made;
}

// Opens a run's context: decodes its options, opens both sides and checks them (unless this
// process just did: WorkerOptions::only_run_checked), then offers the run to the run hooks of
// `kinds` in turn; the first that takes it serves it (RunContext::hook). Errors: the store's,
// the options', a side that cannot be opened or checked, a hook's; a compressed run
// (options.transport) that no hook takes is kNotSupported (this worker cannot plan or run it).
Result<std::unique_ptr<RunContext>> OpenRunContext(JobStore& store, RunId run,
                                                   const BackendOpener& opener,
                                                   const WorkerOptions& options,
                                                   const KindRegistry& kinds,
                                                   transfer::Stats& stats);

}  // namespace ferry::jobs
