#include "transport/upload_order.h"

namespace ferry::transport {

uint64_t UploadOrder::Join(uint64_t rank) {
  std::lock_guard lock(mu_);
  const uint64_t ticket = next_++;
  packs_.emplace(ticket, Pack{.rank = rank, .ready = false});
  return ticket;
}

void UploadOrder::Leave(uint64_t ticket) {
  {
    std::lock_guard lock(mu_);
    packs_.erase(ticket);
  }
  cv_.notify_all();
}

void UploadOrder::SetFlag(uint64_t ticket, bool Pack::*flag, bool value) {
  {
    std::lock_guard lock(mu_);
    auto it = packs_.find(ticket);
    if (it == packs_.end() || it->second.*flag == value) return;
    it->second.*flag = value;
  }
  cv_.notify_all();
}

void UploadOrder::SetReady(uint64_t ticket, bool ready) { SetFlag(ticket, &Pack::ready, ready); }

void UploadOrder::SetSending(uint64_t ticket, bool sending) {
  SetFlag(ticket, &Pack::sending, sending);
}

// A handful of packs at once: a scan of all of them.
bool UploadOrder::Earlier(uint64_t ticket, bool Pack::*flag) const {
  auto mine = packs_.find(ticket);
  if (mine == packs_.end()) return false;
  const uint64_t rank = mine->second.rank;
  for (const auto& [t, pack] : packs_) {
    if (pack.*flag && (pack.rank < rank || (pack.rank == rank && t < ticket))) return true;
  }
  return false;
}

bool UploadOrder::BeginRead(uint64_t ticket, const std::function<bool()>& give_up,
                            bool& follower) {
  std::unique_lock lock(mu_);
  for (;;) {
    if (give_up()) return false;
    if (MayReadLocked(ticket, follower)) return true;
    cv_.wait(lock);
  }
}

bool UploadOrder::TryBeginRead(uint64_t ticket, bool& follower) {
  std::lock_guard lock(mu_);
  return MayReadLocked(ticket, follower);
}

bool UploadOrder::MayReadLocked(uint64_t ticket, bool& follower) {
  if (!Earlier(ticket, &Pack::reading)) {
    follower = false;
    return true;
  }
  if (follower_reads_ < kFollowerReads) {
    ++follower_reads_;
    follower = true;
    return true;
  }
  return false;
}

void UploadOrder::EndRead(bool follower) {
  if (!follower) return;
  {
    std::lock_guard lock(mu_);
    --follower_reads_;
  }
  cv_.notify_all();
}

void UploadOrder::DoneReading(uint64_t ticket) { SetFlag(ticket, &Pack::reading, false); }

void UploadOrder::WaitTurn(uint64_t ticket, const std::function<bool()>& give_up) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] {
    return (!Earlier(ticket, &Pack::ready) && !Earlier(ticket, &Pack::sending)) || give_up();
  });
}

void UploadOrder::Wake() {
  { std::lock_guard lock(mu_); }  // a waiter between its check and its wait sees the wake
  cv_.notify_all();
}

}  // namespace ferry::transport
