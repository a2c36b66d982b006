// The key ranges a verify run lists in parallel (docs/design/verify.md §1).
//
// The source's first listing page gives the last key of the first range's start; from there
// the ranges are cut by jobs::FindSplit, the same splitter the durable sync's scans use (the
// rest after a key B, with its first key F: a boundary after the family F shares with B, or
// after F's own family; one or two FirstKeyAfter probes). Each cut is found from the last
// one, so the ranges follow the key space's families: keys "obj-00000".."obj-04999" listed
// from a first page of 1000 give (, obj-01\U10FFFF], (, obj-02\U10FFFF], ... The ranges never
// overlap and cover every key, so a key of either side is in exactly one; the destination is
// listed over the same ranges (its keys after the last cut are in the last range).
//
// Fewer ranges than asked (one at the least) when the source is small (one page), its keys
// after the first page are one family FindSplit cannot cut, or a side lists out of order or
// without start-after (a directory bucket), or a side is a local folder (listing it is cheap).
//
// Thread-safety: PlanRanges uses the backends from the calling thread only.
#pragma once

#include <cstddef>
#include <vector>

#include "base/status.h"
#include "jobs/key_range.h"
#include "storage/backend.h"

namespace ferry::verify {

struct RangePlanOptions {
  size_t max_ranges = 4;     // at most this many (1: one listing per side)
  size_t first_page = 1000;  // source keys listed before the first cut (one S3 page)
};

struct RangePlan {
  std::vector<jobs::KeyRange> ranges;  // in key order, covering all keys
  int requests = 0;                    // listing requests and probes spent to find them
};

// The ranges for listing `src` and `dst` in parallel. Errors: those of the source's listing
// and probes.
Result<RangePlan> PlanRanges(storage::Backend& src, storage::Backend& dst,
                             const RangePlanOptions& options);

}  // namespace ferry::verify
