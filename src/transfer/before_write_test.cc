// CopyRequest::before_write: the fence runs once, right before the object becomes visible, on
// every way the engine writes (whole, multipart, server-side whole and in parts); a fence that
// fails leaves nothing visible at the destination and fails the object with its error.
#include <gtest/gtest.h>

#include <atomic>

#include "storage/memory/memory_backend.h"
#include "transfer/engine.h"
#include "transfer/memory_fixture.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Listed;
using testing::Put;
using testing::SmallParts;

constexpr ExecutorOptions kExecutor{.concurrency = 4, .memory_budget = 1 << 20};

struct Way {
  const char* name;
  size_t size;
  bool same_store;  // server-side
  uint64_t server_side_copy_limit;
};

constexpr Way kWays[] = {{"whole", 3000, false, 5ull << 30},
                         {"multipart", 30000, false, 5ull << 30},
                         {"server-side", 3000, true, 5ull << 30},
                         {"server-side parts", 30000, true, 10000}};

// Copies "k" through one engine with `fence`; returns the object's status.
Status CopyFenced(const Way& way, MemoryBackend& src, MemoryBackend& dst,
                  std::function<Status()> fence) {
  TransferOptions o;
  o.part_size = 4096;
  o.multipart_threshold = 20000;
  o.server_side_copy_limit = way.server_side_copy_limit;
  Stats stats;
  Status result = Status::Internal("not done");
  Executor executor(kExecutor);  // a private budget: 4 requests, 1 MiB
  TransferEngine engine(executor, o, src, dst, stats);
  CopyRequest r;
  r.src = Listed(src, "k");
  r.before_write = std::move(fence);
  r.done = [&](const Status& s) { result = s; };
  engine.Copy(std::move(r));
  engine.Wait();
  return result;
}

TEST(BeforeWriteTest, AFailingFenceLeavesNothingVisible) {
  for (const Way& way : kWays) {
    MemoryBackend src(SmallParts(way.same_store ? "same" : "a"));
    MemoryBackend dst(SmallParts(way.same_store ? "same" : "b"));
    Put(src, "k", Bytes(way.size, 1));
    std::atomic<int> calls{0};
    const Status s = CopyFenced(way, src, dst, [&] {
      ++calls;
      return Status::Cancelled("the lease was lost");
    });
    EXPECT_EQ(s.code(), ErrorCode::kCancelled) << way.name << ": " << s.ToString();
    EXPECT_EQ(calls.load(), 1) << way.name;
    EXPECT_FALSE(dst.Contents("k").has_value()) << way.name;
    EXPECT_EQ(dst.open_writers(), 0) << way.name;
  }
}

TEST(BeforeWriteTest, APassingFenceRunsOnceBeforeTheObjectIsVisible) {
  for (const Way& way : kWays) {
    MemoryBackend src(SmallParts(way.same_store ? "same" : "a"));
    MemoryBackend dst(SmallParts(way.same_store ? "same" : "b"));
    const std::string body = Bytes(way.size, 2);
    Put(src, "k", body);
    std::atomic<int> calls{0};
    bool visible_at_fence = true;
    const Status s = CopyFenced(way, src, dst, [&] {
      ++calls;
      visible_at_fence = dst.Contents("k").has_value();
      return Status::Ok();
    });
    ASSERT_TRUE(s.ok()) << way.name << ": " << s.ToString();
    EXPECT_EQ(calls.load(), 1) << way.name;
    EXPECT_FALSE(visible_at_fence) << way.name;
    EXPECT_EQ(dst.Contents("k"), body) << way.name;
  }
}

}  // namespace
}  // namespace ferry::transfer
