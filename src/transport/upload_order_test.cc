// UploadOrder (upload_order.h): a pack waits for its turn only while an earlier one has bytes
// ready; an earlier pack with nothing ready, one that left, or giving up lets it go.
#include "transport/upload_order.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <vector>

namespace ferry::transport {
namespace {

using std::chrono::milliseconds;

bool Returned(std::future<void>& f, milliseconds within) {
  return f.wait_for(within) == std::future_status::ready;
}

const auto kNever = [] { return false; };

TEST(UploadOrderTest, ALaterPackWaitsOnlyWhileAnEarlierOneHasBytesReady) {
  UploadOrder order;
  const uint64_t first = order.Join();
  const uint64_t second = order.Join();
  const uint64_t third = order.Join();
  EXPECT_LT(first, second);
  order.WaitTurn(third, kNever);  // nothing ready before it: at once
  order.SetReady(first, true);
  order.SetReady(second, true);
  order.WaitTurn(first, kNever);  // later packs' bytes never hold an earlier one
  auto waiting = std::async(std::launch::async, [&] { order.WaitTurn(second, kNever); });
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  // The first waits for its reads (nothing to send): the link is the second's meanwhile.
  order.SetReady(first, false);
  EXPECT_TRUE(Returned(waiting, milliseconds(5000)));
  // The third waits for the second (ready) and goes once it left.
  auto third_waits = std::async(std::launch::async, [&] { order.WaitTurn(third, kNever); });
  EXPECT_FALSE(Returned(third_waits, milliseconds(100)));
  order.Leave(second);
  EXPECT_TRUE(Returned(third_waits, milliseconds(5000)));
}

// Parts an earlier pack's sink has under way hold a later pack as its queued bytes do, even
// with its queue empty; ready or sending, either one holds it.
TEST(UploadOrderTest, AnEarlierPacksPartsUnderWayHoldALaterOne) {
  UploadOrder order;
  const uint64_t first = order.Join();
  const uint64_t second = order.Join();
  order.SetSending(first, true);
  auto waiting = std::async(std::launch::async, [&] { order.WaitTurn(second, kNever); });
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  order.SetReady(first, true);
  order.SetSending(first, false);  // still ready: still held
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  order.SetSending(first, true);
  order.SetReady(first, false);  // still sending: still held
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  order.SetSending(first, false);
  EXPECT_TRUE(Returned(waiting, milliseconds(5000)));
}

TEST(UploadOrderTest, ALowerRankGoesFirstWhateverWhenItJoined) {
  UploadOrder order;
  const uint64_t job9 = order.Join(9);
  const uint64_t job3 = order.Join(3);  // joined later, an earlier batch of the listing
  order.SetReady(job3, true);
  order.SetReady(job9, true);
  order.WaitTurn(job3, kNever);
  auto waiting = std::async(std::launch::async, [&] { order.WaitTurn(job9, kNever); });
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  order.Leave(job3);
  EXPECT_TRUE(Returned(waiting, milliseconds(5000)));
}

TEST(UploadOrderTest, GivingUpEndsTheWait) {
  UploadOrder order;
  const uint64_t first = order.Join();
  const uint64_t second = order.Join();
  order.SetReady(first, true);
  std::atomic<bool> give_up = false;
  auto waiting = std::async(std::launch::async,
                            [&] { order.WaitTurn(second, [&] { return give_up.load(); }); });
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  give_up = true;
  order.Wake();
  EXPECT_TRUE(Returned(waiting, milliseconds(5000)));
}

TEST(UploadOrderTest, PacksBehindTheFirstStillReadingShareAFewReads) {
  UploadOrder order;
  const uint64_t first = order.Join(1);
  const uint64_t second = order.Join(2);
  const uint64_t third = order.Join(3);
  bool follower = true;
  // The first reads freely, as many reads at once as it likes.
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(order.BeginRead(first, kNever, follower));
    EXPECT_FALSE(follower);
  }
  // The packs behind it share kFollowerReads reads at a time.
  for (int i = 0; i < UploadOrder::kFollowerReads; ++i) {
    ASSERT_TRUE(order.BeginRead(i % 2 == 0 ? second : third, kNever, follower));
    EXPECT_TRUE(follower);
  }
  auto waiting = std::async(std::launch::async, [&] {
    bool f = false;
    EXPECT_TRUE(order.BeginRead(third, kNever, f));
    EXPECT_TRUE(f);
    order.EndRead(f);
  });
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  order.EndRead(true);  // one follower read ended: the waiting one starts
  EXPECT_TRUE(Returned(waiting, milliseconds(5000)));
  // Once the first has read everything, the second reads freely; the third still follows it.
  order.DoneReading(first);
  ASSERT_TRUE(order.BeginRead(second, kNever, follower));
  EXPECT_FALSE(follower);
  order.Leave(second);  // a pack that left (done or given up) holds nobody back
  ASSERT_TRUE(order.BeginRead(third, kNever, follower));
  EXPECT_FALSE(follower);
}

TEST(UploadOrderTest, GivingUpEndsTheWaitForARead) {
  UploadOrder order;
  const uint64_t first = order.Join();
  const uint64_t second = order.Join();
  (void)first;
  bool f = false;
  for (int i = 0; i < UploadOrder::kFollowerReads; ++i) ASSERT_TRUE(order.BeginRead(second, kNever, f));
  std::atomic<bool> give_up = false;
  auto waiting = std::async(std::launch::async, [&] {
    bool follower = false;
    EXPECT_FALSE(order.BeginRead(second, [&] { return give_up.load(); }, follower));
  });
  EXPECT_FALSE(Returned(waiting, milliseconds(100)));
  give_up = true;
  order.Wake();
  EXPECT_TRUE(Returned(waiting, milliseconds(5000)));
}

}  // namespace
}  // namespace ferry::transport
