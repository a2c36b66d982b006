// WaitFor: a unit test's bounded wait for a condition that code under test brings about on
// another thread and announces no other way (a counter it bumps, a row it writes, a clock's
// recorded sleeps). A last resort: when the code signals (a promise, a latch, a gate the test
// controls, a fake clock's waits), wait on that instead.
//
// It is not a sleep: it returns as soon as the condition holds, and the bound is only there so
// that a broken test fails instead of hanging. Between looks it yields the processor (so on a
// busy machine the thread it waits for runs first), then, once the condition is slow in coming,
// blocks between looks so that it does not spin: a millisecond at first, 10 ms after 100 ms (a
// condition that asks a server is not asked a thousand times a second for long).
//
// AdvanceUntil drives code that waits on a FakeClock (a worker's idle polls, a retry's backoff)
// through time without sleeping: it moves the clock only while the code waits on it, and lets
// the code wake and wait again before the next move.
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "testing/fake_clock.h"

namespace ferry::testing {

// True once `ready()` returned true; false when `timeout` of real time passed first (ready()
// is asked one last time then). `ready` is called from this thread only; it may look at a
// store or a server, but must not wait for the condition itself.
template <class Ready>
bool WaitFor(Ready&& ready, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  using Steady = std::chrono::steady_clock;
  const auto start = Steady::now();
  const auto deadline = start + timeout;
  std::mutex mu;
  std::condition_variable never_notified;  // a bounded block between looks, not a signal
  while (!ready()) {
    const auto now = Steady::now();
    if (now >= deadline) return ready();
    const auto waited = now - start;
    if (waited < std::chrono::milliseconds(2)) {
      std::this_thread::yield();
    } else {
      const auto block = waited < std::chrono::milliseconds(100) ? std::chrono::milliseconds(1)
                                                                 : std::chrono::milliseconds(10);
      std::unique_lock lock(mu);
      never_notified.wait_until(lock, std::min(deadline, now + block));
    }
  }
  return true;
}

// Moves `clock` by `step` until `done()`: each move once a thread waits on the clock, then, once
// every waiter looked at the new time, until done(), a new wait began, or as many threads wait
// as before the move (nobody woke). True once done(); false after `moves` moves or when nothing
// waited on the clock for `timeout`.
template <class Done>
bool AdvanceUntil(FakeClock& clock, std::chrono::milliseconds step, Done&& done, int moves,
                  std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  for (int i = 0; i < moves; ++i) {
    if (done()) return true;
    if (!clock.AwaitWaiters(1, 0, timeout)) return done();
    const uint64_t begun = clock.waits_begun();
    const int waiting = clock.waiting();
    clock.Advance(step);
    clock.AwaitWaitersSawTheTime(timeout);
    WaitFor(
        [&] { return done() || clock.waits_begun() > begun || clock.waiting() >= waiting; },
        timeout);
  }
  return done();
}

}  // namespace ferry::testing
