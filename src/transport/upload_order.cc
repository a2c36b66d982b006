#include "transport/upload_order.h"

namespace ferry::transport {

uint64_t UploadOrder::Join() {
  std::lock_guard lock(mu_);
  const uint64_t ticket = next_++;
  ready_.emplace(ticket, false);
  return ticket;
}

void UploadOrder::Leave(uint64_t ticket) {
  {
    std::lock_guard lock(mu_);
    ready_.erase(ticket);
  }
  cv_.notify_all();
}

void UploadOrder::SetReady(uint64_t ticket, bool ready) {
  {
    std::lock_guard lock(mu_);
    auto it = ready_.find(ticket);
    if (it == ready_.end() || it->second == ready) return;
    it->second = ready;
  }
  cv_.notify_all();
}

bool UploadOrder::EarlierReady(uint64_t ticket) const {
  for (auto it = ready_.begin(); it != ready_.end() && it->first < ticket; ++it) {
    if (it->second) return true;
  }
  return false;
}

void UploadOrder::WaitTurn(uint64_t ticket, const std::function<bool()>& give_up) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return !EarlierReady(ticket) || give_up(); });
}

void UploadOrder::Wake() {
  { std::lock_guard lock(mu_); }  // a waiter between its check and its wait sees the wake
  cv_.notify_all();
}

}  // namespace ferry::transport
