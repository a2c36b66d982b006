// ConnectionGuard (connection_guard.h).
#include "http/connection_guard.h"

#include <utility>

namespace ferry::http {

ConnectionGuard::ConnectionGuard(GuardLimits limits, std::function<void(int)> cut)
    : limits_(limits), cut_(std::move(cut)) {}

void ConnectionGuard::CutLocked(Entry& e) {
  e.cut = true;
  --counts_.open;
  if (cut_) cut_(e.fd);
}

void ConnectionGuard::EvictOneLocked(Id spare) {
  Entry* oldest_head = nullptr;
  Entry* oldest_body = nullptr;
  for (auto& [id, e] : entries_) {
    if (id == spare || e.cut) continue;
    if (e.phase == Phase::kHead && (oldest_head == nullptr || e.since < oldest_head->since)) {
      oldest_head = &e;
    }
    if (e.phase == Phase::kBody && (oldest_body == nullptr || e.since < oldest_body->since)) {
      oldest_body = &e;
    }
  }
  Entry* victim = oldest_head != nullptr ? oldest_head : oldest_body;
  if (victim == nullptr) return;  // every other one is being answered
  ++counts_.evicted;
  CutLocked(*victim);
}

void ConnectionGuard::Opened(Id id, int fd, Time now) {
  std::lock_guard lock(mu_);
  entries_[id] = Entry{.fd = fd, .since = now};
  ++counts_.open;
  if (limits_.high_water > 0 && counts_.open > limits_.high_water) EvictOneLocked(id);
}

void ConnectionGuard::HeadIn(Id id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end() && it->second.phase == Phase::kHead) it->second.phase = Phase::kBody;
}

void ConnectionGuard::Answered(Id id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it != entries_.end()) it->second.phase = Phase::kReply;
}

void ConnectionGuard::Ended(Id id, Time now) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  it->second.phase = Phase::kHead;
  it->second.since = now;
}

void ConnectionGuard::Closed(Id id) {
  std::lock_guard lock(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (!it->second.cut) --counts_.open;
  entries_.erase(it);
}

size_t ConnectionGuard::Sweep(Time now) {
  std::lock_guard lock(mu_);
  size_t cut = 0;
  for (auto& [id, e] : entries_) {
    if (e.cut) continue;
    const auto waited = now - e.since;
    if (e.phase == Phase::kHead && waited > limits_.header) {
      ++counts_.header_timeouts;
    } else if (waited > limits_.request) {
      ++counts_.request_timeouts;
    } else {
      continue;
    }
    CutLocked(e);
    ++cut;
  }
  return cut;
}

ConnectionGuard::Counts ConnectionGuard::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace ferry::http
