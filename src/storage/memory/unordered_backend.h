// UnorderedMemoryBackend: a MemoryBackend that lists like an S3 Express directory bucket, the
// fake that tests use for a store whose listing is not sorted (no server here speaks S3
// Express). Its listings yield every key once, in an order scrambled by a hash of the key and
// `seed` (the same order for the same keys and seed, so tests are repeatable);
// features().sorted_listing and features().start_after are false, and it keeps no versions
// (the version methods say kNotSupported, as Backend's defaults do). Everything else is
// MemoryBackend's.
//
// A listing is read whole when the cursor is made (this is a fake for tests: memory grows with
// the keys listed).
//
// Thread-safety: as MemoryBackend.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>

#include "storage/memory/memory_backend.h"

namespace ferry::storage {

class UnorderedMemoryBackend : public MemoryBackend {
 public:
  // options.versioned is ignored (false).
  explicit UnorderedMemoryBackend(Options options = {}, uint64_t seed = 1);

  Result<std::unique_ptr<ListingCursor>> List(std::string_view prefix) override;
  Result<std::unique_ptr<ListingCursor>> ListFrom(std::string_view prefix,
                                                  std::string_view start_after) override;

  Result<std::unique_ptr<ListingCursor>> ListVersions(std::string_view prefix,
                                                      std::string_view key_marker,
                                                      std::string_view version_marker) override;
  Result<ObjectInfo> StatVersion(std::string_view key, std::string_view version_id, bool with_tags,
                                 std::stop_token stop) override;
  Status ReadVersionAt(std::string_view key, std::string_view version_id, uint64_t offset,
                       std::span<std::byte> out, std::stop_token stop) override;
  Status DeleteVersion(std::string_view key, std::string_view version_id,
                       std::stop_token stop) override;

 private:
  uint64_t seed_;
};

}  // namespace ferry::storage
