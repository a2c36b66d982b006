// A run's per-object report opened and closed (`--report LOCATION`, `--report-format`,
// `--report-level`; report/writer.h, docs/design/report.md): the location parsed and opened
// through the run's Wiring (a local folder, created, or an S3 prefix), checked once before the
// run starts, and a ReportWriter on it whose rows the run adds (TransferOptions::report).
//
// For runs in memory (cp/sync --no-state or --dry-run, verify). A durable run's report is
// written by its workers, a part per job, and summed at its end (jobs/job_report.h).
//
// Thread-safety: Open and Finish on the run's thread; sink() is the writer, whose Add is
// thread-safe.
#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "app/wiring.h"
#include "base/clock.h"
#include "base/status.h"
#include "report/writer.h"
#include "storage/backend.h"

namespace ferry::app {

// The flags as given (the CLI declares them; nothing is checked there).
struct ReportSettings {
  std::string location;          // --report; "" means no report
  std::string format = "csv";    // --report-format csv|json
  std::string level = "changes";  // --report-level errors|changes|all
  bool wanted() const { return !location.empty(); }
};

// kInvalidArgument naming the flag when format or level is not one of theirs, or when a
// format or level is given without --report (nothing in a command line is silently ignored:
// `format_given`/`level_given` say whether the user typed them).
Status CheckReportSettings(const ReportSettings& settings, bool format_given, bool level_given);

class OpenReport {
 public:
  struct Options {
    // Run id for the summary and the parts' names; "" makes one from the time and the process
    // id ("20260101T000000Z-1a2b").
    std::string run_id;
    Clock* clock = nullptr;  // null: the system clock
    size_t rows_per_part = 10000;
    std::chrono::milliseconds part_interval{std::chrono::seconds(60)};
  };
  // Opens `settings.location` through `wiring` (a local folder is created) and checks it
  // (Backend::Check): a bad bucket or key fails here, with one line naming --report.
  static Result<std::unique_ptr<OpenReport>> Open(Wiring& wiring, const ReportSettings& settings,
                                                  const Options& options, std::stop_token stop);

  report::ReportWriter& writer() { return *writer_; }
  const std::string& run_id() const { return run_id_; }
  std::string Describe() const { return location_->Describe(); }

  // Writes the last part and summary.json (report/writer.h: Finish). An error says the report
  // is incomplete: the caller prints it and fails the run.
  Status Finish(const report::FinishInfo& info);

 private:
  OpenReport() = default;
  std::unique_ptr<storage::Backend> location_;
  std::unique_ptr<report::ReportWriter> writer_;
  std::string run_id_;
};

}  // namespace ferry::app
