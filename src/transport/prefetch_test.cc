// Prefetcher (prefetch.h): the small objects of a pack read ahead of the writer as tasks of an
// Executor, handed out in listing order, bounded by a window counted in objects and in bytes
// and by the executor's ByteBudget.
#include "transport/prefetch.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"

namespace ferry::transport {
namespace {

using storage::MemoryBackend;

// A memory store that counts the whole-object reads begun and ended.
class CountingReads : public MemoryBackend {
 public:
  Result<storage::ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                         std::string_view etag, std::stop_token stop) override {
    ++begun;
    auto r = MemoryBackend::ReadObject(key, out, etag, stop);
    ++ended;
    return r;
  }
  // True once `n` reads began and every read begun ended (bounded: false after 10 s).
  bool AwaitReadsEnded(int n) {
    return ferry::testing::WaitFor(
        [&] { return begun.load() >= n && ended.load() == begun.load(); });
  }
  std::atomic<int> begun{0};
  std::atomic<int> ended{0};
};

class PrefetcherTest : public ::testing::Test {
 protected:
  // Writes objects of the given sizes (their bytes depend on the index) and returns them listed.
  std::vector<storage::ObjectInfo> Fill(const std::vector<size_t>& sizes) {
    std::vector<storage::ObjectInfo> listed;
    for (size_t i = 0; i < sizes.size(); ++i) {
      std::string body(sizes[i], '\0');
      std::mt19937 rng(static_cast<unsigned>(i));
      for (char& c : body) c = static_cast<char>('a' + rng() % 26);
      const std::string key = "k/" + std::to_string(100000 + i);
      storage::WriteSpec spec;
      spec.size = body.size();
      EXPECT_TRUE(src_.Put(key, checksum::AsBytes(body), spec, {}).ok());
      auto info = src_.Stat(key, false, {});
      EXPECT_TRUE(info.ok());
      listed.push_back(*info);
      bodies_.push_back(std::move(body));
    }
    return listed;
  }

  // Runs `f` on another thread; fails the test (instead of hanging) if it takes over 10 s.
  template <typename F>
  void WithinTenSeconds(F f) {
    auto done = std::async(std::launch::async, f);
    ASSERT_EQ(done.wait_for(std::chrono::seconds(10)), std::future_status::ready)
        << "the prefetcher stalled";
    done.get();
  }

  static transfer::Executor& Exec() { return ferry::testing::TestExecutor(); }

  CountingReads src_;
  std::vector<std::string> bodies_;
};

TEST_F(PrefetcherTest, HandsOutEverySmallObjectInOrderWithItsBytes) {
  std::vector<size_t> sizes;
  for (size_t i = 0; i < 600; ++i) sizes.push_back(i % 50 == 7 ? 5000 : (i * 37) % 3000);
  const auto listed = Fill(sizes);
  WithinTenSeconds([&] {
    Prefetcher ahead(src_, listed, Exec(),
                     {.small_limit = 4096, .reads = 4, .window = 16, .window_bytes = 20000}, {});
    for (size_t i = 0; i < listed.size(); ++i) {
      if (listed[i].size > 4096) continue;  // large ones are the caller's
      ReadObject r = ahead.Take(i);
      ASSERT_TRUE(r.status.ok()) << r.status.message();
      EXPECT_EQ(r.bytes, bodies_[i]) << i;
      EXPECT_EQ(r.object.key, listed[i].key);
      ahead.GiveBack(std::move(r.bytes));  // reused by later reads: their bytes still checked
    }
  });
  // Every small object was read once; no large one.
  EXPECT_EQ(src_.begun.load(), 600 - 12);
}

TEST_F(PrefetcherTest, TheByteWindowBoundsWhatIsReadAheadOfTheWriter) {
  const auto listed = Fill(std::vector<size_t>(100, 1000));
  Prefetcher ahead(src_, listed, Exec(),
                   {.small_limit = 4096, .reads = 4, .window = 1000, .window_bytes = 10 * 1000},
                   {});
  // Nothing taken yet: ten objects' worth of bytes may be read ahead, no more (with only the
  // count of 1000 as a bound, all 100 would be).
  EXPECT_TRUE(src_.AwaitReadsEnded(10));
  // real time: that no read starts past the bound shows only as time going by without one;
  // the reads the bound allows have begun and ended (waited for above), so one past it would
  // begin at once, within this.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(src_.begun.load(), 10);
  WithinTenSeconds([&] {
    for (size_t i = 0; i < listed.size(); ++i) EXPECT_EQ(ahead.Take(i).bytes, bodies_[i]);
  });
  EXPECT_EQ(src_.begun.load(), 100);
}

TEST_F(PrefetcherTest, TheCountWindowBoundsWhatIsReadAheadOfTheWriter) {
  const auto listed = Fill(std::vector<size_t>(100, 10));
  Prefetcher ahead(src_, listed, Exec(),
                   {.small_limit = 4096, .reads = 4, .window = 8, .window_bytes = 1 << 20}, {});
  EXPECT_TRUE(src_.AwaitReadsEnded(8));
  // real time: that no read starts past the bound shows only as time going by without one;
  // the reads the bound allows have begun and ended (waited for above), so one past it would
  // begin at once, within this.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(src_.begun.load(), 8);
  WithinTenSeconds([&] {
    for (size_t i = 0; i < listed.size(); ++i) EXPECT_EQ(ahead.Take(i).bytes, bodies_[i]);
  });
}

TEST_F(PrefetcherTest, AnObjectLargerThanTheByteWindowIsStillRead) {
  const auto listed = Fill({100, 3000, 100, 3000, 3000, 100});
  WithinTenSeconds([&] {
    Prefetcher ahead(src_, listed, Exec(),
                     {.small_limit = 4096, .reads = 2, .window = 8, .window_bytes = 1000}, {});
    for (size_t i = 0; i < listed.size(); ++i) EXPECT_EQ(ahead.Take(i).bytes, bodies_[i]) << i;
  });
}

TEST_F(PrefetcherTest, SmallObjectsTheWriterSkipsLeaveTheWindow) {
  // The writer takes only every third object (as a pack that stops taking a key it no longer
  // wants): what it skipped must not keep holding the window, or the reads stall.
  const auto listed = Fill(std::vector<size_t>(90, 500));
  WithinTenSeconds([&] {
    Prefetcher ahead(src_, listed, Exec(),
                     {.small_limit = 4096, .reads = 3, .window = 4, .window_bytes = 2000}, {});
    for (size_t i = 0; i < listed.size(); i += 3) EXPECT_EQ(ahead.Take(i).bytes, bodies_[i]);
  });
}

// The bytes read ahead are the executor's: its ByteBudget bounds them below the window (here
// five objects' worth of a window of a thousand), they are given back as the writer takes the
// objects, and what was never taken is given back when the prefetcher goes.
TEST_F(PrefetcherTest, ReadsAheadAreHeldInTheExecutorsBudget) {
  const auto listed = Fill(std::vector<size_t>(60, 1000));
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 4, .memory_budget = 5000});
  {
    Prefetcher ahead(src_, listed, executor,
                     {.small_limit = 4096, .reads = 4, .window = 1000, .window_bytes = 1 << 20},
                     {});
    EXPECT_TRUE(src_.AwaitReadsEnded(5));
    // real time: that no read starts past the bound shows only as time going by without one;
    // the reads the bound allows have begun and ended (waited for above), so one past it would
    // begin at once, within this.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_EQ(src_.begun.load(), 5);
    EXPECT_EQ(executor.budget().in_use(), 5000u);
    WithinTenSeconds([&] {
      for (size_t i = 0; i < 40; ++i) EXPECT_EQ(ahead.Take(i).bytes, bodies_[i]) << i;
    });
    EXPECT_LE(executor.budget().peak(), 5000u);
  }
  EXPECT_EQ(executor.budget().in_use(), 0u);
}

// Reads never wait on a worker of the executor: with one worker, two prefetchers whose reads
// the budget holds back (each could fill it) both finish: a writer whose next object nothing
// reads overdraws the budget by that object rather than wait for bytes the other holds.
TEST_F(PrefetcherTest, PrefetchersSharingOneWorkerAndATightBudgetBothFinish) {
  const auto listed = Fill(std::vector<size_t>(50, 1000));
  transfer::Executor executor(transfer::ExecutorOptions{.concurrency = 1, .memory_budget = 3000});
  WithinTenSeconds([&] {
    Prefetcher a(src_, listed, executor, {.small_limit = 4096, .reads = 8, .window = 64}, {});
    Prefetcher b(src_, listed, executor, {.small_limit = 4096, .reads = 8, .window = 64}, {});
    // b first, to its end, while a's reads (started at once) hold part of the budget.
    for (size_t i = 0; i < listed.size(); ++i) EXPECT_EQ(b.Take(i).bytes, bodies_[i]) << i;
    for (size_t i = 0; i < listed.size(); ++i) EXPECT_EQ(a.Take(i).bytes, bodies_[i]) << i;
  });
  EXPECT_EQ(executor.budget().in_use(), 0u);
}

// The listing's millisecond mtime is what a plain copy keeps: the read keeps it when the GET
// read the object listed (same ETag), even when the two dates fall in different seconds; an
// object replaced since the listing keeps the GET's.
TEST_F(PrefetcherTest, TheListedTimeIsKeptForTheObjectListed) {
  auto listed = Fill({100, 100});
  const auto read_time = listed[0].mtime;
  for (auto& o : listed) o.mtime = read_time - std::chrono::milliseconds(1500);
  listed[1].etag = "\"another-version\"";
  WithinTenSeconds([&] {
    Prefetcher ahead(src_, listed, Exec(), {.small_limit = 4096, .reads = 2, .window = 8}, {});
    EXPECT_EQ(ahead.Take(0).object.mtime, listed[0].mtime);
    EXPECT_NE(ahead.Take(1).object.mtime, listed[1].mtime);
  });
}

TEST_F(PrefetcherTest, ACancelledWriterIsNotLeftWaiting) {
  // A store whose reads never finish until cancelled: Take returns kCancelled once the
  // caller's stop is requested.
  class Stuck : public MemoryBackend {
   public:
    Result<storage::ObjectInfo> ReadObject(std::string_view, std::span<std::byte>,
                                           std::string_view, std::stop_token stop) override {
      ++begun;
      std::mutex mu;
      std::condition_variable_any woken_by_the_stop;
      std::unique_lock lock(mu);
      woken_by_the_stop.wait(lock, stop, [] { return false; });
      return Status::Cancelled("stopped");
    }
    std::atomic<int> begun{0};
  } stuck;
  storage::ObjectInfo o;
  o.key = "k";
  o.size = 10;
  std::vector<storage::ObjectInfo> listed(3, o);
  std::stop_source stop;
  WithinTenSeconds([&] {
    Prefetcher ahead(stuck, listed, Exec(), {.small_limit = 4096, .reads = 2, .window = 8},
                     stop.get_token());
    std::thread canceller([&] {
      ferry::testing::WaitFor([&] { return stuck.begun.load() > 0; });  // a read is stuck
      stop.request_stop();
    });
    ReadObject r = ahead.Take(0);
    canceller.join();
    EXPECT_EQ(r.status.code(), ErrorCode::kCancelled);
  });
}

// A store whose first `flips` whole reads come back with one byte flipped (the reply itself
// fine: corrupted on the way), another bit each time unless `same_bit` (two reads corrupted
// alike are the object's own bytes: ReadObject::refused_alike).
class FlippingReads : public MemoryBackend {
 public:
  Result<storage::ObjectInfo> ReadObject(std::string_view key, std::span<std::byte> out,
                                         std::string_view etag, std::stop_token stop) override {
    auto r = MemoryBackend::ReadObject(key, out, etag, stop);
    if (r.ok() && !out.empty() && flips.fetch_sub(1) > 0) {
      const unsigned bit = same_bit ? 5 : flipped++ % 8;
      out[0] ^= std::byte{static_cast<unsigned char>(1u << bit)};
    }
    return r;
  }
  std::atomic<int> flips{0};
  std::atomic<unsigned> flipped{0};
  bool same_bit = false;
};

// A read whose bytes do not make the object's MD5 ETag is read again, never handed to the
// pack: before, a backup archived the flipped byte with a CRC32C of its own, and a restore
// wrote it back with exit 0. Corrupted every time: a clear failure, nothing packed.
TEST(ReadWholeTest, BytesCorruptedOnTheWayAreReadAgainNotPacked) {
  FlippingReads src;
  const std::string body(3000, 'b');
  storage::WriteSpec spec;
  spec.size = body.size();
  ASSERT_TRUE(src.Put("obj", checksum::AsBytes(body), spec, {}).ok());
  const storage::ObjectInfo listed = *src.Stat("obj", false, {});
  src.flips = 2;
  ReadObject r = ReadWhole(src, listed, {});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.bytes, body);
  src.flips = 3;
  ReadObject bad = ReadWhole(src, listed, {});
  EXPECT_EQ(bad.status.code(), ErrorCode::kDataLoss) << bad.status.ToString();
  EXPECT_FALSE(bad.refused_alike);  // three different corruptions: on the way
  // The same bytes refused twice are the object's own: no third read, and the pack's caller
  // is told (PackOptions::refused).
  src.same_bit = true;
  src.flips = 3;
  const int reads = src.counts().reads;
  ReadObject own = ReadWhole(src, listed, {});
  EXPECT_EQ(own.status.code(), ErrorCode::kDataLoss) << own.status.ToString();
  EXPECT_TRUE(own.refused_alike);
  EXPECT_NE(own.status.message().find(kReadTwiceAlike), std::string::npos);
  EXPECT_EQ(src.counts().reads - reads, 2);
}

}  // namespace
}  // namespace ferry::transport
