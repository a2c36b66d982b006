// Version listings of a key range, grouped by key: what one replicate-scan job of a durable
// pass lists (kinds/replicate_scan_kind.cc). A key's versions always stay together, so that one
// job replicates all of them in order.
// Thread-safety: uses the backend from the calling thread only.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "replicate/pass.h"
#include "storage/backend.h"

namespace ferry::replicate {

// Where a chunk of a range listing stopped.
struct RangeChunk {
  uint64_t keys = 0;      // keys listed (and emitted)
  uint64_t versions = 0;  // versions and delete markers listed
  // Set when the range goes on after the chunk: the last key listed (the rest of the range is
  // the keys after it) and the first key of that rest (already seen).
  std::optional<std::string> resume_after;
  std::string next_key;
};

// One chunk of a range listing (ListRangeVersions): which keys, and in what groups.
struct RangeListing {
  std::string start_after;          // the range is the keys after this one
  std::optional<std::string> last;  // up to this one; nullopt: to the end
  size_t max_keys = 0;              // keys listed at most (the chunk); 0 counts as 1
  // Entries handed over together at most (a key with more comes alone); 0 counts as 1.
  size_t batch_versions = 0;
};

// Lists every version of the keys in (range.start_after, range.last] of `source` with
// ListVersions from key-marker range.start_after; a source without version listings
// (kNotSupported: a local folder) is listed plainly, each object one current version "null".
// Each key's entries are turned oldest first and handed to `emit` in groups of consecutive keys
// with at most `range.batch_versions` entries together (a key with more comes alone, never
// split). Stops after `range.max_keys` keys. Errors: the listing's (with context), `emit`'s,
// kCancelled.
Result<RangeChunk> ListRangeVersions(storage::Backend& source, const RangeListing& range,
                                     const std::function<Status(std::vector<KeyVersions>)>& emit,
                                     std::stop_token stop);

// Every version of one key of `source`, oldest first (an event's job: what the source holds of
// the key now). A source without version listings gives its current object as version "null";
// a key with no version (deleted for good) gives none. Errors: the listing's, kCancelled.
Result<KeyVersions> ListKeyVersions(storage::Backend& source, const std::string& key,
                                    std::stop_token stop);

}  // namespace ferry::replicate
