#include "transport/batch.h"

#include <algorithm>

namespace ferry::transport {

uint64_t BatchLimits::FirstBytesFor(uint64_t max_bytes) {
  return std::min(max_bytes, std::max<uint64_t>(1ull << 20, max_bytes / 16));
}

Batcher::Batcher(BatchLimits limits)
    : limits_(limits),
      limit_(std::min(limits.max_bytes, limits.first_bytes != 0
                                            ? limits.first_bytes
                                            : BatchLimits::FirstBytesFor(limits.max_bytes))) {}

bool Batcher::ClosesBefore(uint64_t size) const {
  return objects_ > 0 &&
         (objects_ >= limits_.max_objects || bytes_ >= limit_ || bytes_ + size > limit_);
}

void Batcher::Add(uint64_t size) {
  ++objects_;
  bytes_ += size;
}

void Batcher::Reset() {
  objects_ = 0;
  bytes_ = 0;
  limit_ = limit_ > limits_.max_bytes / 2 ? limits_.max_bytes : limit_ * 2;
}

}  // namespace ferry::transport
