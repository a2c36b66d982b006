// BufferPool: the buffers that hold object bytes (parts, whole objects), owned by the process's
// Executor beside its ByteBudget. A buffer is borrowed for one part or object and given back
// when the borrower is done; large buffers are kept for the next borrower of the same size
// instead of being returned to the operating system, so that a long copy touches each page of
// its buffers once (no page faults, no zeroing by the kernel per part) and the heap does not
// fragment under many threads.
//
// Budget: every borrowed buffer's capacity is taken from the ByteBudget first (Borrow blocks
// while it is exhausted). Idle buffers hold no budget; before allocating a new buffer the pool
// frees idle ones, oldest first, until the budget in use (which counts every borrowed buffer)
// plus the bytes kept idle fit the budget's capacity. A given-back buffer is kept whenever the
// idle bytes, together with what the budget's other users hold (its bytes in use that are not
// the pool's buffers: an unpack's decoded entries, the range read ahead, overdrafts), stay within
// the capacity, so the memory the pool holds plus what those hold never exceeds the capacity
// by more than the overdrafts (or one oversized buffer, which ByteBudget admits alone and the
// pool frees when it comes back). Without the others in the rule, a process could hold the
// capacity twice: buffers idle in the pool beside the same amount of other budgeted memory.
// For the same reason idle buffers are freed when the others take bytes later (TrimIdle, the
// budget's trimmer: the executor wires it).
//
// Sizes: capacities are rounded up to whole MiB (so parts of one size share buffers); buffers
// below kPooledMin are plain heap memory, never kept.
//
// Thread-safety: thread-safe. A Buffer is used by one thread at a time and must be destroyed
// before the pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <span>
#include <stop_token>
#include <vector>

#include "transfer/budget.h"

namespace ferry::transfer {

class BufferPool {
 public:
  static constexpr uint64_t kPooledMin = 1ull << 20;

  explicit BufferPool(ByteBudget& budget) : budget_(budget) {}
  ~BufferPool();  // REQUIRES: every Buffer given back
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  // A borrowed buffer; gives itself back when destroyed.
  class Buffer {
   public:
    Buffer() = default;
    Buffer(Buffer&& other) noexcept { *this = std::move(other); }
    Buffer& operator=(Buffer&& other) noexcept;
    ~Buffer() { Reset(); }

    // The `size` bytes asked for (contents unspecified: a reused buffer holds old bytes).
    std::span<std::byte> data() const { return {memory_, size_}; }
    uint64_t capacity() const { return capacity_; }
    void Reset();  // gives the buffer back now

   private:
    friend class BufferPool;
    BufferPool* pool_ = nullptr;
    std::byte* memory_ = nullptr;
    uint64_t size_ = 0;
    uint64_t capacity_ = 0;
  };

  // A buffer of `size` bytes (size 0 gives a valid empty buffer), its capacity taken from the
  // budget first. nullopt, taking nothing, when `stop` is requested while waiting for budget.
  std::optional<Buffer> Borrow(uint64_t size, std::stop_token stop);
  // Frees idle buffers, oldest first, while they and the budget's bytes in use exceed its
  // capacity: the budget's trimmer (ByteBudget::SetIdleTrimmer), called when its other users
  // take bytes.
  void TrimIdle();

  ByteBudget& budget() { return budget_; }
  // Buffers allocated so far (a reused buffer is not counted again), and bytes kept idle now.
  uint64_t allocations() const;
  uint64_t idle_bytes() const;

 private:
  struct Idle {
    std::byte* memory;
    uint64_t capacity;
  };
  static uint64_t CapacityFor(uint64_t size);
  static std::byte* Allocate(uint64_t capacity);
  static void Free(std::byte* memory, uint64_t capacity);
  void GiveBack(std::byte* memory, uint64_t capacity);

  ByteBudget& budget_;
  mutable std::mutex mu_;
  std::vector<Idle> idle_;   // GUARDED_BY(mu_): most recently given back last
  uint64_t idle_bytes_ = 0;  // GUARDED_BY(mu_)
  uint64_t lent_bytes_ = 0;  // GUARDED_BY(mu_): capacity of the buffers borrowed now
  // GUARDED_BY(mu_): capacity of the borrows between their budget and their buffer (waiting for
  // the budget, or holding it and not yet given a buffer): not the budget's other users.
  uint64_t acquiring_bytes_ = 0;
  uint64_t allocations_ = 0;  // GUARDED_BY(mu_)
};

}  // namespace ferry::transfer
