#include "limits/limits.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "obs/metrics.h"
#include "testing/fake_clock.h"
#include "testing/wait_for.h"

namespace ferry::limits {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
constexpr size_t kChunk = 64 * 1024;
constexpr uint64_t kMi = 1024 * 1024;

double Elapsed(const testing::FakeClock& clock, Clock::MonoTime since) {
  return std::chrono::duration<double>(clock.MonoNow() - since).count();
}

LimitsConfig Bandwidth(const char* text) {
  LimitsConfig c;
  c.bandwidth = *BandwidthSchedule::Parse(text);
  return c;
}

TEST(LimitsTest, NoLimitNeverWaits) {
  testing::FakeClock clock;
  Limits limits(&clock);
  for (int i = 0; i < 100; ++i) {
    limits.BeforeRequest("a:80", {});
    limits.Bytes(http::Direction::kUp, kChunk, {});
    limits.Bytes(http::Direction::kDown, kChunk, {});
  }
  EXPECT_TRUE(clock.sleeps().empty());
}

TEST(LimitsTest, BytesGoAtTheBandwidthOfTheirDirection) {
  testing::FakeClock clock;
  Limits limits(&clock);
  limits.Configure(Bandwidth("1M:4M"));
  const auto t0 = clock.MonoNow();
  for (int i = 0; i < 160; ++i) limits.Bytes(http::Direction::kUp, kChunk, {});  // 10 MiB
  // 10 MiB at 1 MiB/s, less the first burst (a tenth of a second's worth)
  EXPECT_NEAR(Elapsed(clock, t0), 9.9, 0.05);
  const auto t1 = clock.MonoNow();
  for (int i = 0; i < 640; ++i) limits.Bytes(http::Direction::kDown, kChunk, {});  // 40 MiB
  EXPECT_NEAR(Elapsed(clock, t1), 9.9, 0.05);
  EXPECT_NEAR(limits.WaitedSeconds("bwlimit_up"), 9.9, 0.05);
  EXPECT_NEAR(limits.WaitedSeconds("bwlimit_down"), 9.9, 0.05);
}

TEST(LimitsTest, ThreadsShareOneBandwidth) {
  Limits limits;  // the real clock: four threads at once
  limits.Configure(Bandwidth("16M"));
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 32; ++i) limits.Bytes(http::Direction::kUp, kChunk, {});  // 2 MiB
    });
  }
  for (auto& t : threads) t.join();
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // 8 MiB at 16 MiB/s less the burst (1.6 MiB): 0.4 s at least, whatever the thread count
  EXPECT_GE(took, 0.38);
}

TEST(LimitsTest, RequestsPerSecondArePerEndpoint) {
  testing::FakeClock clock;
  Limits limits(&clock);
  LimitsConfig c;
  c.max_rps = 10;
  c.max_rps_burst = 1;
  limits.Configure(c);
  const auto t0 = clock.MonoNow();
  for (int i = 0; i < 50; ++i) limits.BeforeRequest("a:80", {});
  EXPECT_NEAR(Elapsed(clock, t0), 4.9, 0.01);
  // another endpoint has a bucket of its own, full
  const auto t1 = clock.MonoNow();
  limits.BeforeRequest("b:443", {});
  EXPECT_EQ(clock.MonoNow(), t1);
  // a burst lets that many go at once
  c.max_rps_burst = 5;
  limits.Configure(c);
  clock.Advance(seconds(10));
  const auto t2 = clock.MonoNow();
  for (int i = 0; i < 5; ++i) limits.BeforeRequest("c:80", {});
  EXPECT_EQ(clock.MonoNow(), t2);
  limits.BeforeRequest("c:80", {});
  EXPECT_NEAR(Elapsed(clock, t2), 0.1, 0.002);
}

TEST(LimitsTest, AnEndpointsPauseHoldsItsRequestsOnlyAndIsCapped) {
  testing::FakeClock clock;
  Limits limits(&clock);
  limits.PauseEndpoint("a:80", milliseconds(2000));
  const auto t0 = clock.MonoNow();
  limits.BeforeRequest("b:80", {});
  EXPECT_EQ(clock.MonoNow(), t0);
  limits.BeforeRequest("a:80", {});
  EXPECT_NEAR(Elapsed(clock, t0), 2.0, 0.002);
  const auto t1 = clock.MonoNow();
  limits.BeforeRequest("a:80", {});  // the pause is over
  EXPECT_EQ(clock.MonoNow(), t1);
  limits.PauseEndpoint("a:80", std::chrono::hours(1));
  limits.BeforeRequest("a:80", {});
  EXPECT_NEAR(Elapsed(clock, t1), 60.0, 0.002);
  EXPECT_NEAR(limits.WaitedSeconds("retry_after"), 62.0, 0.01);
}

TEST(LimitsTest, ANewConfigurationHoldsFromTheNextByte) {
  testing::FakeClock clock;
  Limits limits(&clock);
  limits.Configure(Bandwidth("1M"));
  for (int i = 0; i < 32; ++i) limits.Bytes(http::Direction::kUp, kChunk, {});
  EXPECT_FALSE(clock.sleeps().empty());
  limits.Configure(Bandwidth("off"));
  const auto t0 = clock.MonoNow();
  for (int i = 0; i < 1000; ++i) limits.Bytes(http::Direction::kUp, kChunk, {});
  EXPECT_EQ(clock.MonoNow(), t0);
  EXPECT_EQ(limits.RatesNow(), Rates{});
}

TEST(LimitsTest, TheTimetablesSlotChangesTheRateWhenItsTimeComes) {
  const char* old = std::getenv("TZ");
  const std::string saved = old != nullptr ? old : "";
  setenv("TZ", "UTC", 1);
  tzset();
  // Thursday 2026-01-01, 07:59:50 UTC
  testing::FakeClock clock(std::chrono::system_clock::time_point(seconds(1767225600)) +
                           std::chrono::hours(7) + std::chrono::minutes(59) + seconds(50));
  obs::Registry registry;
  Limits limits(&clock, &registry);
  limits.Configure(Bandwidth("08:00,2M 18:00,off"));
  EXPECT_EQ(limits.RatesNow(), Rates{});  // yesterday's 18:00 slot
  clock.Advance(seconds(15));
  EXPECT_EQ(limits.RatesNow(), (Rates{2 * kMi, 2 * kMi}));
  const std::string text = registry.RenderPrometheus();
  EXPECT_NE(text.find("ferry_limit_bytes_per_second{direction=\"up\"} 2097152"), std::string::npos)
      << text;
  EXPECT_NE(text.find("ferry_limit_wait_seconds_total{limit=\"max_rps\"} 0"), std::string::npos);
  if (old != nullptr) {
    setenv("TZ", saved.c_str(), 1);
  } else {
    unsetenv("TZ");
  }
  tzset();
}

TEST(LimitsTest, AStopEndsAWait) {
  Limits limits;  // the real clock
  limits.Configure(Bandwidth("1K"));
  std::stop_source stop;
  stop.request_stop();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 10; ++i) limits.Bytes(http::Direction::kUp, kChunk, stop.get_token());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(5));
}

TEST(LimitsTest, NoRequestSlotsTakeNothing) {
  testing::FakeClock clock;
  Limits limits(&clock);
  EXPECT_FALSE(limits.TakeSlot({}));
  limits.SetRequestSlots(2);
  limits.SetRequestSlots(0);
  EXPECT_FALSE(limits.TakeSlot({}));
}

// The real clock, counting the looks at its monotonic time: a TakeSlot that finds no slot free
// looks once, under the slots' lock, before it waits (which lets the lock go), so a count past
// what was seen before says that a caller waits or is about to.
class SlotWaitClock : public SystemClock {
 public:
  MonoTime MonoNow() const override {
    ++looks;
    return SystemClock::MonoNow();
  }
  mutable std::atomic<int> looks{0};
};

TEST(LimitsTest, RequestSlotsBoundTheRequestsInFlightOfEveryThread) {
  SlotWaitClock clock;
  Limits limits(&clock);  // real threads
  limits.SetRequestSlots(3);
  constexpr int kThreads = 12;
  std::atomic<int> in_flight{0};
  std::atomic<int> most{0};
  std::atomic<int> running{kThreads};  // threads not through their requests yet
  const int looks_before = clock.looks.load();  // a look past these: a TakeSlot waits
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        ASSERT_TRUE(limits.TakeSlot({}));
        const int now = in_flight.fetch_add(1) + 1;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        // The request stays in flight until every slot is taken (or every thread left holds
        // one), and the first ones until another thread waited for a slot: a fourth request in
        // flight would show, and the wait is counted.
        EXPECT_TRUE(ferry::testing::WaitFor([&] {
          const int left = running.load();
          const bool waited = left <= 3 || clock.looks > looks_before;
          return in_flight.load() >= std::min(3, left) && waited;
        }));
        in_flight.fetch_sub(1);
        limits.ReleaseSlot();
      }
      running.fetch_sub(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(most.load(), 3);  // the slots were all used, never one more
  EXPECT_GT(limits.WaitedSeconds("request_slots"), 0);
}

TEST(LimitsTest, AStopEndsTheWaitForASlotAndMoreSlotsWakeWaiters) {
  SlotWaitClock clock;
  Limits limits(&clock);
  limits.SetRequestSlots(1);
  ASSERT_TRUE(limits.TakeSlot({}));
  std::stop_source stop;
  const int before_stop = clock.looks.load();
  std::thread stopper([&] {
    EXPECT_TRUE(ferry::testing::WaitFor([&] { return clock.looks.load() > before_stop; }));
    stop.request_stop();  // the wait has begun (the lock is the waiter's until it waits)
  });
  EXPECT_FALSE(limits.TakeSlot(stop.get_token()));  // stopped while every slot was taken
  stopper.join();
  bool taken = false;
  const int before_wait = clock.looks.load();
  std::thread waiter([&] { taken = limits.TakeSlot({}); });
  EXPECT_TRUE(ferry::testing::WaitFor([&] { return clock.looks.load() > before_wait; }));
  limits.SetRequestSlots(2);  // one more slot: the waiter goes
  waiter.join();
  EXPECT_TRUE(taken);
  limits.ReleaseSlot();
  limits.ReleaseSlot();
  EXPECT_EQ(limits.request_slots(), 2);
}

// n requests to `endpoint`, one every `gap` of the fake clock, each answered with `status`.
void Requests(Limits& limits, testing::FakeClock& clock, int n, milliseconds gap, int status,
              std::string_view endpoint = "a:80") {
  for (int i = 0; i < n; ++i) {
    limits.BeforeRequest(endpoint, {});
    clock.SleepFor(gap, {});
    limits.AfterRequest(endpoint, status);
  }
}

TEST(LimitsTest, AnEndpointIsUnlimitedUntilItThrottles) {
  testing::FakeClock clock;
  Limits limits(&clock);
  Requests(limits, clock, 500, milliseconds(1), 200);
  EXPECT_EQ(clock.sleeps().size(), 500u);  // only the test's own
  EXPECT_EQ(limits.AdaptiveRps("a:80"), 0);
  EXPECT_EQ(limits.WaitedSeconds("adaptive_rate"), 0);
}

TEST(LimitsTest, AThrottleHalvesTheEndpointsRateAndPacesItsRequests) {
  testing::FakeClock clock;
  obs::Registry registry;
  Limits limits(&clock, &registry);
  Requests(limits, clock, 1000, milliseconds(1), 200);  // 1,000/s for a second
  Requests(limits, clock, 1, milliseconds(1), 503);
  const double rate = limits.AdaptiveRps("a:80");
  EXPECT_NEAR(rate, 500, 25);  // half of what was sent in the last second
  EXPECT_EQ(limits.AdaptiveRps("b:80"), 0);  // another endpoint: unlimited
  // requests without a gap of their own now go at the rate
  const auto t0 = clock.MonoNow();
  Requests(limits, clock, 100, milliseconds(0), 200);
  EXPECT_NEAR(Elapsed(clock, t0), 100 / rate, 0.02);
  EXPECT_GT(limits.WaitedSeconds("adaptive_rate"), 0.1);
  const std::string text = registry.RenderPrometheus();
  const std::string series = "ferry_limit_adaptive_requests_per_second{endpoint=\"a:80\"} ";
  const size_t at = text.find(series);
  ASSERT_NE(at, std::string::npos) << text;
  EXPECT_NEAR(std::stod(text.substr(at + series.size())), rate, 1);
  EXPECT_NE(text.find("ferry_limit_adaptive_decreases_total{endpoint=\"a:80\"} 1"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("endpoint=\"b:80\""), std::string::npos) << text;
}

TEST(LimitsTest, MaxRpsStaysACeilingUnderTheAdaptiveRate) {
  testing::FakeClock clock;
  Limits limits(&clock);
  LimitsConfig c;
  c.max_rps = 10;
  limits.Configure(c);
  Requests(limits, clock, 20, milliseconds(0), 200);
  Requests(limits, clock, 1, milliseconds(0), 429);
  EXPECT_GT(limits.AdaptiveRps("a:80"), 0);
  EXPECT_LE(limits.AdaptiveRps("a:80"), 10);
  const auto t0 = clock.MonoNow();
  Requests(limits, clock, 20, milliseconds(0), 200);
  // the lower of the two holds: the adaptive rate, about half of 10/s
  EXPECT_GE(Elapsed(clock, t0), 2.0);
}

TEST(LimitsTest, TheAdaptiveRateCanBeTurnedOff) {
  testing::FakeClock clock;
  Limits limits(&clock);
  Requests(limits, clock, 100, milliseconds(1), 200);
  Requests(limits, clock, 1, milliseconds(1), 503);
  EXPECT_GT(limits.AdaptiveRps("a:80"), 0);
  LimitsConfig off;
  off.adaptive = false;
  limits.Configure(off);
  EXPECT_EQ(limits.AdaptiveRps("a:80"), 0);  // forgotten
  Requests(limits, clock, 10, milliseconds(0), 503);
  EXPECT_EQ(limits.AdaptiveRps("a:80"), 0);
  const auto t0 = clock.MonoNow();
  Requests(limits, clock, 100, milliseconds(0), 200);
  EXPECT_EQ(Elapsed(clock, t0), 0);
}

}  // namespace
}  // namespace ferry::limits
