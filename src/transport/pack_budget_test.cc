// The budget of a pack: PackObjects of many small objects and a few large ones, several times
// the executor's ByteBudget, into an archive written through an archive::BackendSink, on an
// executor of the test's own. The archive holds every object's bytes; the budget's peak stays
// within its capacity plus the overdraws the components document; nothing stays in it after.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "archive/backend_io.h"
#include "archive/io.h"
#include "archive/reader.h"
#include "archive/stream.h"
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/sizeless_store.h"
#include "testing/test_data.h"
#include "transfer/executor.h"
#include "transport/pack.h"

namespace ferry::transport {
namespace {

using ferry::testing::Text;

TEST(PackBudgetTest, APackOfManyTimesTheBudgetStaysWithinItsDocumentedOverdraw) {
  constexpr uint64_t kBudget = 4ull << 20;
  constexpr uint64_t kPartSize = 1ull << 20;  // the sink's parts
  constexpr int kPartsInFlight = 2;           // BackendSink::Options' default
  constexpr uint64_t kSmallLimit = 256ull << 10;  // PackOptions::whole_read_limit
  constexpr uint64_t kRangeSize = 512ull << 10;  // PackOptions::range_size
  constexpr uint64_t kUploadAhead = 1ull << 20;  // PackOptions::upload_ahead

  storage::MemoryBackend src;
  std::vector<storage::ObjectInfo> listed;
  std::vector<std::string> bodies;
  auto add = [&](const std::string& key, std::string body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(src.Put(key, checksum::AsBytes(body), spec, {}).ok());
    auto info = src.Stat(key, false, {});
    ASSERT_TRUE(info.ok());
    listed.push_back(*info);
    bodies.push_back(std::move(body));
  };
  // 400 small objects (~6.3 MiB, read whole ahead of the writer) and 3 large ones of 6 MiB
  // (read in ranges), one of them in the middle of the small ones: ~24 MiB, six budgets.
  uint64_t total = 0;
  for (int i = 0; i < 400; ++i) {
    if (i == 200) add("m/large-mid", Text((6u << 20) + 7, 1000));
    add("s/" + std::to_string(10000 + i), Text((16u << 10) + static_cast<size_t>(i), i));
  }
  add("z/large-1", Text(6u << 20, 1001));
  add("z/large-2", Text((6u << 20) + 3, 1002));
  for (const auto& b : bodies) total += b.size();
  ASSERT_GT(total, 5 * kBudget);

  testing::SizelessChunkedStore staging;
  transfer::Executor ex(transfer::ExecutorOptions{.concurrency = 4, .memory_budget = kBudget});
  const auto started = std::chrono::steady_clock::now();
  {
    auto sink = archive::BackendSink::Open(staging, "a.fza", kPartSize, ex, {},
                                           {.parts_in_flight = kPartsInFlight});
    ASSERT_TRUE(sink.ok()) << sink.status().message();
    PackOptions o;
    o.executor = &ex;
    o.writer.threads = 2;
    o.writer.level = 1;
    o.whole_read_limit = kSmallLimit;
    o.reads = 8;
    // The window's own bounds are far above the budget: the budget is what holds the reads.
    o.read_window = 1024;
    o.read_window_bytes = 64ull << 20;
    o.range_size = kRangeSize;
    o.upload_ahead = kUploadAhead;
    o.range_reads = 4;
    o.range_window = 4;
    auto packed = PackObjects(src, listed, **sink, o, {});
    ASSERT_TRUE(packed.ok()) << packed.status().message();
    EXPECT_EQ(packed->summary.entries, listed.size());
    EXPECT_EQ(packed->summary.raw_bytes, total);
    ASSERT_TRUE((*sink)->Close().ok());
    EXPECT_TRUE((*sink)->wrote_in_parts());
  }  // the sink gives its part buffers back to the budget when destroyed
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  // (a) Every object's bytes are in the archive, in order.
  const std::optional<std::string> archive_bytes = staging.Contents("a.fza");
  ASSERT_TRUE(archive_bytes.has_value());
  archive::StringRangeSource source(*archive_bytes);
  auto reader = archive::Reader::Open(source);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_EQ((*reader)->entries().size(), listed.size());
  archive::EntryStream stream((*reader)->manifest(), source);  // each frame decoded once
  for (size_t i = 0; i < listed.size(); ++i) {
    const archive::Entry& e = (*reader)->entries()[i];
    EXPECT_EQ(e.header.key, listed[i].key);
    archive::StringSink out;
    ASSERT_TRUE(stream.Read(i, out).ok()) << e.header.key;
    EXPECT_TRUE(out.bytes == bodies[i]) << e.header.key;
  }

  // (b) The bound. Every TryAcquire and Acquire of the budget succeeds only within its
  // capacity, so what they hold together never exceeds kBudget; beyond it only overdraws:
  //  - the BackendSink overdraws its (parts_in_flight + 1) part buffers, held until it is
  //    destroyed (archive/backend_io.h): 3 x 1 MiB;
  //  - the pack's reads ahead (read_ahead.h, prefetch.h) overdraw one item per consumer, only
  //    when nothing of theirs is under way: the writer is the one consumer and waits on one
  //    reader at a time (the small objects' Prefetcher, or one large object's RangeAhead, the
  //    overdrawn item given back before the next is waited for), so one item at most: a small
  //    object (<= whole_read_limit) or a range (<= range_size), whichever is larger.
  //  - the archive's bytes made but not yet taken by the sink (the pack's UploadPipe), at most
  //    upload_ahead.
  const uint64_t sink_overdraw = (kPartsInFlight + 1) * kPartSize;
  const uint64_t read_overdraw = std::max(kSmallLimit, kRangeSize);
  const uint64_t bound = kBudget + sink_overdraw + read_overdraw + kUploadAhead;
  const uint64_t peak = ex.budget().peak();
  std::printf("pack: budget %llu, peak %llu, bound %llu (%.2f s)\n",
              static_cast<unsigned long long>(kBudget), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(bound), seconds);
  EXPECT_LE(peak, bound);
  // The budget was in use: at least the sink's parts and some reads were counted.
  EXPECT_GE(peak, sink_overdraw);

  // (c) Nothing left in the budget.
  EXPECT_EQ(ex.budget().in_use(), 0u);
}

}  // namespace
}  // namespace ferry::transport
