#include "transport/batch.h"

#include <algorithm>

namespace ferry::transport {

uint64_t BatchLimits::FirstBytesFor(uint64_t max_bytes) {
  return std::min(max_bytes, std::max<uint64_t>(1ull << 20, max_bytes / 16));
}

uint64_t BatchLimits::first() const {
  return std::min(max_bytes, first_bytes != 0 ? first_bytes : FirstBytesFor(max_bytes));
}

std::vector<SlowStopPiece> SlowStopPieces(std::span<const uint64_t> sizes, uint64_t floor) {
  std::vector<SlowStopPiece> pieces;
  uint64_t left = 0;
  for (uint64_t s : sizes) left += s;
  size_t i = 0;
  while (i < sizes.size() && left > 2 * floor) {
    const uint64_t half = (left + 1) / 2;
    SlowStopPiece piece;
    while (i < sizes.size() && (piece.objects == 0 || piece.bytes < half)) {
      piece.bytes += sizes[i++];
      ++piece.objects;
    }
    pieces.push_back(piece);
    left -= piece.bytes;
  }
  if (i < sizes.size()) pieces.push_back({sizes.size() - i, left});
  return pieces;
}

Batcher::Batcher(BatchLimits limits) : limits_(limits), limit_(limits.first()) {}

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
