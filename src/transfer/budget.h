// ByteBudget: the global budget of buffer memory. Every task that holds object bytes in memory
// acquires them here first and releases them when done, so the process's data buffers never
// exceed the budget, whatever the object count or size.
//
// Thread-safety: thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stop_token>

namespace ferry::transfer {

// How the executor whose workers wait on a budget counts them, for the stall rule: a worker
// of the executor waits for budget only while another of its workers running a task does not
// wait (for budget, or for its own queue's tasks). When every one would, the last one takes its
// bytes past the capacity instead: the budget's holders may be waiting for work queued behind
// the waiting workers (an unpack's decoded entries for their writes, a pack's read-ahead for
// its next object), which no worker would ever run. The excess is the one buffer of the one
// worker that runs; the stall ends with it. (docs/design/executor.md, "The stall rule".)
class WorkerGauge {
 public:
  virtual ~WorkerGauge() = default;
  // Whether the calling thread is one of the executor's workers.
  virtual bool CallerIsWorker() const = 0;
  // A worker starts (`waiting` true) or stops waiting.
  virtual void Waiting(bool waiting) = 0;
  // Whether every worker running a task waits.
  virtual bool Stalled() const = 0;
};

class ByteBudget {
 public:
  explicit ByteBudget(uint64_t capacity) : capacity_(capacity) {}

  // Blocks until `n` bytes are free (or, for n > capacity, until nothing else is held), then
  // takes them; a worker of the gauge's executor takes them at once when every other worker
  // running a task waits (the stall rule). Returns false, taking nothing, when `stop` is
  // requested while waiting.
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

  // What keeps memory for the budget's users without holding budget (the executor's buffer
  // pool, whose idle buffers hold none): called, outside the lock, after each Acquire,
  // TryAcquire and Overdraw that took bytes, so that it frees what no longer fits beside the
  // bytes in use. Without it, buffers left idle while the budget was free stay beside the
  // bytes other users take later: the process could hold the capacity twice. Set once, before
  // the budget is shared (the executor sets its pool's).
  void SetIdleTrimmer(std::function<void()> trim) { trim_ = std::move(trim); }
  // Acquire without calling the trimmer: for the pool's own borrows (it makes room itself, and
  // may take one of its idle buffers for the bytes just acquired).
  bool AcquireForPool(uint64_t n, std::stop_token stop);

  // The executor's gauge (the stall rule, above); set once, before the budget is shared. Without
  // one, every caller waits.
  void SetWorkerGauge(WorkerGauge* gauge) { gauge_ = gauge; }
  // Makes the waiters look again: the gauge's count changed so that workers may be stalled.
  void WakeWaiters();
  // How many times a worker took its bytes past the capacity by the stall rule.
  uint64_t stall_overdraws() const;

  uint64_t capacity() const { return capacity_; }
  uint64_t in_use() const;
  uint64_t peak() const;

 private:
  const uint64_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  uint64_t used_ = 0;  // GUARDED_BY(mu_)
  uint64_t peak_ = 0;  // GUARDED_BY(mu_)
  uint64_t stall_overdraws_ = 0;  // GUARDED_BY(mu_)
  WorkerGauge* gauge_ = nullptr;  // set before use, then only read
  std::function<void()> trim_;  // set before use, then only read
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
