#include "app/report_open.h"

#include <time.h>
#include <unistd.h>

#include <cstdio>

#include "app/location.h"

namespace ferry::app {
namespace {

// "20260101T000000Z-1a2b": sorts by start time, and two runs of one second differ by process.
std::string NewReportRunId(const Clock& clock) {
  const time_t secs = std::chrono::system_clock::to_time_t(clock.Now());
  struct tm tm {};
  gmtime_r(&secs, &tm);
  char when[24];
  std::strftime(when, sizeof when, "%Y%m%dT%H%M%SZ", &tm);
  char id[48];
  std::snprintf(id, sizeof id, "%s-%x", when, static_cast<unsigned>(getpid()));
  return id;
}

}  // namespace

Status CheckReportSettings(const ReportSettings& settings, bool format_given, bool level_given) {
  if (!settings.wanted() && (format_given || level_given)) {
    const char* flag = format_given ? "--report-format" : "--report-level";
    return Status::InvalidArgument(std::string(flag) + " needs --report LOCATION");
  }
  FERRY_RETURN_IF_ERROR(report::ParseFormat(settings.format).status());
  return report::ParseLevel(settings.level).status();
}

Result<std::unique_ptr<OpenReport>> OpenReport::Open(Wiring& wiring,
                                                     const ReportSettings& settings,
                                                     const Options& options,
                                                     std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(report::Format format, report::ParseFormat(settings.format));
  FERRY_ASSIGN_OR_RETURN(report::Level level, report::ParseLevel(settings.level));
  auto location = ParseLocation(settings.location);
  if (!location.ok()) return location.status().WithContext("--report");
  auto backend = wiring.OpenBackend(*location, /*create_local=*/true);
  if (!backend.ok()) return backend.status().WithContext("--report");
  if (Status s = (*backend)->Check(stop); !s.ok()) return s.WithContext("--report");
  std::unique_ptr<OpenReport> open(new OpenReport());
  open->location_ = std::move(backend).value();
  open->run_id_ = options.run_id.empty() ? NewReportRunId(ClockOr(options.clock)) : options.run_id;
  open->writer_ = std::make_unique<report::ReportWriter>(
      *open->location_, report::WriterOptions{.format = format,
                                              .level = level,
                                              .rows_per_part = options.rows_per_part,
                                              .part_interval = options.part_interval,
                                              .run_id = open->run_id_,
                                              .clock = options.clock});
  return open;
}

Status OpenReport::Finish(const report::FinishInfo& info) {
  Status s = writer_->Finish(info);
  if (!s.ok()) return s.WithContext("--report " + location_->Describe());
  return s;
}

}  // namespace ferry::app
