// transport::Batcher: cuts a stream of objects (in listing order) into the batches that become
// one archive each: a batch closes once it holds `max_objects` objects or once the next object
// would take it past `max_bytes`; an object larger than `max_bytes` is a batch of its own.
// Bounding both keeps an archive's manifest small (count) and the work a crashed pack redoes
// (bytes). Pure; the scan that plans a compressed run (jobs/scan.cc) feeds it.
//
// Thread-safety: one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace ferry::transport {

struct BatchLimits {
  uint64_t max_bytes = 64ull << 20;
  size_t max_objects = 5000;
};

class Batcher {
 public:
  explicit Batcher(BatchLimits limits) : limits_(limits) {}

  // Adds one object (its index in the caller's order, its size). Returns the batch that was
  // closed to make room for it, if any (the indexes of its objects, in order). A batch is
  // thus returned when the object after it arrives, or by Flush.
  std::optional<std::vector<size_t>> Add(size_t index, uint64_t size);
  // Closes the batch in the making, if it holds anything.
  std::optional<std::vector<size_t>> Flush();

  size_t pending_objects() const { return open_.size(); }
  uint64_t pending_bytes() const { return open_bytes_; }

 private:
  BatchLimits limits_;
  std::vector<size_t> open_;
  uint64_t open_bytes_ = 0;
};

}  // namespace ferry::transport
