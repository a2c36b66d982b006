#include "transport/staging_requests.h"

#include <algorithm>

namespace ferry::transport {
namespace {

uint64_t CeilDiv(uint64_t a, uint64_t b) { return b == 0 ? 0 : (a + b - 1) / b; }

}  // namespace

Requests ArchiveWriteRequests(uint64_t archive_bytes, uint64_t part_size, bool likely_one_part) {
  if (likely_one_part && archive_bytes < part_size) return Requests{.put = 1, .get = 0};
  return Requests{.put = 2 + std::max<uint64_t>(1, CeilDiv(archive_bytes, part_size)), .get = 0};
}

Requests ArchiveReadRequests(uint64_t archive_bytes, uint64_t read_size) {
  return Requests{.put = 0, .get = 4 + CeilDiv(archive_bytes, read_size)};
}

}  // namespace ferry::transport
