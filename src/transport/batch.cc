#include "transport/batch.h"

namespace ferry::transport {

bool Batcher::ClosesBefore(uint64_t size) const {
  return objects_ > 0 && (objects_ >= limits_.max_objects || bytes_ >= limits_.max_bytes ||
                          bytes_ + size > limits_.max_bytes);
}

void Batcher::Add(uint64_t size) {
  ++objects_;
  bytes_ += size;
}

void Batcher::Reset() {
  objects_ = 0;
  bytes_ = 0;
}

}  // namespace ferry::transport
