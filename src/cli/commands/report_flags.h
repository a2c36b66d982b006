// --report LOCATION, --report-format csv|json, --report-level errors|changes|all: a run's
// per-object report (app/report_open.h, docs/design/report.md). The flags registered, checked,
// and for cp/sync's run in memory the report opened before the run and finished after it.
#pragma once

#include <memory>
#include <stop_token>

#include <CLI/CLI.hpp>

#include "app/report_open.h"
#include "app/wiring.h"
#include "base/status.h"
#include "transfer/engine.h"
#include "transfer/sync.h"

namespace ferry::cli {

struct ReportArgs {
  app::ReportSettings settings;
  CLI::Option* format = nullptr;  // to tell a flag given from its default
  CLI::Option* level = nullptr;
};

void AddReportOptions(CLI::App* cmd, ReportArgs& args);

// kInvalidArgument, one line: a bad format or level, one given without --report, or --report
// (`durable` is no longer refused: a durable run's report is written by its workers).
Status CheckReportArgs(const ReportArgs& args, bool durable);

// The report asked for, opened and checked (nullptr when none was), its writer given to
// `transfer` (TransferOptions::report).
Result<std::unique_ptr<app::OpenReport>> OpenRunReport(const ReportArgs& args,
                                                       app::Wiring& wiring,
                                                       transfer::TransferOptions& transfer,
                                                       std::stop_token stop);

// Opens the report asked for (nullptr when none was) for a run that is not a copy (verify).
Result<std::unique_ptr<app::OpenReport>> OpenReportOnly(const ReportArgs& args,
                                                        app::Wiring& wiring,
                                                        std::stop_token stop);
// Finishes `report` (may be null) of a run that ended with `run` (its error, if any, is named
// in the summary's not_checked), `cost_json` its "cost" (report::FinishInfo). Errors: the
// report is incomplete.
Status FinishReportOnly(app::OpenReport* report, const Status& run,
                        const std::string& cost_json = "");

// Finishes `report` (may be null) after RunSync, its summary saying what `result` left
// undone. Returns `code`, or 1 when the report is incomplete (its error line printed).
int FinishRunReport(app::OpenReport* report, const transfer::SyncResult& result, int code);

}  // namespace ferry::cli
