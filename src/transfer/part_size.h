// The one part-size rule of every write in parts (sync's multipart copies, replication's chunked
// writes and part copies): the configured size, at least the store's smallest part, doubled
// until the object fits in the store's largest part count (so parts stay the round sizes other
// tools use: 16, 32, 64 MiB...), and never above the store's largest part.
#pragma once

#include <algorithm>
#include <cstdint>

#include "storage/backend.h"

namespace ferry::transfer {

inline uint64_t PartSizeFor(uint64_t configured, const storage::Features& dst, uint64_t size) {
  uint64_t part = std::max<uint64_t>({configured, dst.min_part_size, 1});
  const auto max_parts = static_cast<uint64_t>(std::max(dst.max_parts, 1));
  const uint64_t largest = std::max<uint64_t>(dst.max_part_size, dst.min_part_size);
  while ((size + part - 1) / part > max_parts && part < largest) part *= 2;
  return std::min(part, largest);
}

}  // namespace ferry::transfer
