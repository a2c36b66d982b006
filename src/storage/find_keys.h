// FindKeys: which of some keys a backend has now, with their ObjectInfo: a listing of the
// keys' range where they are dense, a Stat (HEAD) of each where they are sparse. Used where a
// run knows its keys instead of listing everything: delete jobs (a key is deleted only if the
// source lacks it, jobs/delete_job.cc) and `--files-from` runs (both sides looked up,
// app/files_from.cc).
//
// The decision and its cost: with more than kFindKeysStatAtMost keys and a source that lists
// in byte order, one listing from just before the first key is read while the objects listed
// stay fewer than kFindKeysPerPage × the keys not yet decided — a listing page is one request,
// as a Stat is, so the listing goes on while it costs no more requests than the Stats it
// saves; dense keys (most of a page is wanted) cost a page per ~1,000 keys. The keys left
// when it stops (or all of them: a directory bucket lists out of order) take a Stat each.
// FindKeysByListing and StatKey are the two phases, for a caller that runs the Stats in
// parallel (as tasks of its executor); FindKeys runs both in turn.
//
// Thread-safety: as the backend's (any thread); the callback is called on the calling thread.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"
#include "storage/backend.h"

namespace ferry::storage {

// Batches of at most this many keys are asked for with a Stat each, never listed.
inline constexpr size_t kFindKeysStatAtMost = 2;
// Keys a listing page holds (S3 ListObjectsV2): what one listing request covers.
inline constexpr size_t kFindKeysPerPage = 1000;

// Called for what a lookup found, in ascending key order: an object whose key is keys[first]
// (end == first + 1); or a folder the listing could not enter (ObjectInfo::not_followed, or
// unreadable with a key ending in '/') under which keys[first, end) lie — whether those exist
// is unknown (the folder's own key may be keys[first]). A non-OK return stops the lookup and
// is returned as it is.
using FoundKeysFn =
    std::function<Status(const ObjectInfo& object, size_t first, size_t end)>;

// A string just below `key`, so that a listing after it starts at `key` (see find_keys.cc).
std::string KeyJustBefore(std::string_view key);

// The listing phase over `keys` (sorted ascending, unique): returns how many of the first keys
// it decided (each found through `found`, or absent); keys[returned..] need a StatKey each.
// 0 without listing when keys.size() <= kFindKeysStatAtMost or the listing is not sorted.
// Errors: the listing's, `found`'s, kCancelled when `stop` is requested.
Result<size_t> FindKeysByListing(Backend& backend, std::span<const std::string> keys,
                                 const FoundKeysFn& found, std::stop_token stop);

// One key: its object (no tags), or nullopt when the backend has none (kNotFound, or
// kInvalidArgument: a key it cannot hold). Other errors as they are.
Result<std::optional<ObjectInfo>> StatKey(Backend& backend, std::string_view key,
                                          std::stop_token stop);

// FindKeysByListing, then a StatKey of each key left, in order, on the calling thread.
Status FindKeys(Backend& backend, std::span<const std::string> keys, const FoundKeysFn& found,
                std::stop_token stop);

}  // namespace ferry::storage
