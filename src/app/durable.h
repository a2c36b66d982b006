// Durable runs: `ferry cp/sync --state URL` and `ferry worker`. The run is recorded in a
// JobStore; running the same command again (same source, destination and state) resumes it
// while it is in progress (interrupted, or detached and being worked on) instead of starting
// over; a run that ended (done, or failed on dead jobs) is over and the next one starts afresh.
// `--detach` only enqueues; workers anywhere do the work.
// Thread-safety: one call per thread.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "app/wiring.h"
#include "base/clock.h"
#include "jobs/job_store.h"
#include "jobs/payload.h"
#include "jobs/worker.h"
#include "notify/target.h"
#include "transfer/stats.h"

namespace ferry::app {

struct DurableRunRequest {
  std::string source;       // location text
  std::string destination;  // location text
  jobs::RunOptions options;
  // Its clock (WorkerOptions::clock; null: SystemClock::Default()) also times the run: the wait
  // for the leases of abandoned runs and DurableRunResult::seconds. Its registry (null: every
  // kind of this ferry, app::Kinds()) says what the run's worker serves.
  jobs::WorkerOptions worker;
  bool detach = false;
  // Ends the unfinished run of (source, destination), if any, for good (JobStore::AbandonRun:
  // none of its queued work, its parked deletes included, ever runs) and starts a new one.
  bool restart = false;
  // The state store as the command line names it ("" when automatic), for messages.
  std::string state_for_messages;
  // The first jobs of a new run, instead of the scan of the whole key space: a --files-from
  // run's list-scan jobs (jobs/list_scan.h), made from the sorted list only when the run is
  // created and stored with it in one transaction; a resumed run has its own. Empty: the scan.
  std::function<Result<std::vector<jobs::JobSpec>>()> first_jobs{};
  // Told when the run ends (app/notify_run.h), besides the config's [[notify]]
  // (wiring.config().notify): the command's --notify targets. Both are stored with the run (a
  // resumed run's replaced), its end's outbox rows written by whoever ends it, delivered here
  // at the end when not detached, else by any `ferry worker` of the store. With neither, the
  // run stores nothing (a resumed run keeps its own).
  std::vector<notify::Target> notify{};
};

struct DurableRunResult {
  jobs::RunId run = 0;
  bool resumed = false;
  jobs::RunProgress progress = jobs::RunProgress::kWorking;
  jobs::RunCounts counts;
  double seconds = 0;
  // The run stopped before its deletes, past its --max-delete (jobs/delete_guard.h): the one
  // line why (nothing was deleted). "" otherwise.
  std::string deletes_refused;
  // --report (RunOptions::report): the summary.json written once the worker here stopped, from
  // every part the run's jobs recorded. kDataLoss "report incomplete: ..." when a part was lost;
  // the location's error when the summary could not be written. Ok without a report.
  Status report;
  // Notifications of the run's end not delivered yet (the receiver down): left in the outbox
  // for `ferry worker`s of the store; an automatic state file holding them must be kept.
  int64_t notify_pending = 0;
};

// Finds the unfinished run of (source, destination) or creates one with its first scan job,
// then (unless detached) works on it until it is done or blocked on dead jobs (the run is then
// kFailed: over). An unfinished run resumes only as the command that started it, with the same
// options (relative ages aside: --newer-than 2h an hour later is the same run); otherwise
// kInvalidArgument, one line that names the run, its command line and what differs, and the
// ways out: rerun that command, or `--restart`. A new run (after --restart above all) starts
// only once the jobs of abandoned runs of the same pair can no longer be at work: it waits for
// the latest lease they held when they were removed (Run::leases_until; leases of killed
// processes of this machine are ended at once).
// Sleeps on `clock` until `until` (plus 100 ms) when it is ahead of clock.Now(), logging why:
// the latest lease of the jobs of discarded run `run` (JobStore::AbandonRun,
// Run::leases_until). kCancelled when `stop` is requested meanwhile.
Status WaitForLeases(jobs::TimePoint until, jobs::RunId run, std::stop_token stop,
                     Clock& clock = SystemClock::Default());

Result<DurableRunResult> RunDurable(jobs::JobStore& store, Wiring& wiring,
                                    const DurableRunRequest& request, transfer::Stats& stats,
                                    std::stop_token stop);

// Aborts the unfinished uploads on `dst` that ferry started (recorded in `store` for runs whose
// destination is `destination`, the location text), that no run will resume (their job is done
// or dead, their run is done, or the job moved on to a newer upload: JobStore::
// ListStartedUploads) and that started before `before` (a minimum age). Uploads the store does
// not know (other tools', other stores') and those of live jobs are never touched. Returns
// how many were aborted.
Result<uint64_t> AbortAbandonedUploads(jobs::JobStore& store, std::string_view destination,
                                       storage::Backend& dst, jobs::TimePoint before,
                                       std::stop_token stop);

// The BackendOpener workers use: parses the stored location text and opens it through `wiring`.
jobs::BackendOpener OpenerFor(Wiring& wiring);

}  // namespace ferry::app
