// BufferPool: reuse of given-back buffers, budget accounting, the bound on what it holds.
#include "transfer/buffer_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

#include "testing/wait_for.h"

namespace ferry::transfer {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

TEST(BufferPoolTest, ReusesAGivenBackBufferOfTheSameSize) {
  ByteBudget budget(64 * kMiB);
  BufferPool pool(budget);
  std::byte* first = nullptr;
  {
    auto b = pool.Borrow(16 * kMiB, {});
    ASSERT_TRUE(b.has_value());
    ASSERT_EQ(b->data().size(), 16 * kMiB);
    first = b->data().data();
    b->data()[0] = std::byte{42};
    EXPECT_EQ(budget.in_use(), 16 * kMiB);
  }
  EXPECT_EQ(budget.in_use(), 0u);  // an idle buffer holds no budget
  EXPECT_EQ(pool.idle_bytes(), 16 * kMiB);
  for (int i = 0; i < 10; ++i) {
    auto b = pool.Borrow(16 * kMiB - 123, {});  // the same whole-MiB capacity
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(b->data().data(), first);
    EXPECT_EQ(b->data().size(), 16 * kMiB - 123);
    EXPECT_EQ(budget.in_use(), 16 * kMiB);  // the capacity is what is counted
  }
  EXPECT_EQ(pool.allocations(), 1u);
}

TEST(BufferPoolTest, SmallBuffersAreNeverKept) {
  ByteBudget budget(64 * kMiB);
  BufferPool pool(budget);
  {
    auto b = pool.Borrow(16 * 1024, {});
    ASSERT_TRUE(b.has_value());
    EXPECT_EQ(budget.in_use(), 16u * 1024);
  }
  EXPECT_EQ(pool.idle_bytes(), 0u);
  EXPECT_EQ(budget.in_use(), 0u);
  auto empty = pool.Borrow(0, {});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->data().empty());
}

TEST(BufferPoolTest, BorrowedPlusIdleNeverExceedTheBudget) {
  ByteBudget budget(32 * kMiB);
  BufferPool pool(budget);
  {
    auto a = pool.Borrow(8 * kMiB, {});
    auto b = pool.Borrow(8 * kMiB, {});
    auto c = pool.Borrow(8 * kMiB, {});
  }
  EXPECT_EQ(pool.idle_bytes(), 24 * kMiB);
  // Another size: idle buffers are freed to make room before allocating beyond the budget.
  auto big = pool.Borrow(20 * kMiB, {});
  ASSERT_TRUE(big.has_value());
  EXPECT_LE(budget.in_use() + pool.idle_bytes(), 32 * kMiB);
  EXPECT_EQ(pool.idle_bytes(), 8 * kMiB);
  auto small = pool.Borrow(8 * kMiB, {});  // the one left idle
  EXPECT_EQ(pool.idle_bytes(), 0u);
  EXPECT_EQ(pool.allocations(), 4u);
  small.reset();
  big.reset();
  EXPECT_LE(pool.idle_bytes(), 32 * kMiB);
}

// Budget taken by a borrower that has not yet picked its idle buffer (Borrow acquires before it
// looks at the idle list) must not make a buffer given back meanwhile look like one too many:
// freed, it would be allocated again by the next borrower.
TEST(BufferPoolTest, ABufferGivenBackWhileABorrowerIsBetweenBudgetAndIdleIsKept) {
  ByteBudget budget(3 * kMiB);
  BufferPool pool(budget);
  auto a = pool.Borrow(kMiB, {});
  auto b = pool.Borrow(kMiB, {});
  auto c = pool.Borrow(kMiB, {});
  c.reset();  // one idle
  ASSERT_TRUE(budget.Acquire(kMiB, {}));  // a borrower's budget, its idle buffer not yet picked
  a.reset();
  EXPECT_EQ(pool.idle_bytes(), 2 * kMiB);
  budget.Release(kMiB);
  b.reset();
  std::vector<BufferPool::Buffer> again;
  for (int i = 0; i < 3; ++i) again.push_back(*pool.Borrow(kMiB, {}));
  EXPECT_EQ(pool.allocations(), 3u);
  EXPECT_LE(budget.in_use() + pool.idle_bytes(), 3 * kMiB);
}

// The budget's other users (an unpack's decoded entries, a stream's buffers: bytes taken from
// the budget that are not the pool's buffers) count against what the pool keeps idle: a buffer
// given back while they hold most of the budget is freed, so that idle buffers and their bytes
// never hold the capacity twice over.
TEST(BufferPoolTest, WhatOtherUsersOfTheBudgetHoldLeavesLessToKeepIdle) {
  ByteBudget budget(8 * kMiB);
  BufferPool pool(budget);
  auto a = pool.Borrow(2 * kMiB, {});
  auto b = pool.Borrow(2 * kMiB, {});
  ASSERT_TRUE(budget.TryAcquire(4 * kMiB));  // another user's bytes: the budget is full
  a.reset();  // idle 2 + others 4 = 6 <= 8: kept
  EXPECT_EQ(pool.idle_bytes(), 2 * kMiB);
  b.reset();  // idle 4 + others 4 = 8 <= 8: kept
  EXPECT_EQ(pool.idle_bytes(), 4 * kMiB);
  budget.Overdraw(2 * kMiB);  // the others grow (an overdraft)
  auto c = pool.Borrow(2 * kMiB, {});  // picks an idle one (waits for nothing: 2 are free)
  (void)c;
  budget.Release(2 * kMiB);
  budget.Overdraw(2 * kMiB);  // others 6
  c.reset();  // idle 2 + 2 + others 6 = 10 > 8: freed
  EXPECT_EQ(pool.idle_bytes(), 2 * kMiB);
  budget.Release(6 * kMiB);
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_LE(pool.idle_bytes(), 8 * kMiB);
}

// Idle buffers give way when the budget's other users take bytes later (the trimmer the
// executor wires): the pool's idle bytes and the bytes in use never hold the capacity twice.
TEST(BufferPoolTest, IdleBuffersAreFreedWhenOtherUsersTakeTheBudget) {
  ByteBudget budget(8 * kMiB);
  BufferPool pool(budget);
  budget.SetIdleTrimmer([&pool] { pool.TrimIdle(); });
  {
    auto a = pool.Borrow(4 * kMiB, {});
    auto b = pool.Borrow(4 * kMiB, {});
  }
  EXPECT_EQ(pool.idle_bytes(), 8 * kMiB);  // the budget was free: both kept
  ASSERT_TRUE(budget.TryAcquire(2 * kMiB));  // another user: 2 + 8 > 8
  EXPECT_EQ(pool.idle_bytes(), 4 * kMiB);
  budget.Overdraw(4 * kMiB);  // 6 + 4 > 8
  EXPECT_EQ(pool.idle_bytes(), 0u);
  budget.Release(6 * kMiB);
  // the pool's own borrow takes an idle buffer, never frees it on its way
  { auto c = pool.Borrow(4 * kMiB, {}); }
  { auto d = pool.Borrow(4 * kMiB, {}); }
  EXPECT_EQ(pool.allocations(), 3u);  // a, b, then one buffer reused by c and d
}

// An oversized buffer (ByteBudget admits one alone) is freed when it comes back.
TEST(BufferPoolTest, AnOversizedBufferIsNotKept) {
  ByteBudget budget(4 * kMiB);
  BufferPool pool(budget);
  {
    auto big = pool.Borrow(6 * kMiB, {});
    ASSERT_TRUE(big.has_value());
  }
  EXPECT_EQ(pool.idle_bytes(), 0u);
  EXPECT_EQ(budget.in_use(), 0u);
}

// A budget's gauge that counts each thread that starts to wait for bytes (every caller counts
// as a worker; none is ever stalled): the test knows a borrow waits, not just that it did not
// return yet.
class BorrowWaitWatch : public WorkerGauge {
 public:
  bool CallerIsWorker() const override { return true; }
  void Waiting(bool waiting) override {
    if (waiting) ++waits;
  }
  bool Stalled() const override { return false; }
  std::atomic<int> waits{0};
};

TEST(BufferPoolTest, BorrowWaitsForBudgetAndStops) {
  ByteBudget budget(16 * kMiB);
  BorrowWaitWatch watch;
  budget.SetWorkerGauge(&watch);
  BufferPool pool(budget);
  auto held = pool.Borrow(16 * kMiB, {});
  ASSERT_TRUE(held.has_value());
  std::stop_source stop;
  std::atomic<bool> got{false};
  std::jthread waiter([&] {
    auto b = pool.Borrow(16 * kMiB, stop.get_token());
    got = b.has_value();
  });
  EXPECT_TRUE(ferry::testing::WaitFor([&] { return watch.waits.load() > 0; }));
  EXPECT_FALSE(got.load());
  stop.request_stop();
  waiter.join();
  EXPECT_FALSE(got.load());
  EXPECT_EQ(budget.in_use(), 16 * kMiB);  // nothing taken by the stopped borrow

  std::jthread second([&] { got = pool.Borrow(16 * kMiB, {}).has_value(); });
  held.reset();  // giving it back lets the waiting borrower in, with the same memory
  second.join();
  EXPECT_TRUE(got.load());
  EXPECT_EQ(pool.allocations(), 1u);
}

TEST(BufferPoolTest, ManyThreadsStayWithinTheBudgetAndReuse) {
  ByteBudget budget(24 * kMiB);
  BufferPool pool(budget);
  std::atomic<uint64_t> borrowed{0};
  std::atomic<uint64_t> peak{0};
  std::vector<std::jthread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        auto b = pool.Borrow(((t + i) % 2 == 0 ? 4 : 6) * kMiB - 1, {});
        ASSERT_TRUE(b.has_value());
        const uint64_t now = borrowed += b->capacity();
        uint64_t p = peak.load();
        while (now > p && !peak.compare_exchange_weak(p, now)) {
        }
        b->data().front() = std::byte{1};
        b->data().back() = std::byte{2};
        borrowed -= b->capacity();
      }
    });
  }
  threads.clear();  // joins
  EXPECT_LE(peak.load(), 24 * kMiB);
  EXPECT_LE(budget.peak(), 24 * kMiB);
  EXPECT_EQ(budget.in_use(), 0u);
  EXPECT_LE(pool.idle_bytes(), 24 * kMiB);
  // 400 borrows served by a handful of buffers (at most what fits in the budget at once, plus
  // replacements of idle buffers of the other size).
  EXPECT_LT(pool.allocations(), 100u);
}

}  // namespace
}  // namespace ferry::transfer
