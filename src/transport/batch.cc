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

std::vector<size_t> CutFromTheEnd(std::span<const uint64_t> sizes, const BatchLimits& limits) {
  std::vector<size_t> counts;  // last batch first
  uint64_t target = Batcher(limits).limit_bytes();
  size_t end = sizes.size();
  while (end > 0) {
    size_t begin = end;
    uint64_t bytes = 0;
    while (begin > 0 && bytes < target && end - begin < limits.max_objects) {
      const uint64_t size = sizes[begin - 1];
      if (bytes > 0 && bytes + size > limits.max_bytes) break;
      bytes += size;
      --begin;
    }
    counts.push_back(end - begin);
    end = begin;
    target = target > limits.max_bytes / 2 ? limits.max_bytes : target * 2;
  }
  return {counts.rbegin(), counts.rend()};
}

}  // namespace ferry::transport
