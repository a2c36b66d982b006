// ByteBudget: the global budget of buffer memory. Every task that holds object bytes in memory
// acquires them here first and releases them when done, so the process's data buffers never
// exceed the budget, whatever the object count or size.
//
// Thread-safety: thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stop_token>

namespace ferry::transfer {

class ByteBudget {
 public:
  explicit ByteBudget(uint64_t capacity) : capacity_(capacity) {}

  // Blocks until `n` bytes are free (or, for n > capacity, until nothing else is held), then
  // takes them. Returns false, taking nothing, when `stop` is requested while waiting.
  bool Acquire(uint64_t n, std::stop_token stop);
  // Takes `n` bytes if they are free now (as Acquire would without waiting); false, taking
  // nothing, otherwise. For callers that must not block (a task on an executor's worker).
  bool TryAcquire(uint64_t n);
  // Takes `n` bytes now, past the capacity if need be (later Acquires wait until the excess is
  // released). For the one buffer a caller cannot do without and must not wait for, where the
  // bytes that would free the budget may wait on this caller (a pack's next object: prefetch.h);
  // the excess is bounded by the callers' count times their buffer.
  void Overdraw(uint64_t n);
  void Release(uint64_t n);

  uint64_t capacity() const { return capacity_; }
  uint64_t in_use() const;
  uint64_t peak() const;

 private:
  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  uint64_t used_ = 0;  // GUARDED_BY(mu_)
  uint64_t peak_ = 0;  // GUARDED_BY(mu_)
};

// Holds bytes of a ByteBudget for a scope.
class BudgetLease {
 public:
  BudgetLease(ByteBudget& budget, uint64_t n) : budget_(&budget), n_(n) {}
  BudgetLease(const BudgetLease&) = delete;
  BudgetLease& operator=(const BudgetLease&) = delete;
  ~BudgetLease() {
    if (budget_ != nullptr) budget_->Release(n_);
  }

 private:
  ByteBudget* budget_;
  uint64_t n_;
};

}  // namespace ferry::transfer
