#include "transfer/prefetch_cursor.h"

#include <algorithm>

namespace ferry::transfer {

PrefetchCursor::PrefetchCursor(std::unique_ptr<storage::ListingCursor> inner, Options options)
    : inner_(std::move(inner)),
      options_{std::max<size_t>(1, options.batch), std::max<size_t>(1, options.max_batches),
               std::move(options.ends_before)},
      reader_([this](std::stop_token stop) { Read(stop); }) {}

PrefetchCursor::~PrefetchCursor() {
  reader_.request_stop();  // wakes it if it waits for room (cv_ waits on the stop token)
  reader_.join();
}

void PrefetchCursor::Read(std::stop_token stop) {
  Status end;
  bool more = true;
  while (more && !stop.stop_requested()) {
    std::vector<storage::ObjectInfo> batch;
    batch.reserve(options_.batch);
    while (batch.size() < options_.batch) {
      Result<const storage::ObjectInfo*> next = inner_->Next();
      if (!next.ok()) {
        end = next.status();
        more = false;
        break;
      }
      if (*next == nullptr || (options_.ends_before && options_.ends_before(**next))) {
        more = false;
        break;
      }
      batch.push_back(**next);
    }
    std::unique_lock lock(mu_);
    if (!batch.empty()) {
      if (!cv_.wait(lock, stop, [&] { return ready_.size() < options_.max_batches; })) return;
      ready_.push_back(std::move(batch));
    }
    if (!more) {
      ended_ = true;
      end_ = std::move(end);
    }
    lock.unlock();
    cv_.notify_all();
  }
}

Result<const storage::ObjectInfo*> PrefetchCursor::Next() {
  if (at_ < current_.size()) return &current_[at_++];
  if (finished_) {
    if (!final_.ok()) return final_;
    return static_cast<const storage::ObjectInfo*>(nullptr);
  }
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !ready_.empty() || ended_; });
    if (ready_.empty()) {
      finished_ = true;
      final_ = end_;
    } else {
      current_ = std::move(ready_.front());
      ready_.pop_front();
    }
  }
  cv_.notify_all();  // room for the reader
  at_ = 0;
  if (finished_) {
    current_.clear();
    return Next();
  }
  return &current_[at_++];
}

}  // namespace ferry::transfer
