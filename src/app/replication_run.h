// `ferry replicate SRC`'s run, beside RunDurable (durable.h): one replication pass over a source
// by the rules of the config ([[replication.rules]]) or of an S3 ReplicationConfiguration JSON
// file, each version's status recorded in the state store. The pass is a durable run of that
// store (replicate-scan and replicate-keys jobs, src/replicate/kinds/) that this process works
// on and `ferry worker --state` processes share; a rerun resumes an unfinished one, --restart
// discards it (its jobs, and its staged archives once their leases ended). A dry run is one
// pass in this process (replicate::RunPass) and records nothing.
//
// The command line fills ReplicationRunSettings and prints ReplicationRunResult: nothing here
// prints, except the dry run's lines through ReplicationRunSettings::plan.
// Thread-safety: one call per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "app/config.h"
#include "app/engine.h"
#include "app/report_open.h"
#include "app/wiring.h"
#include "base/status.h"
#include "jobs/job_store.h"
#include "jobs/worker.h"
#include "notify/target.h"
#include "plan/delete_limit.h"
#include "replicate/pass.h"
#include "replicate/payload.h"
#include "state/sql_session.h"

namespace ferry::app {

// The state store when none is named: replication.db in the state directory (StateDir()).
std::string DefaultReplicationStatePath();

// The state database at `url` ("" = DefaultReplicationStatePath()).
Result<std::unique_ptr<state::SqlSession>> OpenReplicationState(const std::string& url);

// What a pass is asked to do, as `ferry replicate`'s flags say it.
struct ReplicationRunSettings {
  std::string source;      // SRC: NAME:bucket/prefix or s3://bucket/prefix
  std::string rules_json;  // --replication-config FILE.json; "": the config's rules
  std::string state;       // --state URL; "": DefaultReplicationStatePath()
  std::string report;      // --report PREFIX --report-format s3-batch (PREFIX.csv, PREFIX.json)
  // --report LOCATION (csv|json): the per-object report (report_open.h), a row per status row
  // of the source (replicate::PerObjectRow) after the pass; location "": none.
  ReportSettings rows_report;
  bool dry_run = false;
  bool retry_failed = false;  // only the FAILED versions again
  bool restart = false;       // discard the source's unfinished pass first
  bool detach = false;        // queue (or find unfinished) the run for workers, work on nothing
  // --max-delete N|P%: the deletes the pass may make at destinations that keep no versions (a
  // replicated delete marker there is a DELETE), counted before the first: past it the run
  // stops with none made (jobs/delete_guard.h; P% of the source keys the pass judged).
  plan::DeleteLimit max_delete{};
  int concurrency = 0;        // keys at once, N (0: the engine's: [transfer] concurrency, 16)
  std::string memory;         // --memory as given ("": the engine's: [transfer] memory, 128MiB)
  int batch_versions = 200;   // versions per replicate-keys job
  // The listing options of the run's workers (list_concurrency, scan_chunk), already checked;
  // the rest of the workers' options are this run's. Its clock (null: SystemClock::Default())
  // also times the waits for the leases of discarded and abandoned runs.
  jobs::WorkerOptions worker;
  // A dry run's versions (replicate::PlannedVersion; PlanLine prints one), one call each, from
  // several threads at once (the pass's keys in parallel): the callee serializes.
  std::function<void(const replicate::PlannedVersion&)> plan;
  // Who is told when the durable run ends (the config's [[notify]] and --notify's: RunTargets
  // in notify_run.h): stored with the run as it is created or resumed, its outbox rows
  // delivered by this process when it worked the run to its end (docs/design/notify.md).
  std::vector<notify::Target> notify{};
};

// kInvalidArgument, one line naming the flag, for settings no pass takes (--dry-run with
// --detach or --retry-failed, --dry-run or --detach with a per-object --report, --concurrency
// outside 0..1024, --memory not a size above 0).
Status ValidateReplicationSettings(const ReplicationRunSettings& settings);

// The process's engine as a pass opens it: profile kKeys, N = --concurrency (else the config's
// [transfer] concurrency, else 16; at most 256 keys, requests max(16, 4 x N)), --memory (else
// [transfer] memory, else 128MiB).
EngineSettings ReplicationEngineSettings(const ReplicationRunSettings& settings);

// The durable run a pass was, when it got one (not a dry run).
struct ReplicationDurableSummary {
  jobs::RunId run = 0;
  bool resumed = false;
  jobs::RunProgress progress = jobs::RunProgress::kWorking;
  jobs::TimePoint created;  // the run's creation: its versions' FAILED rows count from there
  bool detached = false;    // --detach: queued for workers, nothing replicated here
};

struct ReplicationRunResult {
  // How the pass ended: Ok; kCancelled when interrupted (a rerun resumes the run); kUnavailable
  // when its run failed with dead jobs (the message says how to redrive them); or the error
  // that stopped it. The command prints its summary whatever it is.
  Status status;
  std::optional<ReplicationDurableSummary> durable;  // none: a dry run, or no run was reached
  // The versions that failed: those this process counted, plus the status store's FAILED rows
  // of the source since the run's creation (whichever process replicated them).
  uint64_t failures = 0;
  // A failure after the pass: reading the FAILED rows, or writing the report (then not written
  // or incomplete). The command reports it after its summary, before `status`.
  Status finish;
  // The run stopped before its deletes, past --max-delete (`status` says why): none was made.
  bool deletes_refused = false;
};

// Runs `settings`' pass with `config` (its remotes, [transfer] and [replication]): loads the
// rules (--replication-config or the config's, validated), checks the settings, resolves and
// opens the source and destinations and the state store, opens the process's engine
// (ReplicationEngineSettings), then the dry run or the durable pass, its keys on the engine's
// executor; `stats`: what this process did. After the pass (not detached): the failures from the status store, and the
// report of every status row of the source. The Result's own error is one that came before
// any pass (rules, settings, locations, stores): nothing to summarize.
Result<ReplicationRunResult> RunReplication(Config config, const ReplicationRunSettings& settings,
                                            replicate::PassStats& stats, std::stop_token stop);

// --- The durable pass (replication_durable.cc), the step RunReplication takes unless dry.

struct DurableReplicationRequest {
  const replicate::DurablePass& pass;  // the source, rules and options of the pass
  const std::string& destination;      // the run's destination, as the store records it
  const ReplicationRunSettings& settings;  // worker (listing), restart, detach
  // The process's engine (engine.h, profile kKeys): every worker of the run runs on its
  // executor. Null only when settings.detach (nothing is worked on).
  Engine* engine = nullptr;
};

// Why `existing` (an unfinished run of the pass's source) cannot resume as `pass`: "" when it
// can (concurrency and batch size may differ: they change nothing of what the pass does),
// else "is not a replication pass" or "has other rules or options".
std::string ReplicationResumeMismatch(const jobs::Run& existing,
                                      const replicate::DurablePass& pass);

// Finds the unfinished run of `request.pass` (same source, rules and options) or creates one
// with its first replicate-scan job, then, unless detached, works on it in this process (the
// replication kinds, and an unpack worker per region its rules' transport names), beside any
// `ferry worker` of the store, until it is done or blocked on dead jobs. `stats`: what this
// process replicated. kInvalidArgument for an unfinished run of the source with other rules or
// options (or another command) unless settings.restart discards it, and for a source a
// continuous run (ferry serve) replicates. Every call first settles the source's recently
// abandoned runs: waits for their jobs' leases and deletes their staged archives.
Result<ReplicationDurableSummary> RunDurableReplication(jobs::JobStore& store, Wiring& wiring,
                                                        const DurableReplicationRequest& request,
                                                        replicate::PassStats& stats,
                                                        std::stop_token stop);

}  // namespace ferry::app
