#include "transport/batch.h"

namespace ferry::transport {

std::optional<std::vector<size_t>> Batcher::Add(size_t index, uint64_t size) {
  std::optional<std::vector<size_t>> closed;
  // An object that would take the batch past its bytes closes it first; an object as large as
  // a whole batch thus goes alone (nothing joins a batch already at its limit either).
  const bool full = !open_.empty() && (open_.size() >= limits_.max_objects ||
                                       open_bytes_ >= limits_.max_bytes ||
                                       open_bytes_ + size > limits_.max_bytes);
  if (full) closed = Flush();
  open_.push_back(index);
  open_bytes_ += size;
  return closed;
}

std::optional<std::vector<size_t>> Batcher::Flush() {
  if (open_.empty()) return std::nullopt;
  std::vector<size_t> out = std::move(open_);
  open_.clear();
  open_bytes_ = 0;
  return out;
}

}  // namespace ferry::transport
