#include "cli/commands/report_flags.h"

#include <cstdio>

#include "cli/commands.h"

namespace ferry::cli {

void AddReportOptions(CLI::App* cmd, ReportArgs& args) {
  cmd->add_option("--report", args.settings.location,
                  "write a row per object to LOCATION (a folder or s3://bucket/prefix), in parts, "
                  "and summary.json at the end (a durable run: a part per job of every worker, "
                  "one summary; a resumed run neither loses nor repeats a row)");
  args.format = cmd->add_option("--report-format", args.settings.format,
                                "csv (default) or json (JSON lines)");
  args.level = cmd->add_option("--report-level", args.settings.level,
                               "errors, changes (default: failures and what changed) or all "
                               "(skipped objects too)");
}

Status CheckReportArgs(const ReportArgs& args, [[maybe_unused]] bool durable) {
  // A durable run's report is the run's (jobs/job_report.h): nothing refused for it here; what
  // does not go with it (--detach, --compress) copy_durable.cc refuses.
  return app::CheckReportSettings(args.settings,
                                  args.format != nullptr && args.format->count() > 0,
                                  args.level != nullptr && args.level->count() > 0);
}

Result<std::unique_ptr<app::OpenReport>> OpenRunReport(const ReportArgs& args,
                                                       app::Wiring& wiring,
                                                       transfer::TransferOptions& transfer,
                                                       std::stop_token stop) {
  if (!args.settings.wanted()) return std::unique_ptr<app::OpenReport>();
  FERRY_ASSIGN_OR_RETURN(auto report, app::OpenReport::Open(wiring, args.settings, {}, stop));
  transfer.report = &report->writer();
  return report;
}

Result<std::unique_ptr<app::OpenReport>> OpenReportOnly(const ReportArgs& args,
                                                        app::Wiring& wiring,
                                                        std::stop_token stop) {
  if (!args.settings.wanted()) return std::unique_ptr<app::OpenReport>();
  return app::OpenReport::Open(wiring, args.settings, {}, stop);
}

Status FinishReportOnly(app::OpenReport* report, const Status& run,
                        const std::string& cost_json) {
  if (report == nullptr) return Status::Ok();
  report::FinishInfo info;
  info.cost_json = cost_json;
  if (!run.ok()) info.not_checked.push_back("the run ended early: " + run.message());
  return report->Finish(info);
}

int FinishRunReport(app::OpenReport* report, const transfer::SyncResult& result, int code) {
  if (report == nullptr) return code;
  report::FinishInfo info;
  if (result.deletes_skipped) {
    info.not_checked.push_back("deletes skipped: something failed, nothing was deleted");
  }
  if (result.delete_limit_tripped) {
    info.not_checked.push_back("deletes not made: past --max-delete");
  }
  if (!result.status.ok() && !result.delete_limit_tripped) {
    info.not_checked.push_back("the run ended early: " + result.status.message());
  }
  Status s = report->Finish(info);
  if (!s.ok()) {
    ReportError(s);
    return code == 0 ? 1 : code;
  }
  return code;
}

}  // namespace ferry::cli
