// RunReplication (replication_run.h): `ferry replicate`'s pass from its settings, a dry run or
// the durable pass (replication_durable.cc), then its failures and report from the status
// store.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>

#include "app/replication.h"
#include "app/replication_run.h"
#include "app/state_files.h"
#include "base/clock.h"
#include "jobs/delete_guard.h"
#include "obs/metrics.h"
#include "plan/filter.h"
#include "replicate/report.h"
#include "replicate/rules.h"
#include "replicate/sla.h"
#include "replicate/status_store.h"
#include "state/state.h"
#include "state/state_url.h"

namespace ferry::app {
namespace {

// The pass's rules: those of --replication-config (S3's JSON, its bucket ARNs mapped by
// [replication.buckets], validated) or the config's [[replication.rules]].
Result<replicate::RuleSet> LoadReplicationRules(const ReplicationRunSettings& settings,
                                                const Config& config) {
  if (settings.rules_json.empty()) {
    if (config.replication.rules.rules.empty()) {
      return Status::InvalidArgument(
          "no replication rules: add [[replication.rules]] to the config or give "
          "--replication-config FILE.json");
    }
    return config.replication.rules;
  }
  std::ifstream in(settings.rules_json, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot read --replication-config " + settings.rules_json);
  }
  std::ostringstream text;
  text << in.rdbuf();
  FERRY_ASSIGN_OR_RETURN(replicate::RuleSet rules,
                         replicate::ParseS3ReplicationJson(text.str(), settings.rules_json,
                                                           config.replication.buckets));
  if (Status s = replicate::Validate(rules); !s.ok()) return s.WithContext(settings.rules_json);
  return rules;
}

// The state store's URL as the settings name it ("" = the default), for opening and messages.
std::string ReplicationStateUrl(const ReplicationRunSettings& settings) {
  return settings.state.empty() ? DefaultReplicationStatePath() : settings.state;
}

// What a pass is after the rules and locations: everything of PassOptions but the stores.
// Sizes of the config were checked when it was read.
replicate::PassOptions ReplicationPassOptions(const ReplicationRunSettings& settings,
                                              const Config& config) {
  replicate::PassOptions o;
  if (config.transfer.multipart_threshold) {
    o.multipart_threshold = *plan::ParseSize(*config.transfer.multipart_threshold);
  }
  if (config.transfer.part_size) o.part_size = *plan::ParseSize(*config.transfer.part_size);
  if (config.replication.server_side_copy_limit) {
    o.server_side_copy_limit = *config.replication.server_side_copy_limit;
  }
  o.clock = &SystemClock::Default();
  o.dry_run = settings.dry_run;
  o.retry_failed_only = settings.retry_failed;
  return o;
}

// The stores of a pass: a durable pass's jobs and statuses in one SQL database; a dry run's
// statuses only, read when there are any (a --state, or the default store exists), so that it
// shows only what is left. Destroyed in reverse: the status store before what it runs on.
struct ReplicationStores {
  std::unique_ptr<state::SqlSession> session;  // a dry run's
  std::unique_ptr<jobs::JobStore> jobs;        // a durable pass's
  std::unique_ptr<replicate::StatusStore> status;
};

Result<ReplicationStores> OpenReplicationStores(const ReplicationRunSettings& settings) {
  ReplicationStores out;
  if (settings.dry_run) {
    if (settings.state.empty() && !std::ifstream(DefaultReplicationStatePath())) return out;
    FERRY_ASSIGN_OR_RETURN(out.session, OpenReplicationState(settings.state));
    FERRY_ASSIGN_OR_RETURN(out.status, replicate::StatusStore::Open(*out.session));
    return out;
  }
  FERRY_ASSIGN_OR_RETURN(out.jobs, jobs::OpenJobStore(ReplicationStateUrl(settings)));
  if (out.jobs->session() == nullptr) {
    return Status::InvalidArgument("--state: replication needs a SQL state store");
  }
  FERRY_ASSIGN_OR_RETURN(out.status, replicate::StatusStore::Open(*out.jobs->session()));
  return out;
}

// Why run `run` stopped before its deletes (past its --max-delete), or nullopt when it did not
// (or its counts cannot be read: the run's state then speaks for it).
std::optional<std::string> StoppedByGuard(jobs::JobStore& store, jobs::RunId run) {
  auto r = store.GetRun(run);
  auto counts = store.CountJobs(run);
  if (!r.ok() || !counts.ok()) return std::nullopt;
  auto options = jobs::DecodeRunOptions(r->spec.options);
  if (!options.ok()) return std::nullopt;
  return jobs::StoppedByDeleteGuard(*options, *counts);
}

// The durable pass of `o` (RunDurableReplication), with the SLA gauges (replicate/sla.h)
// refreshed from the status store at its start, every 30 s while it runs (for
// --metrics-listen), and at its end (for --metrics-file). Sets `result.status` and
// `result.durable`.
void RunReplicationDurablePass(const ReplicationRunSettings& settings,
                               const replicate::PassOptions& o, const std::string& destination,
                               ReplicationStores& stores, Engine& engine, Wiring& wiring,
                               replicate::PassStats& stats, std::stop_token stop,
                               ReplicationRunResult& result) {
  replicate::DurablePass pass;
  pass.source = o.source_name;
  pass.rules = *o.rules;
  pass.concurrency = o.concurrency;
  pass.retry_failed_only = o.retry_failed_only;
  pass.batch_versions = static_cast<uint64_t>(settings.batch_versions);
  pass.multipart_threshold = o.multipart_threshold;
  pass.part_size = o.part_size;
  pass.server_side_copy_limit = o.server_side_copy_limit;
  replicate::SlaMetrics sla(obs::DefaultRegistry(), o.source_name, o.rules);
  Result<ReplicationDurableSummary> outcome = Status::Internal("no pass");
  {
    replicate::SlaRefresher refresh(sla, *stores.status, SystemClock::Default());
    outcome = RunDurableReplication(
        *stores.jobs, wiring,
        {.pass = pass, .destination = destination, .settings = settings, .engine = &engine},
        stats, stop);
  }
  if (!outcome.ok()) {
    result.status = outcome.status();
    return;
  }
  result.durable = *outcome;
  if (outcome->detached) return;
  if (stop.stop_requested()) {
    result.status = Status::Cancelled("replication pass interrupted; rerun to resume run " +
                                      std::to_string(outcome->run));
  } else if (std::optional<std::string> why = StoppedByGuard(*stores.jobs, outcome->run)) {
    result.deletes_refused = true;
    result.status = Status::FailedPrecondition("run " + std::to_string(outcome->run) + ": " + *why);
  } else if (outcome->progress != jobs::RunProgress::kDone) {
    result.status = Status::Unavailable(
        "run " + std::to_string(outcome->run) + " failed with dead jobs: see ferry jobs dlq " +
        "--state " + state::RedactUrl(ReplicationStateUrl(settings)) +
        "; ferry jobs redrive, then rerun");
  }
}

// The per-object report after a pass, and when the pass began (unix ns): the rows COMPLETED
// before then are an earlier pass's (replicate::PerObjectRow).
struct PassReport {
  OpenReport* rows = nullptr;  // --report LOCATION; null: none
  int64_t started_ns = 0;
};

// Status rows read and written per page: what the report holds in memory at once.
constexpr int64_t kReportPageRows = 2000;

// Writes a row per status row of the source to `report` (PerObjectRow), page by page
// (StatusStore::ForEachRow), then finishes it.
Status WritePerObjectReport(const ReplicationTargets& targets, replicate::StatusStore& store,
                            const PassReport& report, const ReplicationRunResult& result) {
  FERRY_RETURN_IF_ERROR(store.ForEachRow(
      targets.source_name, kReportPageRows, [&](const replicate::VersionStatus& row) {
        report.rows->writer().Add(
            replicate::PerObjectRow(row, targets.source.prefix, report.started_ns));
        return Status::Ok();
      }));
  report::FinishInfo info;
  info.not_checked.push_back(
      "checksums: the status store does not record what proved a version's bytes (none)");
  if (!result.status.ok()) {
    info.not_checked.push_back("the pass ended early: " + result.status.message());
  }
  return report.rows->Finish(info);
}

// After the pass: the failures and the report come from the status store (every version of
// the pass, whichever process replicated it). Sets `result.failures`; an error stops there.
Status FinishReplication(const ReplicationRunSettings& settings,
                         const ReplicationTargets& targets, replicate::StatusStore* store,
                         const replicate::PassStats& stats, PassReport report,
                         ReplicationRunResult& result) {
  result.failures = stats.failed.load();
  if (result.durable) {
    const int64_t created_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                   result.durable->created.time_since_epoch())
                                   .count();
    FERRY_ASSIGN_OR_RETURN(
        int64_t failed,
        store->CountSince(targets.source_name, replicate::VersionState::kFailed, created_ns));
    result.failures += static_cast<uint64_t>(failed);
    // The pass is the durable run, which a rerun after an interruption resumes: what it
    // completed before the interruption is its own.
    report.started_ns = created_ns;
  }
  if ((settings.report.empty() && report.rows == nullptr) || store == nullptr) {
    return Status::Ok();
  }
  if (report.rows != nullptr) return WritePerObjectReport(targets, *store, report, result);
  // --report-format s3-batch: PREFIX.csv and PREFIX.json, written page by page as well
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<replicate::ReportFiles> files,
                         replicate::ReportFiles::Open(settings.report));
  const std::string bucket = targets.source.is_s3() ? targets.source.bucket : targets.source.path;
  FERRY_RETURN_IF_ERROR(store->ForEachRow(
      targets.source_name, kReportPageRows, [&](const replicate::VersionStatus& row) {
        return files->Add(replicate::ReportRowOf(row, bucket, targets.source.prefix));
      }));
  return files->Finish();
}

}  // namespace

std::string DefaultReplicationStatePath() { return StateDir() + "/replication.db"; }

Result<std::unique_ptr<state::SqlSession>> OpenReplicationState(const std::string& url) {
  static SystemClock clock;
  return state::OpenSession(url.empty() ? DefaultReplicationStatePath() : url, clock);
}

Status ValidateReplicationSettings(const ReplicationRunSettings& settings) {
  if (settings.dry_run && settings.detach) {
    return Status::InvalidArgument("--dry-run cannot be combined with --detach");
  }
  if (settings.dry_run && settings.retry_failed) {
    return Status::InvalidArgument("--dry-run cannot be combined with --retry-failed");
  }
  if ((settings.dry_run || settings.detach) && settings.rows_report.wanted()) {
    return Status::InvalidArgument(std::string(settings.dry_run ? "--dry-run" : "--detach") +
                                   " cannot be combined with --report (a report is written "
                                   "after a pass this command works on)");
  }
  if (settings.dry_run && settings.max_delete.enabled()) {
    return Status::InvalidArgument(
        "--dry-run cannot be combined with --max-delete (a dry run deletes nothing; its lines "
        "say which delete markers it would replicate)");
  }
  if (settings.concurrency < 0 || settings.concurrency > 1024) {
    return Status::InvalidArgument("--concurrency: must be between 1 and 1024");
  }
  if (!settings.memory.empty()) {
    auto memory = plan::ParseSize(settings.memory);
    if (!memory.ok()) return memory.status().WithContext("--memory");
    if (*memory == 0) return Status::InvalidArgument("--memory: must be above 0");
  }
  return Status::Ok();
}

EngineSettings ReplicationEngineSettings(const ReplicationRunSettings& settings) {
  EngineSettings e;
  e.profile = EngineProfile::kKeys;
  e.concurrency = settings.concurrency;
  e.memory = settings.memory;
  e.default_concurrency = 16;
  return e;
}

Result<ReplicationRunResult> RunReplication(Config config, const ReplicationRunSettings& settings,
                                            replicate::PassStats& stats, std::stop_token stop) {
  // When the pass began, for its report (a durable pass's is its run's creation instead).
  const int64_t started_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                                 ClockOr(settings.worker.clock).Now().time_since_epoch())
                                 .count();
  FERRY_ASSIGN_OR_RETURN(replicate::RuleSet rules, LoadReplicationRules(settings, config));
  FERRY_RETURN_IF_ERROR(ValidateReplicationSettings(settings));
  // Destinations are recorded under their canonical names, like the source.
  FERRY_ASSIGN_OR_RETURN(ReplicationTargets targets, ResolveReplication(settings.source, rules));
  replicate::PassOptions o = ReplicationPassOptions(settings, config);
  Wiring wiring(std::move(config));
  FERRY_ASSIGN_OR_RETURN(OpenedReplication opened, OpenReplication(wiring, targets, stop));
  std::unique_ptr<OpenReport> rows_report;  // checked before the pass, written after it
  if (settings.rows_report.wanted()) {  // never with --dry-run (refused above)
    FERRY_ASSIGN_OR_RETURN(rows_report,
                           OpenReport::Open(wiring, settings.rows_report, {}, stop));
  }
  for (const auto& [name, dst] : opened.destinations) o.destinations[name] = dst.get();
  o.source_name = targets.source_name;
  o.source = opened.source.get();
  o.rules = &rules;
  FERRY_ASSIGN_OR_RETURN(ReplicationStores stores, OpenReplicationStores(settings));
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<Engine> engine,
                         Engine::Open(ReplicationEngineSettings(settings), wiring.config()));
  o.concurrency = engine->keys();
  o.executor = &engine->executor();
  ReplicationRunResult result;
  if (settings.dry_run) {
    o.store = stores.status.get();  // only read; null when there are no statuses yet
    o.plan = settings.plan;
    result.status = replicate::RunPass(o, stats, stop);
  } else {
    RunReplicationDurablePass(settings, o, targets.destinations.front().first, stores, *engine,
                              wiring, stats, stop, result);
    if (result.durable && result.durable->detached) return result;
  }
  result.finish = FinishReplication(settings, targets, stores.status.get(), stats,
                                    {.rows = rows_report.get(), .started_ns = started_ns},
                                    result);
  return result;
}

}  // namespace ferry::app
