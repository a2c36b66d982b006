// ferry replicate SRC: its flags, one replication pass (app::RunReplication, in
// app/replication_run.h: the durable run this command works on beside any `ferry worker
// --state`, resumed by a rerun; or a dry run), and its summary. `ferry replicate status`:
// replicate_status.cc.
#include <atomic>
#include <map>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "app/delete_limits.h"
#include "app/notify_run.h"
#include "app/replication_run.h"
#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/cost_report.h"
#include "cli/commands/replicate_internal.h"
#include "cli/commands/report_flags.h"
#include "replicate/pass.h"
#include "state/state_url.h"

namespace ferry::cli {
namespace {

struct ReplicateArgs {
  std::string src;
  std::string rules_json;
  std::string state;
  ReportArgs report;  // --report, --report-format (csv|json|s3-batch), --report-level
  bool dry_run = false;
  bool retry_failed = false;
  bool json = false;
  bool restart = false;
  bool detach = false;  // --detach: the run queued (or found unfinished) for workers, not worked
  int concurrency = 0;
  std::string memory;  // --memory: the buffer budget of the process's executor
  int batch_versions = 200;
  ListingArgs listing;
  std::vector<std::string> notify;  // --notify URL: besides the config's [[notify]]
  std::string max_delete;  // --max-delete N|P%: else [replication] max_delete, else none
};

// The summary's counters, by their names in --json.
using SummaryField = std::pair<const char*, const std::atomic<uint64_t>*>;
std::vector<SummaryField> SummaryFields(const replicate::PassStats& s) {
  return {{"versions_listed", &s.versions_listed}, {"replicated", &s.replicated},
          {"delete_markers", &s.delete_markers},   {"already_completed", &s.already},
          {"replicas_skipped", &s.replicas},       {"recovered", &s.recovered},
          {"kept_current", &s.restored},           {"failed", &s.failed},
          {"would_replicate", &s.planned},         {"bytes", &s.bytes},
          {"server_side_copies", &s.server_side}, {"server_side_part_copies", &s.server_side_parts},
          {"unverified", &s.unverified}, {"kms_not_selected", &s.kms_not_selected},
          {"parts_resumed", &s.parts_resumed}, {"bytes_resumed", &s.bytes_resumed},
          {"tags_synced", &s.tags_synced}, {"transported", &s.transported},
          {"transport_archives", &s.transport_archives},
          {"transport_bytes_in", &s.transport_bytes_in},
          {"transport_bytes_wire", &s.transport_bytes_wire}};
}

void PrintSummaryJson(const ReplicateArgs& a, const replicate::PassStats& s,
                      const app::ReplicationRunResult& run,
                      const std::vector<StoreRunCost>& costs) {
  nlohmann::json j;
  for (const auto& [name, value] : SummaryFields(s)) j[name] = value->load();
  // the requests this process sent (docs/design/cost.md); a dry run's, with its estimate
  j["cost"] = StoreCostsJson(costs);
  j["cost"]["estimate"] = a.dry_run;
  j["dry_run"] = a.dry_run;
  if (run.durable) {
    j["run"] = run.durable->run;
    j["resumed"] = run.durable->resumed;
  }
  j["ok"] = run.status.ok() && s.failed.load() == 0;
  if (!run.status.ok()) j["error"] = run.status.message();
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// The text summary: one line of totals, then a line for each of what happened only sometimes.
void PrintSummaryText(const replicate::PassStats& s) {
  std::printf(
      "replicated %llu versions (%llu delete markers, %llu bytes, %llu server-side), "
      "%llu already completed, %llu replicas skipped, %llu failed\n",
      static_cast<unsigned long long>(s.replicated.load()),
      static_cast<unsigned long long>(s.delete_markers.load()),
      static_cast<unsigned long long>(s.bytes.load()),
      static_cast<unsigned long long>(s.server_side.load()),
      static_cast<unsigned long long>(s.already.load()),
      static_cast<unsigned long long>(s.replicas.load()),
      static_cast<unsigned long long>(s.failed.load()));
  if (s.unverified.load() > 0) {
    std::printf("%llu versions replicated unverified: no checksum they declare could prove "
                "the bytes read\n",
                static_cast<unsigned long long>(s.unverified.load()));
  }
  if (s.kms_not_selected.load() > 0) {
    std::printf("%llu versions not replicated: they are encrypted (SSE-KMS or SSE-C) and their "
                "rule does not select SseKmsEncryptedObjects\n",
                static_cast<unsigned long long>(s.kms_not_selected.load()));
  }
  if (s.parts_resumed.load() > 0) {
    std::printf("resumed interrupted uploads: %llu parts (%llu bytes) already written were not "
                "sent again\n",
                static_cast<unsigned long long>(s.parts_resumed.load()),
                static_cast<unsigned long long>(s.bytes_resumed.load()));
  }
  if (s.transport_archives.load() > 0) {
    std::printf("transported %llu versions in %llu archives (%llu bytes in, %llu on the wire)\n",
                static_cast<unsigned long long>(s.transported.load()),
                static_cast<unsigned long long>(s.transport_archives.load()),
                static_cast<unsigned long long>(s.transport_bytes_in.load()),
                static_cast<unsigned long long>(s.transport_bytes_wire.load()));
  }
}

void PrintSummary(const ReplicateArgs& a, const replicate::PassStats& s,
                  const app::ReplicationRunResult& run, const std::vector<StoreRunCost>& costs) {
  if (a.json) return PrintSummaryJson(a, s, run, costs);
  if (a.dry_run) {
    std::printf("dry run: %llu versions would be replicated (%llu listed)\n",
                static_cast<unsigned long long>(s.planned.load()),
                static_cast<unsigned long long>(s.versions_listed.load()));
    PrintStoreCostLines(stdout, costs, true);
    return;
  }
  PrintSummaryText(s);
  for (const std::string& line : StoreCostLines(costs)) std::printf("%s\n", line.c_str());
}

// A dry run's planned versions (replicate::PlannedVersion) counted per destination, for its
// estimate.
class ReplicatePlanTally {
 public:
  void Add(const replicate::PlannedVersion& p) {
    std::lock_guard lock(mu_);
    Planned& d = by_destination_[p.destination];
    (p.delete_marker ? d.markers : d.versions)++;
    d.bytes += p.size;
  }

  // What the planned versions would send from `source` (estimate::AddPlannedCopies), each
  // destination's with its own versions' bytes.
  estimate::StoreUsages Usages(const app::Location& source) const {
    std::lock_guard lock(mu_);
    estimate::StoreUsages usages;
    for (const auto& [dest, p] : by_destination_) {
      auto loc = app::ParseLocation(dest);
      if (!loc.ok()) continue;
      estimate::AddPlannedCopies(usages, {.from = StoreLabelOf(source),
                                          .to = StoreLabelOf(*loc),
                                          .objects = p.versions,
                                          .bytes = p.bytes,
                                          .deletes = p.markers,
                                          .source_deletes = 0});
    }
    return usages;
  }

 private:
  struct Planned {
    uint64_t versions = 0;
    uint64_t markers = 0;
    uint64_t bytes = 0;
  };
  mutable std::mutex mu_;
  std::map<std::string, Planned> by_destination_;
};

// --report with --report-format s3-batch: the S3 Batch Operations files PREFIX.csv and
// PREFIX.json (replicate/report.h), which have no level; any other format is the per-object
// report (report_flags.h). kInvalidArgument, one line, for a bad combination.
Status ApplyReportArgs(const ReplicateArgs& a, app::ReplicationRunSettings& s) {
  if (a.report.settings.format != "s3-batch") {
    if (Status c = CheckReportArgs(a.report, /*durable=*/true); !c.ok()) {
      if (a.report.settings.format != "csv" && a.report.settings.format != "json") {
        return Status::InvalidArgument("--report-format: csv, json or s3-batch, not \"" +
                                       a.report.settings.format + "\"");
      }
      return c;
    }
    s.rows_report = a.report.settings;
    return Status::Ok();
  }
  if (!a.report.settings.wanted()) {
    return Status::InvalidArgument("--report-format s3-batch: needs --report PREFIX");
  }
  if (a.report.level != nullptr && a.report.level->count() > 0) {
    return Status::InvalidArgument(
        "--report-level: not taken by --report-format s3-batch (it reports every version)");
  }
  s.report = a.report.settings.location;
  return Status::Ok();
}

// The settings of the pass as the command line gives them. kInvalidArgument for listing
// options out of range (a dry run has no workers: not looked at) and bad --report flags.
Result<app::ReplicationRunSettings> SettingsOf(const ReplicateArgs& a) {
  app::ReplicationRunSettings s;
  s.source = a.src;
  s.rules_json = a.rules_json;
  s.state = a.state;
  FERRY_RETURN_IF_ERROR(ApplyReportArgs(a, s));
  s.dry_run = a.dry_run;
  s.retry_failed = a.retry_failed;
  s.restart = a.restart;
  s.detach = a.detach;
  s.concurrency = a.concurrency;
  s.memory = a.memory;
  s.batch_versions = a.batch_versions;
  if (!a.dry_run) FERRY_RETURN_IF_ERROR(ApplyListingOptions(a.listing, s.worker));
  return s;
}

int RunReplicate(const ReplicateArgs& a, Context& ctx) {
  auto config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  auto settings = SettingsOf(a);
  if (!settings.ok()) return ReportError(settings.status());
  auto targets = app::RunTargets(*config, a.notify);  // app/notify_run.h; a dry run tells none
  if (!targets.ok()) return ReportError(targets.status());
  if (!a.dry_run) settings->notify = std::move(targets).value();
  // --max-delete, else [replication] max_delete (a dry run deletes nothing: the key is not its)
  auto limit = app::ResolveDeleteLimit(
      a.max_delete, a.dry_run ? std::nullopt : config->replication.max_delete,
      "[replication] max_delete");
  if (!limit.ok()) return ReportError(limit.status());
  settings->max_delete = limit->limit;
  if (!limit->flag) settings->max_delete.from = limit->name;
  std::mutex print_mu;
  ReplicatePlanTally tally;
  settings->plan = [&print_mu, &tally](const replicate::PlannedVersion& p) {  // a dry run's
    tally.Add(p);
    std::lock_guard lock(print_mu);
    std::printf("would replicate: %s\n", replicate::PlanLine(p).c_str());
  };
  // the stores' prices, for what the pass cost (cost_report.h)
  const app::Config pricing = *config;
  const StoreCostMetrics store_costs(pricing);
  replicate::PassStats stats;
  auto run = app::RunReplication(std::move(config).value(), *settings, stats, ctx.stop);
  if (!run.ok()) return ReportError(run.status());
  if (run->durable && run->durable->detached) {
    std::fprintf(stderr, "replication run %lld %s; workers: ferry worker --state %s\n",
                 static_cast<long long>(run->durable->run),
                 run->durable->resumed ? "is unfinished (not queued again)" : "queued",
                 state::RedactUrl(a.state.empty() ? app::DefaultReplicationStatePath() : a.state)
                     .c_str());
    return 0;
  }
  std::vector<StoreRunCost> costs = MeasuredStoreCosts(pricing);
  if (a.dry_run) {
    if (auto src = app::ParseLocation(a.src); src.ok()) {
      AddEstimatedUsage(costs, pricing, tally.Usages(*src));
    }
  }
  PrintSummary(a, stats, *run, costs);
  if (!run->finish.ok()) return ReportError(run->finish);
  if (!run->status.ok()) {
    const int code = ReportError(run->status);  // 2 for a refusal (kInvalidArgument)
    return run->deletes_refused ? 2 : code;     // --max-delete: nothing deleted (2), as sync's
  }
  return run->failures > 0 ? 1 : 0;
}

}  // namespace

void RegisterReplicate(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<ReplicateArgs>();
  auto status_args = std::make_shared<StatusArgs>();
  CLI::App* cmd = app.add_subcommand(
      "replicate",
      "replicate every version of SRC to the destinations of its replication rules (one pass); "
      "`ferry replicate status` shows the replica status");
  cmd->add_option("SRC", args->src, "the source: NAME:bucket/prefix or s3://bucket/prefix");
  cmd->add_option("--replication-config", args->rules_json,
                  "S3 ReplicationConfiguration JSON (as `aws s3api get-bucket-replication` "
                  "prints it); bucket ARNs map to locations in [replication.buckets]");
  cmd->add_option("--state", args->state,
                  "state store of replica statuses and of the pass's jobs, which `ferry worker "
                  "--state` processes share (SQLite path or postgres://...; default "
                  "replication.db in ~/.local/state/ferry)");
  cmd->add_flag("-n,--dry-run", args->dry_run, "print what each rule would replicate");
  cmd->add_flag("--retry-failed", args->retry_failed, "replicate only the FAILED versions again");
  AddReportOptions(cmd, args->report);
  cmd->get_option("--report")->description(
      "after the pass, write a row per version, rule and destination the status store holds "
      "for SRC to LOCATION (a folder or s3://bucket/prefix) and summary.json "
      "(docs/design/report.md); with --report-format s3-batch, PREFIX.csv and PREFIX.json");
  args->report.format->description(
      "csv (default), json (JSON lines), or s3-batch: the S3 Batch Operations completion "
      "report, --report PREFIX written as PREFIX.csv and PREFIX.json (no --report-level)");
  cmd->add_flag("--json", args->json, "print the summary as JSON");
  cmd->add_option("--concurrency", args->concurrency,
                  "the process runs 4 x N requests at once, at least 16 (default N = 16): keys, "
                  "and the parts of large versions");
  cmd->add_option("--memory", args->memory,
                  "buffer memory budget of the process, every version byte held counted in "
                  "it (default 128MiB)");
  cmd->add_option("--batch-versions", args->batch_versions,
                  "versions per replicate-keys job; a key's versions stay in one job "
                  "(default 200)")
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--max-delete", args->max_delete,
                  "N or P%: the deletes the pass may make where a destination keeps no versions "
                  "(a replicated delete marker there deletes the key), counted before the first: "
                  "past it, delete nothing, say so and exit 2; P% of the source keys "
                  "(default: [replication] max_delete, else no limit)");
  cmd->add_flag("--detach", args->detach,
                "queue the pass as a run of the state store and return: `ferry worker --state` "
                "serves it (a pass left unfinished is not queued twice)");
  cmd->add_flag("--restart", args->restart,
                "discard the unfinished pass of this source in the state store and start anew");
  cmd->add_option("--notify", args->notify,
                  "tell URL when the pass's run ends (http(s)://... webhook, sns:TOPIC_ARN, "
                  "sqs:QUEUE_URL; repeatable), besides the config's [[notify]] "
                  "(docs/design/notify.md)");
  AddListingOptions(cmd, args->listing);
  CLI::App* status = cmd->add_subcommand("status", "counts per rule and destination, failures");
  status->add_option("--state", status_args->state, "state store (as for ferry replicate)");
  status->add_option("--source", status_args->source, "only this source location");
  status->add_flag("--json", status_args->json, "print as JSON");
  status->callback(
      [status_args, &ctx] { ctx.exit_code = RunReplicateStatus(*status_args, ctx); });
  cmd->callback([status, args, &ctx] {
    if (status->parsed()) return;
    if (args->src.empty()) {
      ctx.exit_code = ReportError(Status::InvalidArgument("replicate: SRC is required"));
      return;
    }
    ctx.exit_code = RunReplicate(*args, ctx);
  });
}

}  // namespace ferry::cli
