// A run planned from S3 Inventory rows (`--source-inventory` [`--dest-inventory`], docs/design/
// inventory.md): the batch step shared by the in-memory run (app/files_from.cc) and a durable
// run's list-scan jobs, whose payloads carry the rows (the "rows" form of a list-scan payload).
//
// Rows are claims (inventory/row_checks.h): a pair whose rows the run's plan would leave alone
// costs no request; a key it would write or delete is read now (a Stat each side, as tasks of
// the executor) and planned on those facts; a key the source's inventory named and the source no
// longer has is gone since the inventory: counted in Stats::listed_not_found and named in a
// warning, never a failure. Without a destination inventory the destination's objects of the
// batch's keys are looked up first (storage/find_keys.h), current facts already.
//
// Thread-safety: one call per thread; the backends and executor are thread-safe.
#pragma once

#include <functional>
#include <stop_token>
#include <string>
#include <vector>

#include "base/status.h"
#include "inventory/row_checks.h"
#include "jobs/job_store.h"
#include "jobs/scan.h"
#include "report/row.h"
#include "plan/decide.h"
#include "plan/filter.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transfer/stats.h"

namespace ferry::jobs {

// What the run's plan does with a key, as ChecksFor asks it: the run's filter (null: every
// object passes), its decisions, and whether it deletes destination-only keys (sync --delete).
struct RowPlan {
  const plan::Filter* filter = nullptr;
  plan::DecideOptions decide{};
  bool delete_extra = false;
};

// The options of inventory::ChecksFor for `plan` (null: unknown, so every key is read before
// anything is done with it). `destination_current`: the destination side is looked up now, not
// rows (no destination inventory). The options refer to `*plan`: it must outlive them.
inventory::RowCheckOptions RowCheckOptionsOf(const RowPlan* plan, bool destination_current);

// Makes `batch` (pairs in ascending key order, one per key) what the run's planner merges: with
// options.destination_current, the destination's objects of the keys looked up first; then the
// pairs ChecksFor names read now on the sides it names, in place of their rows (in the pairs
// themselves: RowSideCursor reads them from there). Returns the keys gone since the source's
// inventory (ascending). Errors: a side's (naming it), kCancelled on `stop`. The caller must
// not be one of `executor`'s workers.
Result<std::vector<std::string>> ReadRowFacts(transfer::Executor& executor,
                                              storage::Backend& src, storage::Backend& dst,
                                              std::vector<inventory::RowPair>& batch,
                                              const inventory::RowCheckOptions& options,
                                              std::stop_token stop);

// One side of a batch's pairs as a listing (ascending keys), read in place: no copy of the
// objects. `batch` must outlive the cursor and not change while it is read.
class RowSideCursor : public storage::ListingCursor {
 public:
  enum class Side { kSource, kDestination };
  RowSideCursor(const std::vector<inventory::RowPair>& batch, Side side)
      : batch_(batch), side_(side) {}
  Result<const storage::ObjectInfo*> Next() override;

 private:
  const std::vector<inventory::RowPair>& batch_;
  const Side side_;
  size_t at_ = 0;
};

// Counts `gone` in stats.listed_not_found and names the first kNamedMissingAtMost (per
// process's stats) in "skipped: gone since the inventory" warnings.
void CountGoneSinceInventory(const std::vector<std::string>& gone, transfer::Stats& stats);
// --report: a row for each key of `gone` (ascending) that `batch`'s destination side lacks too
// (ReportNotOnSource, list_scan.h). Nothing without `rows`.
void ReportGoneSinceInventory(const std::vector<std::string>& gone,
                              const std::vector<inventory::RowPair>& batch,
                              report::RowSink* rows);

// A list-scan job's rows: at most kListChunkKeys pairs in ascending key order, one per key.
// Payload: {"rows":[{"k":KEY,"s":ROW,"d":ROW}, ...],"destination":"rows"|"current"} where a ROW
// (absent: that side has none) is [size, mtime ns, ETag, storage class, version id, archived],
// what the in-memory run keeps of a row (inventory/run_rows.h); keys, ETags and versions go
// through KeyJson, so any bytes round-trip.
struct ListScanRows {
  std::vector<inventory::RowPair> pairs;
  bool destination_current = false;  // no destination inventory: look the destination up
};
std::string EncodeListScanRows(const ListScanRows& rows);
// kInvalidArgument ("list-scan payload: ...") for a payload that is not that form, holds more
// than kListChunkKeys pairs, or keys out of order or repeated.
Result<ListScanRows> DecodeListScanRows(const std::string& json);
// Whether a list-scan payload is the rows form (else the keys form, jobs/payload.h). Cheap.
bool IsListScanRows(const std::string& json);

// One list-scan job of rows: ReadRowFacts with the run's plan, the facts planned by the run's
// planner into transfer and parked delete jobs (appended to `more`), then the keys gone since
// counted (once the chunk is planned: a retried chunk counts nothing twice). A run served by a
// RunHook is kNotSupported.
Status ScanRows(const ScanContext& scan, ListScanRows rows, std::vector<JobSpec>& more,
                std::stop_token stop);

// The list-scan jobs of run `run` from the pairs `next` yields in key order (nullptr at the
// end; the pair may be moved from): kListChunkKeys pairs a job.
Result<std::vector<JobSpec>> ListScanRowJobs(
    RunId run, int max_attempts, bool destination_current,
    const std::function<Result<inventory::RowPair*>()>& next);

}  // namespace ferry::jobs
