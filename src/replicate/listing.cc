// ListRangeVersions: one chunk of a key range's version listing, grouped by key (listing.h).
#include "replicate/listing.h"

#include <algorithm>

namespace ferry::replicate {

Result<RangeChunk> ListRangeVersions(storage::Backend& source, const RangeListing& range,
                                     const std::function<Status(std::vector<KeyVersions>)>& emit,
                                     std::stop_token stop) {
  Result<std::unique_ptr<storage::ListingCursor>> cursor =
      source.ListVersions("", range.start_after, "");
  const bool plain = !cursor.ok() && cursor.status().code() == ErrorCode::kNotSupported;
  if (plain) cursor = source.ListFrom("", range.start_after);
  if (!cursor.ok()) return cursor.status().WithContext("listing versions of " + source.Describe());
  const size_t max_keys = std::max<size_t>(1, range.max_keys);
  const size_t batch_versions = std::max<size_t>(1, range.batch_versions);

  RangeChunk chunk;
  std::vector<KeyVersions> group;
  size_t group_versions = 0;
  KeyVersions current;
  // Ends `current` (its entries came newest first) and emits the group when it is full.
  auto close_key = [&]() -> Status {
    if (current.versions.empty()) return Status::Ok();
    std::reverse(current.versions.begin(), current.versions.end());
    const size_t n = current.versions.size();
    if (!group.empty() && group_versions + n > batch_versions) {
      FERRY_RETURN_IF_ERROR(emit(std::move(group)));
      group.clear();
      group_versions = 0;
    }
    group.push_back(std::move(current));
    group_versions += n;
    current = KeyVersions{};
    ++chunk.keys;
    return Status::Ok();
  };
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("replication scan interrupted");
    Result<const storage::ObjectInfo*> next = (*cursor)->Next();
    if (!next.ok()) return next.status().WithContext("listing versions of " + source.Describe());
    const storage::ObjectInfo* e = *next;
    if (e != nullptr && range.last && e->key > *range.last) e = nullptr;  // past the range
    if (e == nullptr || e->key != current.key || current.versions.empty()) {
      if (!current.versions.empty()) {
        const std::string key = current.key;
        FERRY_RETURN_IF_ERROR(close_key());
        if (e != nullptr && chunk.keys >= max_keys) {
          chunk.resume_after = key;
          chunk.next_key = e->key;
          break;
        }
      }
      if (e == nullptr) break;
      current.key = e->key;
    }
    storage::ObjectInfo v = *e;
    if (plain) {
      v.version_id = "null";
      v.is_latest = true;
    }
    current.versions.push_back(std::move(v));
    ++chunk.versions;
  }
  if (!group.empty()) FERRY_RETURN_IF_ERROR(emit(std::move(group)));
  return chunk;
}

Result<KeyVersions> ListKeyVersions(storage::Backend& source, const std::string& key,
                                    std::stop_token stop) {
  Result<std::unique_ptr<storage::ListingCursor>> cursor = source.ListVersions(key, "", "");
  const bool plain = !cursor.ok() && cursor.status().code() == ErrorCode::kNotSupported;
  if (plain) cursor = source.List(key);
  if (!cursor.ok()) return cursor.status().WithContext("listing versions of " + key);
  const bool sorted = source.features().sorted_listing;
  KeyVersions out;
  out.key = key;
  for (;;) {
    if (stop.stop_requested()) return Status::Cancelled("replication interrupted");
    Result<const storage::ObjectInfo*> next = (*cursor)->Next();
    if (!next.ok()) return next.status().WithContext("listing versions of " + key);
    const storage::ObjectInfo* e = *next;
    if (e == nullptr) break;
    // The prefix lists longer keys too: after this one in byte order where the listing is
    // sorted (elsewhere, a directory bucket, all of them are looked at).
    if (sorted && e->key > key) break;
    if (e->key != key) continue;
    storage::ObjectInfo v = *e;
    if (plain) {
      v.version_id = "null";
      v.is_latest = true;
    }
    out.versions.push_back(std::move(v));
  }
  std::reverse(out.versions.begin(), out.versions.end());  // listed newest first
  return out;
}

}  // namespace ferry::replicate
