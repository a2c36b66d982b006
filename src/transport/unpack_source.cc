#include "transport/unpack_source.h"

#include <algorithm>
#include <cstring>

namespace ferry::transport {

ReadAheadSource::ReadAheadSource(archive::RangeSource& inner, uint64_t limit,
                                 transfer::Executor& executor)
    : inner_(inner), limit_(limit), executor_(executor), tasks_(executor.Open()) {}

ReadAheadSource::~ReadAheadSource() {
  (void)WaitPending();  // the task writes into pending_bytes_
  tasks_.reset();
  if (budgeted_ > 0) executor_.budget().Release(budgeted_);
}

Status ReadAheadSource::WaitPending() {
  if (!pending_) return Status::Ok();
  pending_ = false;
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return done_; });
  return pending_status_;
}

Status ReadAheadSource::ReadAt(uint64_t offset, std::span<std::byte> out) {
  Status s;
  if (pending_ && pending_offset_ == offset && out.size() == pending_bytes_.size()) {
    s = WaitPending();
    if (s.ok()) {
      std::memcpy(out.data(), pending_bytes_.data(), out.size());
      ++hits_;
    }
  } else {
    (void)WaitPending();  // not the range read next: dropped
    s = inner_.ReadAt(offset, out);
  }
  if (!s.ok()) return s;
  const uint64_t next = offset + out.size();
  if (!out.empty() && next < limit_ && next < inner_.size()) {
    const uint64_t end = std::min({next + out.size(), limit_, inner_.size()});
    const uint64_t capacity = pending_bytes_.capacity();
    pending_bytes_.resize(static_cast<size_t>(end - next));
    if (pending_bytes_.capacity() > capacity) {
      executor_.budget().Overdraw(pending_bytes_.capacity() - capacity);
      budgeted_ += pending_bytes_.capacity() - capacity;
    }
    pending_offset_ = next;
    pending_ = true;
    {
      std::lock_guard lock(mu_);
      done_ = false;
    }
    tasks_->Push(
        [this](std::stop_token) {
          Status read = inner_.ReadAt(pending_offset_, pending_bytes_);
          std::lock_guard lock(mu_);
          pending_status_ = std::move(read);
          done_ = true;
          cv_.notify_all();
        },
        true);
  }
  return Status::Ok();
}

}  // namespace ferry::transport
