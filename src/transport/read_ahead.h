// ReadAhead<T>: the reads of a pack ahead of its archive writer (internal to prefetch.cc), as
// tasks of the process's Executor. Items 0..count-1 (small objects, or the ranges of one large
// object) are read in index order, each into a T, and handed to one consumer that takes them in
// increasing index order (it may pass some by: they are dropped).
//
// What bounds the reads:
//  - `reads` of them in flight at once, each one request counted in the executor's concurrency;
//  - a window: items read and not yet done with, at most `window` of them and `window_bytes` of
//    their Bytes (one item is always allowed, whatever its size);
//  - the executor's ByteBudget: an item's Bytes are taken before its read starts and given
//    back when the consumer is done with it (or when it is dropped);
//  - a ReadGate (optional): the reads of packs sharing a link, in their upload order.
// Reads start from the consumer's thread and, as each read ends, from the task that read it,
// never waiting: the budget and the gate are tried, and what they refuse is left for later.
// When nothing is under way and the consumer needs the next item, it waits for the gate on its
// own thread and overdraws the budget by that one item (ByteBudget::Overdraw): what would free
// the budget may be waiting for this pack (another pack's items read ahead, its writer waiting
// for this archive's turn to upload: upload_order.h). So a worker of the executor never waits
// for budget, gate or window; every item the consumer waits for has been started; the budget
// is exceeded by at most one item per consumer.
//
// A subclass says which items are read (Skipped), what each holds (Bytes), prepares a T for a
// read (PrepareItem: a spare buffer) and reads one (ReadItem). It calls Start() at the end of
// its constructor and Stop() first in its destructor (tasks call its hooks until then).
//
// Thread-safety: the consumer's calls (Wait, Done) from one thread, holding mu_.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stop_token>
#include <utility>

#include "transfer/executor.h"
#include "transport/prefetch_gate.h"

namespace ferry::transport {

template <typename T>
class ReadAhead {
 public:
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

 protected:
  struct Limits {
    size_t count = 0;          // items 0..count-1
    size_t reads = 1;          // reads in flight at most
    size_t window = 1;         // items read ahead and not done with, at most
    uint64_t window_bytes = 0;  // their Bytes at most
  };

  ReadAhead(transfer::Executor& executor, ReadGate* gate, Limits limits, std::stop_token stop)
      : budget_(executor.budget()),
        gate_(gate),
        limits_{.count = limits.count,
                .reads = std::max<size_t>(1, limits.reads),
                .window = std::max<size_t>(1, limits.window),
                .window_bytes = limits.window_bytes},
        forward_stop_(stop, std::function<void()>([this] { own_stop_.request_stop(); })),
        queue_(executor.Open()) {}
  virtual ~ReadAhead() { Stop(); }

  // Hooks. Skipped, Bytes and PrepareItem are called with mu_ held; ReadItem without.
  virtual bool Skipped(size_t) const { return false; }  // not read here (the consumer's)
  virtual uint64_t Bytes(size_t i) const = 0;
  virtual T PrepareItem(size_t i) = 0;
  virtual void ReadItem(size_t i, T& item, std::stop_token stop) = 0;

  // The first reads. Call at the end of the subclass's constructor.
  void Start() {
    std::lock_guard lock(mu_);
    StartMoreLocked();
  }

  // Stops the reads and waits for those under way; the budget held is given back. Call first
  // in the subclass's destructor; idempotent.
  void Stop() {
    own_stop_.request_stop();
    queue_->Cancel();
    queue_->Wait();
    std::lock_guard lock(mu_);
    budget_.Release(bytes_ahead_);
    bytes_ahead_ = 0;
    ready_.clear();
  }

  // The item `index`, once read (it stays until Done); items below it the consumer passed by
  // are dropped. nullptr when stopped. REQUIRES: `lock` holds mu_; index not Skipped.
  T* Wait(std::unique_lock<std::mutex>& lock, size_t index) {
    if (taken_ < index) taken_ = index;
    for (auto it = ready_.begin(); it != ready_.end() && it->first < index;) {
      ReleaseLocked(it->first);
      it = ready_.erase(it);
    }
    const std::stop_token stop = own_stop_.get_token();
    while (ready_.count(index) == 0) {
      if (stop.stop_requested()) return nullptr;
      StartMoreLocked();
      if (in_flight_ == 0 && next_ <= index) {
        // Nothing under way would start the next item the consumer needs: the budget or the
        // gate refused it. The gate is waited for here; the budget overdrawn (above).
        while (next_ < limits_.count && Skipped(next_)) ++next_;
        lock.unlock();
        bool follower = false;
        const bool turn = gate_ == nullptr || gate_->Begin(stop, follower);
        lock.lock();
        if (!turn) continue;  // stopped
        budget_.Overdraw(Bytes(next_));
        StartLocked(follower);
        continue;
      }
      waiting_for_ = index;
      cv_.wait(lock, stop, [&] {
        return ready_.count(index) != 0 || (in_flight_ == 0 && next_ <= index);
      });
      waiting_for_ = SIZE_MAX;
    }
    return &ready_.find(index)->second;
  }

  // The consumer is done with `index` (its item is destroyed): it leaves the window and the
  // budget, and the next reads start. REQUIRES: `lock` holds mu_; Wait returned it.
  void Done(std::unique_lock<std::mutex>& /*lock*/, size_t index) {
    ready_.erase(index);
    ReleaseLocked(index);
    taken_ = index + 1;
    StartMoreLocked();
  }

  std::mutex mu_;  // guards this class's state and the subclass's spares

 private:
  // REQUIRES: mu_ held. Starts what the window, the reads in flight, the budget and the gate
  // allow now, without waiting.
  void StartMoreLocked() {
    while (!own_stop_.stop_requested() && in_flight_ < limits_.reads && next_ < limits_.count) {
      if (Skipped(next_)) {
        ++next_;
        continue;
      }
      const uint64_t bytes = Bytes(next_);
      const bool room = ahead_ == 0 || (next_ < taken_ + limits_.window &&
                                        bytes_ahead_ + bytes <= limits_.window_bytes);
      if (!room || !budget_.TryAcquire(bytes)) return;
      bool follower = false;
      if (gate_ != nullptr && !gate_->TryBegin(follower)) {
        budget_.Release(bytes);
        return;
      }
      StartLocked(follower);
    }
  }

  // REQUIRES: mu_ held; next_'s budget and gate taken. Its read is pushed to the executor (a
  // priority task: never waits for room in the queue; the window bounds these).
  void StartLocked(bool follower) {
    const size_t i = next_++;
    ++ahead_;
    bytes_ahead_ += Bytes(i);
    ++in_flight_;
    auto item = std::make_shared<T>(PrepareItem(i));
    queue_->Push([this, i, follower, item](std::stop_token) { Run(i, follower, *item); }, true);
  }

  void Run(size_t i, bool follower, T& item) {
    ReadItem(i, item, own_stop_.get_token());
    if (gate_ != nullptr) gate_->End(follower);
    std::lock_guard lock(mu_);
    --in_flight_;
    if (i < taken_) {
      ReleaseLocked(i);  // the consumer went past it
    } else {
      ready_.emplace(i, std::move(item));
    }
    StartMoreLocked();
    // The consumer waits for this item, or for none to be under way (it then starts the one it
    // needs itself).
    if (waiting_for_ != SIZE_MAX && (waiting_for_ == i || in_flight_ == 0)) cv_.notify_one();
  }

  // REQUIRES: mu_ held. `i` leaves the window and its bytes the budget.
  void ReleaseLocked(size_t i) {
    --ahead_;
    const uint64_t bytes = Bytes(i);
    bytes_ahead_ -= bytes;
    budget_.Release(bytes);
  }

  transfer::ByteBudget& budget_;
  ReadGate* const gate_;
  const Limits limits_;
  std::stop_source own_stop_;  // requested by the caller's token, Stop or the destructor
  std::stop_callback<std::function<void()>> forward_stop_;  // the caller's token -> own_stop_
  std::condition_variable_any cv_;  // the consumer waits (on own_stop_'s token too)
  size_t next_ = 0;                 // GUARDED_BY(mu_): the next item to read
  size_t taken_ = 0;                // GUARDED_BY(mu_): items below are done with or dropped
  size_t ahead_ = 0;                // GUARDED_BY(mu_): items started, not done with
  uint64_t bytes_ahead_ = 0;        // GUARDED_BY(mu_): their Bytes (held in the budget)
  size_t in_flight_ = 0;            // GUARDED_BY(mu_): reads started and not ended
  size_t waiting_for_ = SIZE_MAX;   // GUARDED_BY(mu_): the index the consumer waits for
  std::map<size_t, T> ready_;       // GUARDED_BY(mu_)
  std::unique_ptr<transfer::TaskQueue> queue_;
};

}  // namespace ferry::transport
