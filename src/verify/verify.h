// RunVerify: a read-only audit of a destination against a source (`ferry verify SRC DST`),
// of copies made by ferry or by any other tool. docs/design/verify.md.
//
// Both sides are listed at once, in up to options.list_ranges key ranges in parallel
// (ranges.h; each side of a range on a prefetch thread, sorted with bounded memory where a
// store lists out of order), each range merge-joined (plan::MergeListings): keys on one side only are
// reported at once; a pair the listings decide (sizes, plain MD5s, equal multipart ETags) too;
// every other pair goes to a task on the process's transfer::Executor, which asks what the
// decision (compare.h) needs (HEADs, the part layout, reads of one side, of both with
// --download) and reports the verdict. Memory is bounded at any object count: a listing page
// per side, the executor's bounded queue, and read buffers taken from its byte budget. A read
// of a large object has a few chunks in flight on other workers (read_ahead.h).
//
// Nothing is written to either side.
//
// Entries are reported in the order verdicts are reached: ranges interleave.
//
// With run.listing set (`--files-from`, app/files_from.h), the driver replaces the listings and
// the ranges: only the keys it merges into the run are compared, each as a full listing would
// have it (both sides, one side only); nothing else is looked at, and options.list_ranges is
// not used (the CLI refuses it with a list).
//
// Thread-safety: one call per thread; `report` receives entries from many threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stop_token>

#include "base/status.h"
#include "plan/filter.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transfer/sync.h"
#include "verify/compare.h"
#include "verify/report.h"

namespace ferry::verify {

struct VerifyOptions {
  CompareOptions compare;
  uint64_t read_chunk = 8ull << 20;  // bytes per ranged read when a side is read
  int read_depth = 4;                // chunks of one object read ahead at most (read_ahead.h)
  size_t list_ranges = 1;            // key ranges listed in parallel, at most (ranges.h)
};

// What the run did beyond its report.
struct VerifyStats {
  std::atomic<uint64_t> heads{0};        // Stat calls
  std::atomic<uint64_t> layout_asks{0};  // FirstPartSize calls
  std::atomic<uint64_t> reads{0};        // objects read
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<uint64_t> ranges{0};          // key ranges listed in parallel
  std::atomic<uint64_t> range_requests{0};  // listing requests and probes to find them
};

// What one verify run works with (none owned; all must outlive RunVerify).
struct VerifyRun {
  transfer::Executor& executor;  // the process's: reads and lookups are its tasks
  storage::Backend& src;
  storage::Backend& dst;
  const VerifyOptions& options;
  Report& report;
  VerifyStats& stats;
  // Set: the keys to compare, merged by the driver (on the calling thread) instead of two full
  // listings; stats.ranges stays 0. Empty: both sides listed in full, in key ranges.
  transfer::ListingDriver listing{};
  // Set (not owned): only the keys it keeps are compared, as rclone check filters (--include,
  // --exclude, --max-age, --min-age): a key on the source (alone or on both sides) when the
  // filter keeps the source object; a key on the destination only when it keeps that object.
  // Null: every key.
  const plan::Filter* filter = nullptr;
};

// Returns OK when both listings (or the driver's keys) were walked to their end (per-key
// problems are report entries with Mark::kError); the first listing error otherwise (the
// driver's error with a list), or kCancelled.
Status RunVerify(const VerifyRun& run, std::stop_token stop);

}  // namespace ferry::verify
