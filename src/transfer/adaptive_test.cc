// AdaptiveLimit with fake time: a simulated link whose throughput grows with the requests in
// flight up to a capacity, throttling, bounds, work that does not fill the limit.
#include "transfer/adaptive.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <thread>

#include "testing/fake_clock.h"
#include "transfer/executor.h"
#include "testing/wait_for.h"

namespace ferry::transfer {
namespace {

using namespace std::chrono_literals;
using Time = AdaptiveLimit::Time;

// Drives windows of 300 ms: each window moves `rate(limit)` tasks/s of 64 KiB each.
struct Sim {
  AdaptiveOptions options;
  Time now{};
  AdaptiveLimit::Totals totals;
  std::function<double(int)> rate = [](int limit) { return 25.0 * std::min(limit, 40); };
  bool saturated = true;
  std::unique_ptr<AdaptiveLimit> ctl;

  explicit Sim(AdaptiveOptions o) : options(o), ctl(std::make_unique<AdaptiveLimit>(o, now)) {}
  int Window(uint64_t throttles = 0) {
    const double tasks = rate(ctl->limit()) * 0.3;
    now += 300ms;
    totals.tasks += static_cast<uint64_t>(tasks);
    totals.bytes += static_cast<uint64_t>(tasks) * 65536;
    totals.throttles += throttles;
    EXPECT_TRUE(ctl->Due(now, totals.tasks));
    return ctl->Update(now, totals, saturated);
  }
};

AdaptiveOptions Defaults() {
  AdaptiveOptions o;
  o.min = 1;
  o.max = 256;
  o.initial = 4;
  return o;
}

TEST(AdaptiveLimitTest, GrowsWhileThroughputGrowsThenHolds) {
  Sim sim(Defaults());
  EXPECT_EQ(sim.ctl->limit(), 4);
  EXPECT_EQ(sim.Window(), 8);   // first window: more than nothing
  EXPECT_EQ(sim.Window(), 16);  // doubled throughput: slow start goes on
  EXPECT_EQ(sim.Window(), 32);
  int limit = 0;
  for (int i = 0; i < 30; ++i) limit = sim.Window();
  // The link gives no more beyond 40 requests: the limit stops near there, far below 256.
  EXPECT_GE(limit, 40);
  EXPECT_LE(limit, 72);
}

// A server near its capacity: each doubling beyond 32 requests gives a few per cent (as small
// copies on one RGW pair: 32 -> 64 +7%, 64 -> 128 +5%). That is wall time worth having: the
// limit keeps the increases and ends near the maximum, not at 32.
TEST(AdaptiveLimitTest, KeepsTheFewPerCentOfAServerNearItsCapacity) {
  AdaptiveOptions o = Defaults();
  o.max = 128;
  Sim sim(o);
  sim.rate = [](int limit) {
    if (limit <= 32) return 12.0 * limit;
    return 384.0 * (1 + 0.07 * std::log2(limit / 32.0));
  };
  for (int i = 0; i < 60; ++i) sim.Window();
  EXPECT_GE(sim.ctl->limit(), 112);
  // The same server with nothing more to give beyond 32: the limit stays near 32.
  Sim flat(o);
  flat.rate = [](int limit) { return 12.0 * std::min(limit, 32); };
  for (int i = 0; i < 60; ++i) flat.Window();
  EXPECT_LE(flat.ctl->limit(), 48);
}

// A window lasts until every slot turned over at least once, so a high limit is judged on
// enough tasks, not on the few that ended in 150 ms.
TEST(AdaptiveLimitTest, AWindowAtAHighLimitWaitsForEachSlotToTurnOver) {
  AdaptiveOptions o = Defaults();
  o.initial = 100;
  AdaptiveLimit ctl(o, Time{});
  EXPECT_FALSE(ctl.Due(Time{} + 300ms, 99));
  EXPECT_TRUE(ctl.Due(Time{} + 300ms, 100));
  EXPECT_TRUE(ctl.Due(Time{} + 4 * o.window, 1));  // long enough whatever the count
}

TEST(AdaptiveLimitTest, HalvesWhenThrottledAndSettlesBeforeGrowingAgain) {
  Sim sim(Defaults());
  for (int i = 0; i < 4; ++i) sim.Window();
  const int before = sim.ctl->limit();
  ASSERT_GE(before, 32);
  EXPECT_EQ(sim.Window(/*throttles=*/3), before / 2);
  EXPECT_EQ(sim.Window(), before / 2);  // settling: not judged
  // Then additive growth only (no more doubling).
  const int next = sim.Window();
  EXPECT_GT(next, before / 2);
  EXPECT_LT(next, before);
}

TEST(AdaptiveLimitTest, StaysWithinItsBounds) {
  AdaptiveOptions o = Defaults();
  o.min = 2;
  o.max = 12;
  Sim sim(o);
  sim.rate = [](int limit) { return 100.0 * limit; };  // more is always better
  for (int i = 0; i < 20; ++i) EXPECT_LE(sim.Window(), 12);
  EXPECT_EQ(sim.ctl->limit(), 12);
  for (int i = 0; i < 20; ++i) EXPECT_GE(sim.Window(/*throttles=*/1), 2);
  EXPECT_EQ(sim.ctl->limit(), 2);
  AdaptiveOptions odd = Defaults();
  odd.initial = 1000;
  odd.max = 50;
  EXPECT_EQ(AdaptiveLimit(odd, Time{}).limit(), 50);
}

TEST(AdaptiveLimitTest, NeverGrowsWhenTheWorkDoesNotFillTheLimit) {
  Sim sim(Defaults());
  sim.saturated = false;  // the listing, not the limit, bounds the work
  sim.rate = [](int) { return 100.0; };
  for (int i = 0; i < 10; ++i) EXPECT_EQ(sim.Window(), 4);
}

TEST(AdaptiveLimitTest, TakesBackAnIncreaseThatMadeThroughputFall) {
  Sim sim(Defaults());
  // Up to 8 requests help; beyond that the server slows down for everyone.
  sim.rate = [](int limit) { return limit <= 8 ? 50.0 * limit : 100.0; };
  EXPECT_EQ(sim.Window(), 8);
  EXPECT_EQ(sim.Window(), 16);  // 8 gave twice as much as 4
  EXPECT_EQ(sim.Window(), 8);   // 16 fell to 100/s: back to 8
  for (int i = 0; i < 10; ++i) EXPECT_LE(sim.Window(), 16);
}

// Throttles counted before the limit started (a check of both sides, an earlier run in the
// process) are not its signals.
TEST(AdaptiveLimitTest, CountsBeforeTheStartAreNotSignals) {
  AdaptiveLimit::Totals start;
  start.throttles = 7;
  start.bytes = 1 << 20;
  AdaptiveLimit ctl(Defaults(), Time{}, start);
  AdaptiveLimit::Totals later = start;
  later.tasks = 100;
  later.bytes += 100 * 65536;
  EXPECT_EQ(ctl.Update(Time{} + 300ms, later, true), 8);  // grew from 4: no halving
  later.throttles += 1;
  later.tasks += 100;
  EXPECT_EQ(ctl.Update(Time{} + 600ms, later, true), 4);
}

TEST(AdaptiveLimitTest, AWindowNeedsItsLengthAndEnoughTasks) {
  AdaptiveOptions o = Defaults();
  AdaptiveLimit ctl(o, Time{});
  EXPECT_FALSE(ctl.Due(Time{} + 100ms, 100));
  EXPECT_FALSE(ctl.Due(Time{} + 300ms, 3));   // too few tasks to judge
  EXPECT_TRUE(ctl.Due(Time{} + 300ms, 8));
  EXPECT_TRUE(ctl.Due(Time{} + 1200ms, 1));  // long enough whatever the count
}

// The most tasks running at once on an executor given 64 tasks of 20 ms. With `hold_until`, each
// task first waits (10 s at most) until that many have run at once: an executor that admits
// them reaches that peak however slowly its threads start (under ASan on a loaded machine,
// starting 64 threads took longer than 20 ms, the first tasks ended before the last began and
// the peak was 39 of 64), and one that admits fewer is still seen.
int PeakRunning(ExecutorOptions options, int hold_until = 0) {
  Executor executor(options);
  auto queue = executor.Open();
  std::atomic<int> running{0}, peak{0};
  for (int i = 0; i < 64; ++i) {
    queue->Push(
        [&](std::stop_token) {
          const int now = ++running;
          int p = peak.load();
          while (now > p && !peak.compare_exchange_weak(p, now)) {
          }
          ferry::testing::WaitFor([&] { return peak.load() >= hold_until; }, 10s);
          // real time: a task runs a while (a request in flight), so that the tasks the
          // executor admits overlap and their peak shows how many it admits.
          std::this_thread::sleep_for(20ms);
          --running;
        },
        /*priority=*/true);  // all queued at once
  }
  queue->Wait();
  queue.reset();
  return peak.load();
}

TEST(ConcurrencyGateTest, AnExplicitConcurrencyIsFixedAndAdaptiveStartsLow) {
  EXPECT_EQ(PeakRunning(ExecutorOptions{.concurrency = 16, .memory_budget = 1 << 20,
                                        .adaptive = false},
                        /*hold_until=*/16),
            16);
  EXPECT_EQ(PeakRunning(ExecutorOptions{.concurrency = 64, .memory_budget = 1 << 20,
                                        .adaptive = false},
                        /*hold_until=*/64),
            64);
  // Adaptive: 16 at first; 64 tasks of 20 ms end before a window could double it twice.
  const int adaptive = PeakRunning(ExecutorOptions{.concurrency = 64, .memory_budget = 1 << 20,
                                                   .adaptive = true});
  EXPECT_LE(adaptive, 32);
  EXPECT_GE(adaptive, 16);
  ConcurrencyGate fixed(4, false);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(fixed.Admit());
  EXPECT_FALSE(fixed.Admit());
  EXPECT_FALSE(fixed.Finished());
  EXPECT_TRUE(fixed.Admit());
  ConcurrencyGate gate(64, true);
  EXPECT_EQ(gate.limit(), 16);
  for (int i = 0; i < 16; ++i) EXPECT_TRUE(gate.Admit());
  EXPECT_FALSE(gate.Admit());
}

// The gate's windows are timed by the clock it is given (the executor's ExecutorOptions::clock),
// not the real one: tasks that end within a few real microseconds make a whole window once the
// fake clock has moved past it, and the saturated limit doubles.
TEST(ConcurrencyGateTest, ItsWindowsAreTimedByTheClockItIsGiven) {
  testing::FakeClock clock;
  ConcurrencyGate gate(64, true, &clock);
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(gate.Admit());
  EXPECT_FALSE(gate.Admit());  // saturated
  for (int i = 0; i < 16; ++i) EXPECT_FALSE(gate.Finished()) << i;  // no time on the clock
  EXPECT_EQ(gate.limit(), 16);
  for (int i = 0; i < 16; ++i) ASSERT_TRUE(gate.Admit());
  EXPECT_FALSE(gate.Admit());
  clock.Advance(300ms);
  EXPECT_TRUE(gate.Finished());  // a window of 17 tasks and 300 ms, saturated: doubled
  EXPECT_EQ(gate.limit(), 32);
}

}  // namespace
}  // namespace ferry::transfer
