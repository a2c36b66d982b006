// `ferry cp/sync --files-from LIST`: a run restricted to the keys of a list (rclone's meaning:
// only the listed keys are considered, on both sides; nothing else is touched). The list is a
// file, stdin ("-") or an object of a store (s3://bucket/key, REMOTE:bucket/key), plain or csv
// (lists/key_list.h), gzip or not; it is read to its end, checked and sorted (lists/
// sorted_keys.h) before anything runs, so a bad line fails the run with nothing copied.
//
// The run: for each batch of sorted keys, each side's objects of those keys are found
// (storage/find_keys.h: a listing of the batch's range where the keys are dense, a Stat of each
// where they are sparse) and merged by plan::MergeListings into the run's planner, as a full
// listing would be: same decisions, same filters, deletes (sync --delete) of listed keys the
// source lacks and the destination has, never of an unlisted key. The two sides' listings run
// as two tasks of the run's executor, then every Stat of both sides as a task each
// (transfer::RunAll): lookups share the executor's request budget with the copies, no threads
// of their own. A listed key the source lacks is counted (Stats::listed_not_found) and named
// in a warning line (the first jobs::kNamedMissingAtMost), never a failure.
//
// A durable run (the default) takes the same sorted keys once, when it is created: they become
// its list-scan jobs (ListScanJobs, jobs/list_scan.h: kListChunkKeys keys a job, stored in the
// state store with the run), which workers anywhere look up and plan chunk by chunk.
//
// `--source-inventory` and `--dest-inventory` (S3 Inventory manifests, docs/design/inventory.md)
// make the same run from inventories instead of a list: the inventories' current rows under the
// run's prefixes, each inventory sorted on its own with its metadata (inventory/run_rows.h), then
// paired by key (inventory::RowPairCursor). The rows are the listings of their sides (the
// destination looked up per batch without --dest-inventory): a key whose rows the plan would
// leave alone costs no request; a key it would write or delete is read now on both sides
// (inventory::ChecksFor, a Stat each as executor tasks) and planned on those facts, so a key
// changed since is copied as it is now, one gone since is counted (listed_not_found, "gone since
// the inventory") when the source's inventory named it, and a delete needs the destination's
// key present and the source's absent as read now (and again right before, as every delete).
// Inventories without Size, LastModifiedDate and ETag columns give their keys only, looked up
// on both sides as a list's. A durable run's list-scan jobs carry the pairs of rows (jobs/
// list_scan_rows.h: kListChunkKeys pairs a job), planned by its workers with the same checks
// (jobs::ScanRows); from inventories without those columns, the keys as a list's.
//
// Thread-safety: Open at start-up (it uses the Wiring); the driver is called once, by RunSync.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "app/inventory.h"
#include "app/location.h"
#include "app/wiring.h"
#include "base/status.h"
#include "jobs/job_store.h"
#include "inventory/row_checks.h"
#include "lists/sorted_keys.h"
#include "storage/backend.h"
#include "transfer/stats.h"
#include "transfer/sync.h"

namespace ferry::app {

struct FilesFromSettings {
  std::string list{};    // FILE, "-" (stdin) or the location of the list's object
  std::string format{};  // "plain", "csv", or "" (by the name: .csv and .csv.gz are csv)
  Location source{};     // the run's source: csv rows name its bucket; keys are under its prefix
  uint64_t sort_memory = 32ull << 20;  // keys held while sorting (lists::SortKeysOptions)
  std::string temp_dir{};              // runs spilled there ("" = $TMPDIR or /tmp)
  size_t batch = 1000;                 // keys looked up at once
  // Inventory runs (instead of `list`): a manifest.json or a configuration's prefix each.
  std::string source_inventory{};
  std::string dest_inventory{};
  Location destination{};  // the run's destination: --dest-inventory's bucket and prefix
};

class FilesFrom {
 public:
  // Reads, checks and sorts the whole list. Errors, each one line: a bad --files-from-format, a
  // list that cannot be opened (naming it), any bad line of it (naming file:line), a truncated
  // gzip.
  static Result<std::unique_ptr<FilesFrom>> Open(Wiring& wiring, FilesFromSettings settings,
                                                 std::stop_token stop);
  // Reads, checks and sorts the inventories of settings.source_inventory and dest_inventory
  // (the destination's alone is refused: the source would need a full listing). Errors, one
  // line each: a side that is not an S3 location, an inventory of another bucket than that
  // side's, the inventory reader's (a manifest, checksum, data file or row refused).
  static Result<std::unique_ptr<FilesFrom>> OpenInventories(Wiring& wiring,
                                                            FilesFromSettings settings,
                                                            std::stop_token stop);
  ~FilesFrom();

  // The run's SyncOptions::listing; `stats` (the run's) counts listed keys the source lacks.
  // Call once: the keys are read as the run goes. `run` (the run's options, outliving the
  // run; read when it runs) is what an inventory run planned from rows compares with: its
  // filter, decisions and delete_extra (null: unknown, every row's key is read before the plan
  // acts on it); its transfer.report, as it is when the run starts, gets a row per listed key
  // neither side has (jobs::ReportNotOnSource).
  transfer::ListingDriver Driver(transfer::Stats& stats,
                                 const transfer::SyncOptions* run = nullptr);

  // A durable run's first jobs: the sorted keys in list-scan jobs (an inventory run whose rows
  // compare: its pairs of rows), their run unset (CreateRun sets it). Call once, instead of
  // Driver.
  Result<std::vector<jobs::JobSpec>> ListScanJobs(int max_attempts);

  // The list's sort (a --files-from run).
  const lists::SortKeysStats& sort_stats() const { return keys_->stats(); }

 private:
  FilesFrom(FilesFromSettings settings, std::unique_ptr<storage::Backend> list_store,
            std::unique_ptr<lists::SortedKeyCursor> keys);

  FilesFromSettings settings_;
  std::unique_ptr<storage::Backend> list_store_;  // the list's store, when it is an object
  std::vector<OpenedInventory> inventories_;      // what keys_ may read from: outlives it
  std::unique_ptr<lists::SortedKeyCursor> keys_;  // a list's keys (null in an inventory run)
  // An inventory run's pairs of rows, one per key of either inventory.
  std::unique_ptr<inventory::RowPairCursor> pairs_;
  bool rows_compare_ = false;  // the rows carry size, time and ETag: the plan compares them
  bool dest_rows_ = false;     // a destination inventory was given

};

}  // namespace ferry::app
