#include "transport/unpack_source.h"

#include <algorithm>
#include <cstring>

namespace ferry::transport {

ReadAheadSource::~ReadAheadSource() {
  if (pending_.valid()) pending_.wait();  // its thread writes into pending_bytes_
}

Status ReadAheadSource::ReadAt(uint64_t offset, std::span<std::byte> out) {
  Status s;
  if (pending_.valid() && pending_offset_ == offset && out.size() == pending_bytes_.size()) {
    s = pending_.get();
    if (s.ok()) {
      std::memcpy(out.data(), pending_bytes_.data(), out.size());
      ++hits_;
    }
  } else {
    if (pending_.valid()) (void)pending_.get();  // not the range read next: dropped
    s = inner_.ReadAt(offset, out);
  }
  if (!s.ok()) return s;
  const uint64_t next = offset + out.size();
  if (!out.empty() && next < limit_ && next < inner_.size()) {
    const uint64_t end = std::min({next + out.size(), limit_, inner_.size()});
    pending_bytes_.resize(static_cast<size_t>(end - next));
    pending_offset_ = next;
    pending_ = std::async(std::launch::async,
                          [this] { return inner_.ReadAt(pending_offset_, pending_bytes_); });
  }
  return Status::Ok();
}

}  // namespace ferry::transport
