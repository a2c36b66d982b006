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
  if (!budget_.Acquire(capacity, stop)) return std::nullopt;
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
  }
  for (const Idle& b : evicted) Free(b.memory, b.capacity);
  buffer.memory_ = Allocate(capacity);
  return buffer;
}

void BufferPool::GiveBack(std::byte* memory, uint64_t capacity) {
  bool keep = false;
  if (memory != nullptr && capacity >= kPooledMin) {
    std::lock_guard lock(mu_);
    // Kept, the buffer moves from borrowed to idle: the memory the pool holds is unchanged, so
    // the bound (kept by Borrow when it allocates) still holds; only an oversized buffer is
    // freed. The test is not on budget_.in_use(): that counts, at this moment, budget taken by
    // borrowers who have not yet picked their idle buffer and buffers already idle but not yet
    // released, and a buffer freed on that count is allocated again by the next borrower.
    keep = idle_bytes_ + capacity <= budget_.capacity();
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
