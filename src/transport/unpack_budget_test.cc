// The budget of an unpack: UnpackArchive of an archive of many small entries and a few large
// ones, several times the executor's ByteBudget, on an executor of the test's own. Every entry
// reaches the destination intact; the budget's peak stays within its capacity plus the
// overdraws the components document; nothing stays in it after.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "archive/io.h"
#include "archive/stream.h"
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/sizeless_store.h"
#include "testing/test_data.h"
#include "testing/test_executor.h"
#include "transfer/executor.h"
#include "transport/pack.h"
#include "transport/unpack.h"
#include "transport/unpack_testing.h"

namespace ferry::transport {
namespace {

using ferry::testing::Text;
using ferry::testing::Random;

TEST(UnpackBudgetTest, AnUnpackOfManyTimesTheBudgetStaysWithinItsDocumentedOverdraw) {
  constexpr uint64_t kBudget = 4ull << 20;
  constexpr uint64_t kWholeLimit = 1ull << 20;  // UnpackOptions::whole_limit
  constexpr uint64_t kPartSize = 1ull << 20;    // UnpackOptions::part_size
  constexpr int kPartThreads = 2;               // UnpackOptions::part_threads
  constexpr uint64_t kReadSize = 8ull << 20;    // archive::EntryStream's reads (its default)

  // 300 small entries (~4.8 MiB of text) and 3 large ones of 6 MiB (random: stored raw), one
  // in the middle of the small ones: ~23 MiB of entries, an archive of ~19 MiB.
  storage::MemoryBackend src, staging;
  testing::SizelessChunkedStore dst;  // chunked writes that take parts of any size
  std::vector<storage::ObjectInfo> listed;
  auto add = [&](const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(src.Put(key, checksum::AsBytes(body), spec, {}).ok());
    auto info = src.Stat(key, false, {});
    ASSERT_TRUE(info.ok());
    listed.push_back(*info);
  };
  uint64_t total = 0;
  for (int i = 0; i < 300; ++i) {
    if (i == 150) add("m/large-mid", Random((6u << 20) + 5, 1000));
    add("s/" + std::to_string(10000 + i), Text((16u << 10) + static_cast<size_t>(i), i));
  }
  add("z/large-1", Random(6u << 20, 1001));
  add("z/large-2", Random((6u << 20) + 3, 1002));
  for (const auto& o : listed) total += o.size;
  ASSERT_GT(total, 5 * kBudget);
  {
    archive::StringSink sink;
    PackOptions o;
    o.executor = &ferry::testing::TestExecutor();  // not the one measured
    o.writer.threads = 1;
    o.writer.level = 1;
    auto packed = PackObjects(src, listed, sink, o, {});
    ASSERT_TRUE(packed.ok()) << packed.status().message();
    ASSERT_GT(sink.bytes.size(), 2 * kReadSize);  // the unpack reads it in several ranges
    storage::WriteSpec spec;
    spec.size = sink.bytes.size();
    ASSERT_TRUE(staging.Put("a.fza", checksum::AsBytes(sink.bytes), spec, {}).ok());
  }

  transfer::Executor ex(transfer::ExecutorOptions{.concurrency = 4, .memory_budget = kBudget});
  // While a full part of a large entry uploads, its bytes are in the budget (the entry's
  // writes reserved its part buffers, LargeWrite::Held): the least in use seen then.
  std::atomic<uint64_t> least_during_parts{UINT64_MAX};
  dst.part_hook = [&](int part_number) {
    if (part_number <= 6) {  // parts 1-6 of every large entry are full (6 MiB and a few bytes)
      const uint64_t now = ex.budget().in_use();
      uint64_t seen = least_during_parts.load();
      while (now < seen && !least_during_parts.compare_exchange_weak(seen, now)) {
      }
    }
    return Status::Ok();
  };
  test_support::MemoryJournal journal;
  UnpackOptions o;
  o.executor = &ex;
  o.whole_limit = kWholeLimit;
  o.part_size = kPartSize;
  o.part_threads = kPartThreads;
  o.max_bytes = 64ull << 20;  // far above the budget: the budget is what holds the writes
  const auto started = std::chrono::steady_clock::now();
  auto r = UnpackArchive(staging, "a.fza", dst, journal, o, {});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ASSERT_TRUE(r.ok()) << r.status().message();

  // (a) Every entry on the destination, its bytes those of the source.
  EXPECT_EQ(r->written, listed.size());
  EXPECT_EQ(r->bytes_written, total);
  for (const auto& object : listed) {
    const auto got = dst.Contents(object.key);
    ASSERT_TRUE(got.has_value()) << object.key;
    EXPECT_TRUE(*got == *src.Contents(object.key)) << object.key;
  }
  EXPECT_EQ(dst.committed.load(), 3);  // the large entries went through chunked writes
  ASSERT_NE(least_during_parts.load(), UINT64_MAX);  // parts were seen
  EXPECT_GE(least_during_parts.load(), kPartSize);

  // (b) The bound. Every TryAcquire of the budget succeeds only within its capacity, so what
  // they hold together never exceeds kBudget; beyond it only overdraws:
  //  - the entries' writes (unpack_pipeline.h, EntryWriters::WaitRoom) overdraw one entry's
  //    bytes, only when no write of this unpack is under way (so the overdrawn one is the only
  //    one held): a small entry's size (<= whole_limit) or a large entry's part buffers,
  //    LargeWrite::Held = (part_threads + 1) x part_size;
  //  - the archive's read-ahead (unpack_source.h, ReadAheadSource) overdraws one range, its
  //    buffer kept until the unpack ends: at most one EntryStream read, 8 MiB.
  const uint64_t held_large = (kPartThreads + 1) * kPartSize;
  const uint64_t entry_overdraw = std::max(kWholeLimit, held_large);
  //  - the stream that decodes the frames overdraws what it holds itself (its input buffer and
  //    decoder: EntryStream::MemoryFor, at most that of the largest frames there are).
  archive::Manifest largest;
  largest.frames.push_back(archive::FrameInfo{.offset = 0, .stored_size = 1ull << 40,
                                              .raw_size = 1ull << 40, .crc32c = 0, .stored = false});
  const uint64_t bound =
      kBudget + entry_overdraw + kReadSize + archive::EntryStream::MemoryFor(largest);
  const uint64_t peak = ex.budget().peak();
  std::printf("unpack: budget %llu, peak %llu, bound %llu (%.2f s)\n",
              static_cast<unsigned long long>(kBudget), static_cast<unsigned long long>(peak),
              static_cast<unsigned long long>(bound), seconds);
  EXPECT_LE(peak, bound);
  EXPECT_GE(peak, held_large);  // the budget was in use

  // (c) Nothing left in the budget.
  EXPECT_EQ(ex.budget().in_use(), 0u);
}

}  // namespace
}  // namespace ferry::transport
