#include "transfer/budget.h"

#include <algorithm>

namespace ferry::transfer {

bool ByteBudget::AcquireForPool(uint64_t n, std::stop_token stop) {
  std::unique_lock lock(mu_);
  // An oversized request waits for an empty budget.
  auto fits = [&] { return used_ == 0 || used_ + n <= capacity_; };
  if (!fits()) {
    const bool worker = gauge_ != nullptr && gauge_->CallerIsWorker();
    if (worker) gauge_->Waiting(true);
    bool stalled = false;
    const bool ok = cv_.wait(lock, stop, [&] {
      if (fits()) return true;
      stalled = worker && gauge_->Stalled();
      return stalled;
    });
    if (worker) gauge_->Waiting(false);
    if (!ok) return false;
    if (stalled) ++stall_overdraws_;
  }
  used_ += n;
  peak_ = std::max(peak_, used_);
  return true;
}

void ByteBudget::WakeWaiters() {
  { std::lock_guard lock(mu_); }  // a waiter between its look and its wait is now waiting
  cv_.notify_all();
}

uint64_t ByteBudget::stall_overdraws() const {
  std::lock_guard lock(mu_);
  return stall_overdraws_;
}

bool ByteBudget::Acquire(uint64_t n, std::stop_token stop) {
  if (!AcquireForPool(n, stop)) return false;
  if (trim_) trim_();
  return true;
}

bool ByteBudget::TryAcquire(uint64_t n) {
  {
    std::lock_guard lock(mu_);
    if (used_ != 0 && used_ + n > capacity_) return false;
    used_ += n;
    peak_ = std::max(peak_, used_);
  }
  if (trim_) trim_();
  return true;
}

void ByteBudget::Overdraw(uint64_t n) {
  {
    std::lock_guard lock(mu_);
    used_ += n;
    peak_ = std::max(peak_, used_);
  }
  if (trim_) trim_();
}

void ByteBudget::Release(uint64_t n) {
  {
    std::lock_guard lock(mu_);
    used_ -= n;
  }
  cv_.notify_all();
}

uint64_t ByteBudget::in_use() const {
  std::lock_guard lock(mu_);
  return used_;
}

uint64_t ByteBudget::peak() const {
  std::lock_guard lock(mu_);
  return peak_;
}

}  // namespace ferry::transfer
