// Run-end notifications wired into a ferry process (docs/design/notify.md; the module is
// src/notify/): the targets of a run, the delivery context of this process, the jobs' run-end
// hook that writes a durable run's outbox rows, and the deliveries of the outbox.
//
// Thread-safety: InstallRunEndNotifications once before stores are used; the rest per call.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "app/config.h"
#include "app/wiring.h"
#include "jobs/job_store.h"
#include "jobs/run_end_hook.h"
#include "notify/deliver.h"
#include "notify/document.h"
#include "notify/target.h"
#include "obs/periodic_refresh.h"
#include "transfer/stats.h"

namespace ferry::app {

// Installs jobs' run-end hook (jobs/run_end_hook.h) for this process: the transaction that ends
// a durable run appends one outbox row per target stored with the run (notify/outbox.h), its
// document built from the run's facts (DurableRunEnd). Idempotent.
void InstallRunEndNotifications();

// A durable run's document from the facts read in its ending transaction: copied = objects of
// its done transfer, pack, replicate-keys and restore jobs, failed = objects of its dead jobs, deleted = objects of its
// done delete jobs, skipped unknown (null); state done, dead (failed with dead jobs) or failed
// (failed without: abandoned, or stopped by --max-delete).
notify::RunEnd DurableRunEnd(const jobs::RunEndFacts& facts);

// The targets of a run: the config's [[notify]], then each `--notify` flag's
// (ParseNotifyFlag). kInvalidArgument for a bad flag.
Result<std::vector<notify::Target>> RunTargets(const Config& config,
                                               const std::vector<std::string>& flags);

// Deliveries through this process's transport; an sns/sqs target's endpoint and signing
// resolved from `config`'s remotes (app/sqs.h's rules; the region of a topic ARN when none is
// given). `wiring` must outlive the context.
notify::DeliveryContext NotifyContext(Wiring& wiring);

// The counts of a run that keeps no transfer::Stats (restore, cache warm).
struct InMemoryRunCounts {
  uint64_t copied = 0, skipped = 0, failed = 0, deleted = 0, bytes = 0;
};

// What an in-memory run (cp/sync/move; restore and cache warm) knows of its end.
struct InMemoryRunFacts {
  std::string command, source, destination;
  // A copy's counters and failures; null: `counts` and `errors` say them instead.
  const transfer::Stats* stats = nullptr;
  InMemoryRunCounts counts{};
  Status status;        // the run's (not OK: failed, or cut when `cut`)
  bool cut = false;     // --max-transfer / --max-duration stopped it
  // Without `stats`: the first failures ("restore KEY: message"; kMaxErrors are kept).
  std::vector<std::string> errors;
  std::chrono::system_clock::time_point started, ended;
  std::string report;   // --report's location, "" when none
};
// Its document: run id "<started, 20261128T061500Z>-<pid>", state cut, done (no failure) or
// failed, the failures' first errors ("copy KEY: message"), the run's error first.
notify::RunEnd InMemoryRunEnd(const InMemoryRunFacts& facts);
// An in-memory run's end told to `targets` now (notify::SendNow, notify::kRunEndRetries); a
// delivery that fails is a warning line, never an error of the run. Nothing when no target.
void NotifyInMemoryRun(const std::vector<notify::Target>& targets, const InMemoryRunFacts& facts,
                       Wiring& wiring, std::stop_token stop);

// The targets a durable run's end is told, stored with the run (replacing any before). Opens
// (and migrates) component "notify" of the store's database; kNotSupported for a store without
// a SQL session.
Status SetDurableRunTargets(jobs::JobStore& store, jobs::RunId run,
                            const std::vector<notify::Target>& targets);
// The same for a run being created: the step of JobStore::CreateRun that stores `targets` in
// the run's creating transaction, so that a worker that ends the run at once still tells them.
// Opens (and migrates) component "notify" now. Null (no step) when `targets` is empty; the
// errors of SetDurableRunTargets.
Result<jobs::NewRunStep> RunTargetsStep(jobs::JobStore& store,
                                        std::vector<notify::Target> targets);

// The run's own process at its end: delivers the outbox rows of `run` (each with
// notify::kRunEndRetries). Returns the rows still pending (left for `ferry worker`s, serve or
// a rerun); a failure is a warning line, never an error of the run.
int64_t DeliverRunNotifications(jobs::JobStore& store, Wiring& wiring, jobs::RunId run,
                                std::stop_token stop);

// `ferry worker`: the outbox of every run delivered every `interval` on a timer while it lives.
// Null when the store has no SQL session.
std::unique_ptr<obs::PeriodicRefresh> StartOutboxDelivery(jobs::JobStore& store, Wiring& wiring,
                                                          std::chrono::milliseconds interval);

}  // namespace ferry::app
