// ListSorted: a backend's listing in ascending byte order of key, whatever order the store
// lists in. Every caller that merge-joins two listings (transfer::RunSync, jobs scans) reads
// both sides through it, so that a store whose listing is not sorted (an S3 Express directory
// bucket: features().sorted_listing false) is never merged as if it were.
//
// A sorted backend's listing passes through untouched (no copy, no delay). An unsorted one is
// read to its end on the first Next() and sorted with bounded memory: entries are gathered
// into runs of at most SortOptions::run_bytes (estimated), each run is sorted and, once there
// is more than one, written to a temporary file (std::tmpfile: removed when closed, also on a
// crash); the runs are then merged with one entry of each in memory. At most kMaxRuns runs
// are open at once: beyond that the runs so far are merged into one first. Disk use is about
// the listing's size; memory is run_bytes plus a read buffer per run.
//
// Every field of ObjectInfo survives the spill. Duplicate keys are kept (MergeListings refuses
// them, naming both sides' keys): a listing bug must not be hidden by the sort.
//
// Thread-safety: the cursor is used by one thread at a time, like every ListingCursor.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"

namespace ferry::storage {

struct SortOptions {
  // Estimated bytes of entries held in memory before a run is written out.
  uint64_t run_bytes = 32ull << 20;
  // Only entries for which this returns true are sorted (and the rest dropped as they are
  // read): a scan of one key range keeps its range only. nullptr: every entry.
  std::function<bool(const ObjectInfo&)> keep;
};

// Runs merged at once, at most.
inline constexpr size_t kMaxRuns = 64;

// `backend`'s listing of `prefix` after `start_after` (List when `start_after` is empty, else
// ListFrom), in ascending byte order: that cursor itself when features().sorted_listing
// (options.keep then unused),
// else that listing sorted as described above. Errors: those of ListFrom and its cursor, and
// kInternal when a temporary file cannot be made or written (disk full).
Result<std::unique_ptr<ListingCursor>> ListSorted(Backend& backend, std::string_view prefix,
                                                  std::string_view start_after = {},
                                                  SortOptions options = {});

// The entries of `unsorted` that options.keep keeps, in ascending byte order (see above).
std::unique_ptr<ListingCursor> SortListing(std::unique_ptr<ListingCursor> unsorted,
                                           SortOptions options = {});

}  // namespace ferry::storage
