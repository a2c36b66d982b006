// The keys of a --files-from run (docs/design/key-lists.md): a batch of sorted keys looked up
// on both sides (LookUpKeys, shared with the in-memory run of app/files_from.cc), and one
// chunk of a durable run's list planned as a scan's chunk is (ScanKeys, the "list-scan" kind).
//
// Only the listed keys are read, planned, copied or deleted: each side's objects are those of
// the batch's keys (storage/find_keys.h: a listing of the batch's range where the keys are
// dense, a Stat each where they are sparse), so a destination key that is not listed is never
// seen, never planned as destination-only, never deleted.
//
// Thread-safety: one call per thread; the backends and executor are thread-safe.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "jobs/job_store.h"
#include "jobs/scan.h"
#include "report/row.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transfer/stats.h"

namespace ferry::jobs {

// What two sides have of a batch of keys, each side's objects in ascending key order.
struct KeysFound {
  std::vector<storage::ObjectInfo> source;
  std::vector<storage::ObjectInfo> destination;
  std::vector<std::string> missing;  // keys the source lacks (ascending)
};

// Looks `keys` (ascending, unique) up on both sides: both sides' listing phases at once, then
// every Stat of both sides, each a task of `executor` (the caller must not be one of its
// workers). Errors: a side's (naming it), kCancelled on `stop`.
Result<KeysFound> LookUpKeys(transfer::Executor& executor, storage::Backend& src,
                             storage::Backend& dst, const std::vector<std::string>& keys,
                             std::stop_token stop);

// Counts `missing` in stats.listed_not_found and names the first kNamedMissingAtMost (per
// process's stats) in warning lines: a listed key the source lacks is not a failure.
inline constexpr uint64_t kNamedMissingAtMost = 1000;
// The report's error messages of keys not on the source (ReportNotOnSource).
inline constexpr std::string_view kListedNotOnSource = "listed but not found on the source";
inline constexpr std::string_view kGoneSinceInventory = "gone since the inventory";
void CountMissing(const std::vector<std::string>& missing, transfer::Stats& stats);

// --report: the keys a list or inventory named that neither side has (`missing`, ascending:
// the source lacks them; `destination`, ascending keys) each get a row (transfer::NotOnSourceRow
// with `why`). A key the destination has gets the plan's row as any destination-only key does
// (deleted, or none when the run keeps it). Nothing without `rows`.
void ReportNotOnSource(const std::vector<std::string>& missing,
                       const std::vector<storage::ObjectInfo>& destination, std::string_view why,
                       report::RowSink* rows);
// The same with the destination's keys given by `at_destination`.
void ReportNotOnSource(const std::vector<std::string>& missing,
                       const std::function<bool(const std::string&)>& at_destination,
                       std::string_view why, report::RowSink* rows);

// One list-scan job: `keys` looked up on both sides (on the worker's executor) and planned by
// the run's planner into transfer and parked delete jobs (appended to `more`), as a scan
// chunk plans a listing's. A run served by a RunHook (a compressed run) is kNotSupported.
Status ScanKeys(const ScanContext& scan, const std::vector<std::string>& keys,
                std::vector<JobSpec>& more, std::stop_token stop);

// The list-scan jobs of run `run` from the sorted keys `next` yields (nullptr at the end):
// kListChunkKeys keys a job, in key order.
Result<std::vector<JobSpec>> ListScanJobs(RunId run, int max_attempts,
                                          const std::function<Result<const std::string*>()>& next);

}  // namespace ferry::jobs
