#include "transfer/restore_wait.h"

#include <algorithm>

namespace ferry::transfer {

bool RestoreWaitList::Add(Entry entry) {
  std::lock_guard lock(mu_);
  entries_.push_back(std::move(entry));
  if (poll_scheduled_) return false;
  poll_scheduled_ = true;
  return true;
}

std::vector<RestoreWaitList::Entry> RestoreWaitList::TakeAll() {
  std::lock_guard lock(mu_);
  std::vector<Entry> out;
  out.swap(entries_);
  return out;
}

bool RestoreWaitList::PutBack(std::vector<Entry> left) {
  std::lock_guard lock(mu_);
  for (Entry& e : left) entries_.push_back(std::move(e));
  poll_scheduled_ = !entries_.empty();
  return poll_scheduled_;
}

Clock::MonoTime RestoreWaitList::EarliestDeadline() const {
  std::lock_guard lock(mu_);
  Clock::MonoTime earliest = Clock::MonoTime::max();
  for (const Entry& e : entries_) earliest = std::min(earliest, e.deadline);
  return earliest;
}

size_t RestoreWaitList::size() const {
  std::lock_guard lock(mu_);
  return entries_.size();
}

std::chrono::milliseconds NextPollDelay(Clock::MonoTime now, Clock::MonoTime next_round,
                                        Clock::MonoTime earliest_deadline) {
  const Clock::MonoTime at = std::min(next_round, earliest_deadline);
  if (at <= now) return std::chrono::milliseconds(0);
  return std::chrono::ceil<std::chrono::milliseconds>(at - now);
}

}  // namespace ferry::transfer
