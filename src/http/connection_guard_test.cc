// ConnectionGuard with made-up times: the head deadline from accept and again after each
// request, the whole exchange's deadline (a slow body, a slow reader), nothing cut before its
// time, each connection cut once, and eviction above the high-water mark (the oldest waiting
// for its head first, then for its body, never one being answered, never the new one).
#include "http/connection_guard.h"

#include <gtest/gtest.h>

#include <vector>

namespace ferry::http {
namespace {

using std::chrono::milliseconds;
using Time = ConnectionGuard::Time;

const void* Id(int n) { return reinterpret_cast<const void*>(static_cast<uintptr_t>(n)); }

struct Guarded {
  explicit Guarded(size_t high_water = 0)
      : guard({.header = milliseconds(1000), .request = milliseconds(5000),
               .high_water = high_water},
              [this](int fd) { cut.push_back(fd); }) {}
  Time At(int ms) const { return start + milliseconds(ms); }
  Time start = Time() + std::chrono::hours(1);
  std::vector<int> cut;
  ConnectionGuard guard;
};

TEST(ConnectionGuardTest, AHeadNotInWithinItsDeadlineIsCutOnce) {
  Guarded g;
  g.guard.Opened(Id(1), 11, g.At(0));
  g.guard.Opened(Id(2), 12, g.At(500));
  EXPECT_EQ(g.guard.Sweep(g.At(1000)), 0u);  // not past it yet
  EXPECT_EQ(g.guard.Sweep(g.At(1001)), 1u);
  EXPECT_EQ(g.cut, std::vector<int>{11});
  EXPECT_EQ(g.guard.Sweep(g.At(1200)), 0u);  // cut once, though it is still open
  EXPECT_EQ(g.guard.Sweep(g.At(1501)), 1u);
  EXPECT_EQ(g.cut, (std::vector<int>{11, 12}));
  EXPECT_EQ(g.guard.counts().header_timeouts, 2u);
  EXPECT_EQ(g.guard.counts().open, 0u);
  g.guard.Closed(Id(1));
  g.guard.Closed(Id(2));
  EXPECT_EQ(g.guard.counts().open, 0u);
}

TEST(ConnectionGuardTest, TheWholeExchangeHasADeadlineAndKeepAliveStartsItAgain) {
  Guarded g;
  g.guard.Opened(Id(1), 11, g.At(0));
  g.guard.HeadIn(Id(1));                      // the head came in time: the body may be slow
  EXPECT_EQ(g.guard.Sweep(g.At(4000)), 0u);
  g.guard.Answered(Id(1));                    // a reply being sent counts too (a slow reader)
  EXPECT_EQ(g.guard.Sweep(g.At(5000)), 0u);
  g.guard.Ended(Id(1), g.At(5000));           // keep-alive: the next head from now
  EXPECT_EQ(g.guard.Sweep(g.At(5900)), 0u);
  g.guard.HeadIn(Id(1));
  EXPECT_EQ(g.guard.Sweep(g.At(10000)), 0u);
  EXPECT_EQ(g.guard.Sweep(g.At(10001)), 1u);  // this request's exchange took over 5 s
  EXPECT_EQ(g.guard.counts().request_timeouts, 1u);
  EXPECT_EQ(g.guard.counts().header_timeouts, 0u);
}

TEST(ConnectionGuardTest, AboveTheHighWaterMarkTheLongestWaitingUnansweredOneIsEvicted) {
  Guarded g(3);
  g.guard.Opened(Id(1), 11, g.At(0));
  g.guard.Opened(Id(2), 12, g.At(10));
  g.guard.Opened(Id(3), 13, g.At(20));
  g.guard.HeadIn(Id(1));    // 1 waits for its body: only after every one waiting for a head
  g.guard.HeadIn(Id(3));
  g.guard.Answered(Id(3));  // 3 is being answered: never evicted
  EXPECT_TRUE(g.cut.empty());
  g.guard.Opened(Id(4), 14, g.At(30));  // 4 over 3: the oldest head is 2's
  EXPECT_EQ(g.cut, std::vector<int>{12});
  g.guard.Opened(Id(5), 15, g.At(40));  // then 4 (a head), not 5 (the new one)
  EXPECT_EQ(g.cut, (std::vector<int>{12, 14}));
  g.guard.HeadIn(Id(5));
  g.guard.Opened(Id(6), 16, g.At(50));  // no other head waits: 1's body, the older of 1, 5
  EXPECT_EQ(g.cut, (std::vector<int>{12, 14, 11}));
  EXPECT_EQ(g.guard.counts().evicted, 3u);
  EXPECT_EQ(g.guard.counts().open, 3u);  // 3, 5, 6
  g.guard.Closed(Id(2));  // a cut one closing changes no count
  EXPECT_EQ(g.guard.counts().open, 3u);
  g.guard.Closed(Id(6));
  EXPECT_EQ(g.guard.counts().open, 2u);
}

}  // namespace
}  // namespace ferry::http
