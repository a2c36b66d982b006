#include "storage/memory/unordered_backend.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

namespace ferry::storage {
namespace {

MemoryBackend::Options Unordered(MemoryBackend::Options options) {
  options.versioned = false;
  options.features.sorted_listing = false;
  options.features.start_after = false;
  return options;
}

// FNV-1a of the key, mixed with the seed: a fixed order that is not byte order.
uint64_t Scramble(std::string_view key, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ (seed * 0x9E3779B97F4A7C15ull);
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ull;
  return h ^ (h >> 29);
}

class ScrambledCursor : public ListingCursor {
 public:
  explicit ScrambledCursor(std::vector<ObjectInfo> entries) : entries_(std::move(entries)) {}
  Result<const ObjectInfo*> Next() override {
    if (index_ >= entries_.size()) return static_cast<const ObjectInfo*>(nullptr);
    return static_cast<const ObjectInfo*>(&entries_[index_++]);
  }

 private:
  std::vector<ObjectInfo> entries_;
  size_t index_ = 0;
};

}  // namespace

UnorderedMemoryBackend::UnorderedMemoryBackend(Options options, uint64_t seed)
    : MemoryBackend(Unordered(std::move(options))), seed_(seed) {}

Result<std::unique_ptr<ListingCursor>> UnorderedMemoryBackend::List(std::string_view prefix) {
  return ListFrom(prefix, {});
}

Result<std::unique_ptr<ListingCursor>> UnorderedMemoryBackend::ListFrom(
    std::string_view prefix, std::string_view start_after) {
  FERRY_ASSIGN_OR_RETURN(auto sorted, MemoryBackend::ListFrom(prefix, start_after));
  std::vector<std::pair<uint64_t, ObjectInfo>> keyed;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* o, sorted->Next());
    if (o == nullptr) break;
    keyed.emplace_back(Scramble(o->key, seed_), *o);
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : a.second.key < b.second.key;
  });
  std::vector<ObjectInfo> entries;
  entries.reserve(keyed.size());
  for (auto& [h, o] : keyed) entries.push_back(std::move(o));
  return std::unique_ptr<ListingCursor>(std::make_unique<ScrambledCursor>(std::move(entries)));
}

Result<std::unique_ptr<ListingCursor>> UnorderedMemoryBackend::ListVersions(
    std::string_view prefix, std::string_view key_marker, std::string_view version_marker) {
  return Backend::ListVersions(prefix, key_marker, version_marker);
}

Result<ObjectInfo> UnorderedMemoryBackend::StatVersion(std::string_view key,
                                                       std::string_view version_id,
                                                       bool with_tags, std::stop_token stop) {
  return Backend::StatVersion(key, version_id, with_tags, stop);
}

Status UnorderedMemoryBackend::ReadVersionAt(std::string_view key, std::string_view version_id,
                                             uint64_t offset, std::span<std::byte> out,
                                             std::stop_token stop) {
  return Backend::ReadVersionAt(key, version_id, offset, out, stop);
}

Status UnorderedMemoryBackend::DeleteVersion(std::string_view key, std::string_view version_id,
                                             std::stop_token stop) {
  return Backend::DeleteVersion(key, version_id, stop);
}

}  // namespace ferry::storage
