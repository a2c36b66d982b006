// A durable run's per-object report (docs/design/report.md, "Durable runs"): each job's rows
// are held with the job (JobRows), written as one part of their own before the job's outcome
// is committed, and recorded (RecordedPart: the part's name, its rows' counts) in the state
// store in the transaction that commits the outcome; the run's end sums the recorded parts into
// one summary.json (WriteRunSummary). A part whose job never committed (its worker was killed
// after writing it, its lease was lost) is recorded by nobody and is not part of the report:
// the job's next attempt writes its rows again under another name. So a resumed run neither
// loses nor repeats a row.
//
// Thread-safety: JobRows::Add from any thread; the rest on one thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "report/row.h"
#include "storage/backend.h"

namespace ferry::report {

// What some rows count, whatever the level: per action and outcome, bytes of ok rows per
// action, ok copies proved by nothing.
struct Tally {
  uint64_t counts[kActionCount][kOutcomeCount] = {};
  uint64_t bytes[kActionCount] = {};
  uint64_t rows = 0;          // rows added
  uint64_t rows_written = 0;  // rows the level kept (in the part)
  uint64_t unchecked = 0;
  void Add(const Row& row, bool kept);
  void Merge(const Tally& other);
};

// One job attempt's part, as recorded with its outcome.
struct RecordedPart {
  std::string name;   // the part's object name; "" when the level kept no row (counts only)
  std::string error;  // "" when written; else why the part (rows_written rows) was lost
  Tally tally;
};
std::string EncodeRecordedPart(const RecordedPart& part);
Result<RecordedPart> DecodeRecordedPart(std::string_view json);

class JobRows final : public RowSink {
 public:
  JobRows(Format format, Level level, Clock& clock)
      : format_(format), level_(level), clock_(clock) {}
  void Add(Row row) override;
  // Forgets the rows `drop` says so of (a retried attempt's failed objects: the retry reports
  // them).
  void DropIf(const std::function<bool(const Row&)>& drop);
  bool empty() const;
  void Clear();  // after its part was written (a scan that hands work on writes several)
  // Writes the rows the level keeps as one part `<stem>.csv` (or .jsonl) in `location`, when
  // there are any, and returns its record. A write that fails is recorded as lost (error),
  // never retried here: the summary then says the report is incomplete.
  RecordedPart Write(storage::Backend& location, const std::string& stem);

 private:
  const Format format_;
  const Level level_;
  Clock& clock_;
  mutable std::mutex mu_;
  std::vector<Row> rows_;  // GUARDED_BY(mu_)
};

struct RunSummaryInput {
  std::string run_id;
  Format format = Format::kCsv;
  Level level = Level::kChanges;
  std::chrono::system_clock::time_point started{};
  std::chrono::system_clock::time_point ended{};
  std::vector<RecordedPart> parts{};       // every recorded part of the run
  std::vector<std::string> not_checked{};  // sentences, as FinishInfo's
};

// Writes `summary.json` of a durable run's report (the in-memory summary's fields, counts
// summed over the recorded parts). kDataLoss "report incomplete: ..." when a recorded part was
// lost (after writing the summary, which says "complete": false), or the summary's own write
// error.
Status WriteRunSummary(storage::Backend& location, const RunSummaryInput& input);
// Whether `s` is WriteRunSummary's "report incomplete" (the summary written, a part lost): a
// fact about the run's parts that writing again does not change, unlike the location's errors.
bool IsIncompleteReport(const Status& s);

}  // namespace ferry::report
