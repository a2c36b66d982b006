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

namespace ferry::transport {

struct BatchLimits {
  uint64_t max_bytes = 64ull << 20;
  size_t max_objects = 5000;
};

class Batcher {
 public:
  explicit Batcher(BatchLimits limits) : limits_(limits) {}

  // Whether the batch in the making must be closed before an object of `size` joins it: it
  // holds max_objects objects or max_bytes bytes already, or would pass max_bytes with it
  // (so an object as large as a whole batch goes alone). Never for an empty batch.
  bool ClosesBefore(uint64_t size) const;
  // The object joins the batch in the making.
  void Add(uint64_t size);
  // The batch was closed: the next object starts a new one.
  void Reset();

  size_t objects() const { return objects_; }
  uint64_t bytes() const { return bytes_; }

 private:
  BatchLimits limits_;
  size_t objects_ = 0;
  uint64_t bytes_ = 0;
};

}  // namespace ferry::transport
