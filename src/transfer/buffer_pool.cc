#include "transfer/buffer_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <utility>

#include "base/status.h"

namespace ferry::transfer {

BufferPool::~BufferPool() {
  std::lock_guard lock(mu_);
  for (const Idle& b : idle_) Free(b.memory, b.capacity);
  idle_.clear();
}

uint64_t BufferPool::CapacityFor(uint64_t size) {
  if (size < kPooledMin) return size;
  return (size + kPooledMin - 1) / kPooledMin * kPooledMin;
}

// Pooled buffers are mappings of their own (not heap memory): given back to the system at once
// when freed, and eligible for transparent huge pages (fewer page faults and TLB misses).
std::byte* BufferPool::Allocate(uint64_t capacity) {
  if (capacity == 0) return nullptr;
  if (capacity < kPooledMin) return new std::byte[capacity];
  void* p = mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  FERRY_CHECK(p != MAP_FAILED);  // out of memory
#ifdef MADV_HUGEPAGE
  (void)madvise(p, capacity, MADV_HUGEPAGE);
#endif
  return static_cast<std::byte*>(p);
}

void BufferPool::Free(std::byte* memory, uint64_t capacity) {
  if (memory == nullptr) return;
  if (capacity < kPooledMin) {
    delete[] memory;
  } else {
    munmap(memory, capacity);
  }
}

std::optional<BufferPool::Buffer> BufferPool::Borrow(uint64_t size, std::stop_token stop) {
  const uint64_t capacity = CapacityFor(size);
  {
    std::lock_guard lock(mu_);
    acquiring_bytes_ += capacity;
  }
  if (!budget_.AcquireForPool(capacity, stop)) {
    std::lock_guard lock(mu_);
    acquiring_bytes_ -= capacity;
    return std::nullopt;
  }
  Buffer buffer;
  buffer.pool_ = this;
  buffer.size_ = size;
  buffer.capacity_ = capacity;
  std::vector<Idle> evicted;
  {
    std::lock_guard lock(mu_);
    if (capacity >= kPooledMin) {
      // The most recently given back buffer of this capacity: its pages are likeliest warm.
      for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) {
        if (it->capacity != capacity) continue;
        buffer.memory_ = it->memory;
        idle_bytes_ -= capacity;
        lent_bytes_ += capacity;
        acquiring_bytes_ -= capacity;
        idle_.erase(std::next(it).base());
        return buffer;
      }
    }
    // A new allocation: idle buffers make room first, oldest first, so that borrowed plus
    // idle bytes stay within the budget's capacity.
    const uint64_t in_use = budget_.in_use();
    while (!idle_.empty() && in_use + idle_bytes_ > budget_.capacity()) {
      evicted.push_back(idle_.front());
      idle_bytes_ -= idle_.front().capacity;
      idle_.erase(idle_.begin());
    }
    if (capacity > 0) ++allocations_;
    lent_bytes_ += capacity;
    acquiring_bytes_ -= capacity;
  }
  for (const Idle& b : evicted) Free(b.memory, b.capacity);
  buffer.memory_ = Allocate(capacity);
  return buffer;
}

void BufferPool::TrimIdle() {
  std::vector<Idle> evicted;
  {
    std::lock_guard lock(mu_);
    const uint64_t in_use = budget_.in_use();
    while (!idle_.empty() && in_use + idle_bytes_ > budget_.capacity()) {
      evicted.push_back(idle_.front());  // the oldest first
      idle_bytes_ -= idle_.front().capacity;
      idle_.erase(idle_.begin());
    }
  }
  for (const Idle& b : evicted) Free(b.memory, b.capacity);
}

void BufferPool::GiveBack(std::byte* memory, uint64_t capacity) {
  bool keep = false;
  if (memory != nullptr) {
    std::lock_guard lock(mu_);
    lent_bytes_ -= std::min(lent_bytes_, capacity);
    // Kept, the buffer moves from borrowed to idle, while the idle bytes and what the budget's
    // other users hold (its bytes in use that are not lent buffers of the pool) fit the
    // capacity. Not all of budget_.in_use(): that also counts the buffers lent now (the pool's
    // own) and this one (released below), and a buffer freed on that count is allocated again by
    // the next borrower. Nor the bytes of borrows under way (acquiring_bytes_: some may not be
    // in use yet, so the others may be counted short: at worst a buffer kept that the trimmer
    // frees at the others' next take).
    if (capacity >= kPooledMin) {
      const uint64_t in_use = budget_.in_use();
      const uint64_t mine = lent_bytes_ + acquiring_bytes_ + capacity;
      const uint64_t others = in_use > mine ? in_use - mine : 0;
      keep = idle_bytes_ + capacity + others <= budget_.capacity();
    }
    if (keep) {
      idle_.push_back({memory, capacity});
      idle_bytes_ += capacity;
    }
  }
  if (!keep) Free(memory, capacity);
  budget_.Release(capacity);
}

BufferPool::Buffer& BufferPool::Buffer::operator=(Buffer&& other) noexcept {
  if (this != &other) {
    Reset();
    pool_ = std::exchange(other.pool_, nullptr);
    memory_ = std::exchange(other.memory_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void BufferPool::Buffer::Reset() {
  if (pool_ == nullptr) return;
  pool_->GiveBack(memory_, capacity_);
  pool_ = nullptr;
  memory_ = nullptr;
  size_ = 0;
  capacity_ = 0;
}

uint64_t BufferPool::allocations() const {
  std::lock_guard lock(mu_);
  return allocations_;
}

uint64_t BufferPool::idle_bytes() const {
  std::lock_guard lock(mu_);
  return idle_bytes_;
}

}  // namespace ferry::transfer
