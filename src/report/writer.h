// ReportWriter: a run's per-object report (`--report LOCATION`, docs/design/report.md),
// written as the run goes, in parts, through a storage::Backend the caller opened on the
// report's location (a local folder or an S3 prefix), then a summary.json at the end.
//
// Memory is bounded whatever the row count: rows are encoded as they are added into the part
// being filled, which is cut and written (`part-<writer id>-<sequence>.csv` or `.jsonl`,
// sequence from 1, six digits) once it holds `rows_per_part` rows or `part_bytes` bytes, or
// `part_interval` (on the Clock) passed since its first row, whichever comes first. One part
// is written at a time: an Add that cuts a part while another is being written waits for it,
// so at most two parts are held (one being written, one filling), plus one row per thread.
// A quiet run's last rows wait for the next Add or Finish (the time cut is checked on Add).
//
// Every row is counted in the summary (per action and outcome, and bytes) whatever the level;
// the level (Keeps) decides which rows are written.
//
// A part whose write fails (after the backend's own retries) is not held or tried again: its
// rows are lost to the report, which says so: the summary lists it under "parts_failed" with
// its row count and error, marks the report "complete": false, and Finish returns the error
// the caller returns. Never silent.
//
// Thread-safety: Add from any number of threads; Finish once, after the last Add returned.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "report/row.h"
#include "storage/backend.h"

namespace ferry::report {

struct WriterOptions {
  Format format = Format::kCsv;
  Level level = Level::kChanges;
  size_t rows_per_part = 10000;
  uint64_t part_bytes = 16ull << 20;
  std::chrono::milliseconds part_interval{std::chrono::seconds(60)};
  std::string run_id{};   // the summary's "run_id"
  std::string writer_id{};  // in each part's name; "" means the run id
  // Stamps rows, the summary's times and the part interval. Null: the system clock. Not owned.
  Clock* clock = nullptr;
};

// What the caller adds to the summary at the end.
struct FinishInfo {
  // Things the run could not check or do, each one sentence (e.g. "deletes skipped: a copy
  // failed"); the summary's "not_checked".
  std::vector<std::string> not_checked;
  // What the run cost, as a JSON object (the requests by op class, bytes out and dollars per
  // store that its summary prints: docs/design/cost.md); the summary's "cost". "" or text that
  // is not a JSON object: none.
  std::string cost_json{};
};

class ReportWriter final : public RowSink {
 public:
  // `location` must outlive the writer; it is written with Put only.
  ReportWriter(storage::Backend& location, WriterOptions options);
  ReportWriter(const ReportWriter&) = delete;
  ReportWriter& operator=(const ReportWriter&) = delete;

  void Add(Row row) override;

  // Writes the last part, then summary.json. OK when every part and the summary were written;
  // otherwise kDataLoss "report incomplete: ..." naming what was lost.
  Status Finish(const FinishInfo& info = {});

  struct PartRecord {
    std::string name;
    uint64_t rows = 0;
    std::string error;  // "" when written
  };
  // Counts so far (tests, summary): rows added per action and outcome.
  uint64_t Count(Action action, Outcome outcome) const;
  uint64_t rows_added() const;
  uint64_t rows_written() const;
  std::vector<PartRecord> parts() const;

 private:
  struct Part {
    uint64_t sequence = 0;
    uint64_t rows = 0;
    std::string text;
  };
  bool PartDueLocked() const;
  Part TakePartLocked();
  // Writes `part` (not under mu_) and records the outcome.
  void WritePart(Part part);
  Status WriteSummary(const FinishInfo& info);
  std::string PartName(uint64_t sequence) const;

  storage::Backend& location_;
  const WriterOptions options_;
  Clock& clock_;
  const std::chrono::system_clock::time_point started_;

  mutable std::mutex mu_;
  std::condition_variable writing_done_;
  bool writing_ = false;                          // GUARDED_BY(mu_): a part is being written
  std::string buffer_;                            // GUARDED_BY(mu_): the part being filled
  uint64_t buffer_rows_ = 0;                      // GUARDED_BY(mu_)
  Clock::MonoTime buffer_started_{};              // GUARDED_BY(mu_): its first row's time
  uint64_t next_sequence_ = 1;                    // GUARDED_BY(mu_)
  uint64_t counts_[kActionCount][kOutcomeCount] = {};  // GUARDED_BY(mu_)
  uint64_t bytes_[kActionCount] = {};             // GUARDED_BY(mu_): sizes of ok rows
  uint64_t rows_added_ = 0;                       // GUARDED_BY(mu_)
  uint64_t rows_written_ = 0;                     // GUARDED_BY(mu_): in parts written
  uint64_t unchecked_ = 0;                        // GUARDED_BY(mu_): ok copies proved by nothing
  std::vector<PartRecord> parts_;                 // GUARDED_BY(mu_): by sequence once finished
};

}  // namespace ferry::report
