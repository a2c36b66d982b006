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
// Thread-safety: Open at start-up (it uses the Wiring); the driver is called once, by RunSync.
#pragma once

#include <cstdint>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "app/location.h"
#include "app/wiring.h"
#include "base/status.h"
#include "jobs/job_store.h"
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
};

class FilesFrom {
 public:
  // Reads, checks and sorts the whole list. Errors, each one line: a bad --files-from-format, a
  // list that cannot be opened (naming it), any bad line of it (naming file:line), a truncated
  // gzip.
  static Result<std::unique_ptr<FilesFrom>> Open(Wiring& wiring, FilesFromSettings settings,
                                                 std::stop_token stop);
  ~FilesFrom();

  // The run's SyncOptions::listing; `stats` (the run's) counts listed keys the source lacks.
  // Call once: the keys are read as the run goes.
  transfer::ListingDriver Driver(transfer::Stats& stats);

  // A durable run's first jobs: the sorted keys in list-scan jobs (their run unset: CreateRun
  // sets it). Call once, instead of Driver.
  Result<std::vector<jobs::JobSpec>> ListScanJobs(int max_attempts);

  const lists::SortKeysStats& sort_stats() const { return keys_->stats(); }

 private:
  FilesFrom(FilesFromSettings settings, std::unique_ptr<storage::Backend> list_store,
            std::unique_ptr<lists::SortedKeyCursor> keys);

  FilesFromSettings settings_;
  std::unique_ptr<storage::Backend> list_store_;  // the list's store, when it is an object
  std::unique_ptr<lists::SortedKeyCursor> keys_;
};

}  // namespace ferry::app
