// The Backend byte seams: pack objects of a MemoryBackend (with their metadata) read in ranged
// reads, read the archive back with ranged reads of the object holding it.
#include "archive/backend_io.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "archive/reader.h"
#include "archive/writer.h"
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/sizeless_store.h"
#include "testing/test_executor.h"
#include "testing/wait_for.h"

namespace ferry::archive {
namespace {

using storage::MemoryBackend;

std::string Random(size_t n) {
  std::mt19937 rng(5);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(BackendIoTest, PacksObjectsIntoAnObjectAndReadsOneBackByRange) {
  MemoryBackend src;
  storage::WriteSpec spec;
  spec.content.content_type = "text/plain";
  spec.metadata = {{"owner", "ops"}};
  spec.tags = storage::Tags{{"k", "v"}};
  spec.storage_class = "STANDARD_IA";
  const std::string small = "small object\n";
  const std::string big = Random(3 << 20);  // stored raw, in its own frame
  spec.size = small.size();
  ASSERT_TRUE(src.Put("a/small.txt", checksum::AsBytes(small), spec, {}).ok());
  spec.size = big.size();
  ASSERT_TRUE(src.Put("b/big.bin", checksum::AsBytes(big), spec, {}).ok());

  // The archive is made in memory and stored as an object (BackendSink needs a store whose
  // chunked writes take no size up front: S3, tested by tests/cli/archive_test.sh).
  MemoryBackend dst;
  {
    StringSink sink;
    auto w = Writer::Open(sink, WriterOptions{});
    ASSERT_TRUE(w.ok());
    for (const char* key : {"a/small.txt", "b/big.bin"}) {
      auto info = src.Stat(key, true, {});
      ASSERT_TRUE(info.ok());
      EntryHeader h;
      h.key = info->key;
      h.size = info->size;
      h.content = info->content;
      h.metadata = info->metadata;
      h.tags = info->tags;
      h.storage_class = info->storage_class;
      BackendChunkSource body(src, *info, {});
      Status s = (*w)->Add(h, body);
      ASSERT_TRUE(s.ok()) << s.message();
    }
    ASSERT_TRUE((*w)->Finish().ok());
    storage::WriteSpec archive_spec;
    archive_spec.size = sink.bytes.size();
    ASSERT_TRUE(dst.Put("x.fza", checksum::AsBytes(sink.bytes), archive_spec, {}).ok());
  }
  auto archive = dst.Stat("x.fza", false, {});
  ASSERT_TRUE(archive.ok());
  BackendRangeSource range(dst, "x.fza", archive->size, {});
  auto r = Reader::Open(range);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const Entry* e = (*r)->Find("a/small.txt");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->header.metadata.at("owner"), "ops");
  EXPECT_EQ(e->header.content.content_type, "text/plain");
  EXPECT_EQ(e->header.tags, (storage::Tags{{"k", "v"}}));
  EXPECT_EQ(e->header.storage_class, "STANDARD_IA");
  StringSink out;
  ASSERT_TRUE((*r)->ReadEntry(*e, out).ok());
  EXPECT_EQ(out.bytes, small);
  StringSink big_out;
  ASSERT_TRUE((*r)->ReadEntry(*(*r)->Find("b/big.bin"), big_out).ok());
  EXPECT_EQ(big_out.bytes, big);
}

TEST(BackendIoTest, AnObjectChangedSinceListedFailsItsEntry) {
  MemoryBackend src;
  storage::WriteSpec spec;
  spec.size = 3;
  ASSERT_TRUE(src.Put("k", checksum::AsBytes("old"), spec, {}).ok());
  auto info = src.Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(src.Put("k", checksum::AsBytes("new"), spec, {}).ok());
  StringSink sink;
  auto w = Writer::Open(sink, WriterOptions{});
  BackendChunkSource body(src, *info, {});
  EntryHeader h;
  h.key = "k";
  h.size = 3;
  EXPECT_EQ((*w)->Add(h, body).code(), ErrorCode::kFailedPrecondition);
}

// One part-size rule for every archive ferry writes: S3's least part while 9,000 of them hold
// the archive, larger ones beyond; an archive of unknown size gets parts for 156 GiB.
TEST(BackendIoTest, ArchivePartSizeIsOneRule) {
  constexpr uint64_t kMiB = 1ull << 20;
  EXPECT_EQ(ArchivePartSize(1), 5 * kMiB);
  EXPECT_EQ(ArchivePartSize(64 * kMiB), 5 * kMiB);
  EXPECT_EQ(ArchivePartSize(9000 * 5 * kMiB), 5 * kMiB);
  EXPECT_EQ(ArchivePartSize(9000 * 5 * kMiB + 1), 6 * kMiB);
  EXPECT_EQ(ArchivePartSize(0), 16 * kMiB);
  for (uint64_t bytes : {1ull << 30, 100ull << 30, 5ull << 40}) {
    const uint64_t part = ArchivePartSize(bytes);
    EXPECT_LE((bytes + part - 1) / part, 9000u) << bytes;
    EXPECT_EQ(part % kMiB, 0u);
  }
}

TEST(BackendIoTest, SinkDroppedWithoutCloseLeavesNoObject) {
  MemoryBackend dst;
  {
    auto sink = BackendSink::Open(dst, "x.fza", 5 << 20, ferry::testing::TestExecutor(), {});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(checksum::AsBytes("partial")).ok());
  }
  EXPECT_EQ(dst.Stat("x.fza", false, {}).status().code(), ErrorCode::kNotFound);
}

TEST(BackendIoTest, FlushLastWritesEveryByteAndCloseOnlyCompletes) {
  ferry::testing::SizelessChunkedStore dst;  // chunked writes of unknown size, as S3's
  auto sink = BackendSink::Open(dst, "x.fza", 5 << 20, ferry::testing::TestExecutor(), {});
  ASSERT_TRUE(sink.ok());
  const std::string body = "not a whole part";
  ASSERT_TRUE((*sink)->Write(checksum::AsBytes(body)).ok());
  EXPECT_EQ(dst.received.load(), 0u);  // less than a part: held
  ASSERT_TRUE((*sink)->FlushLast().ok());
  // Every byte went out as a part; the object is not completed until Close.
  EXPECT_EQ(dst.received.load(), body.size());
  EXPECT_EQ(dst.committed.load(), 0);
  EXPECT_EQ(dst.Stat("x.fza", false, {}).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(dst.received.load(), body.size()) << "Close sent bytes again";
  EXPECT_EQ(dst.committed.load(), 1);
  EXPECT_EQ(dst.Contents("x.fza"), body);
}

// Holds the parts a store receives until Release: counts those waiting inside.
class PartGate {
 public:
  Status Hold() {
    std::unique_lock lock(mu_);
    ++inside_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    --inside_;
    return Status::Ok();
  }
  bool WaitInside(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return inside_ == n; });
  }
  void Release() {
    {
      std::lock_guard lock(mu_);
      open_ = true;
    }
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int inside_ = 0;
  bool open_ = false;
};

// Two parts upload at once while the next one fills; a third full part waits for the oldest.
TEST(BackendIoTest, TwoPartsUploadAtOnceAndAThirdWaitsForTheOldest) {
  ferry::testing::SizelessChunkedStore dst;
  PartGate gate;
  dst.part_hook = [&](int) { return gate.Hold(); };
  constexpr size_t kPart = 1024;
  auto sink = BackendSink::Open(dst, "x.fza", kPart, ferry::testing::TestExecutor(), {});
  ASSERT_TRUE(sink.ok());
  const std::string body = Random(3 * kPart + 100);
  const auto bytes = checksum::AsBytes(body);
  std::atomic<bool> two_written{false};
  std::thread two([&] {
    EXPECT_TRUE((*sink)->Write(bytes.first(2 * kPart)).ok());  // returns with both under way
    two_written = true;
  });
  const bool both_under_way = gate.WaitInside(2);
  ferry::testing::WaitFor([&] { return two_written.load(); });
  const bool returned = two_written.load();
  if (!both_under_way || !returned) gate.Release();
  two.join();
  ASSERT_TRUE(both_under_way) << "the second part did not start while the first was under way";
  ASSERT_TRUE(returned);
  std::atomic<bool> third_written{false};
  std::thread third([&] {
    EXPECT_TRUE((*sink)->Write(bytes.subspan(2 * kPart)).ok());
    third_written = true;
  });
  // real time: that the third write waits shows only as time going by without its return (it
  // would return at once, within this).
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(third_written.load()) << "a third part started with two under way";
  gate.Release();
  third.join();
  ASSERT_TRUE((*sink)->Close().ok());
  EXPECT_EQ(dst.Contents("x.fza"), body);
  EXPECT_EQ(dst.received.load(), body.size());
}

// A part that fails fails the archive: FlushLast returns its error and nothing is completed.
TEST(BackendIoTest, AFailedPartUnderWayFailsTheArchive) {
  ferry::testing::SizelessChunkedStore dst;
  dst.part_hook = [](int part) {
    return part == 1 ? Status::Unavailable("part 1 lost") : Status::Ok();
  };
  {
    auto sink = BackendSink::Open(dst, "x.fza", 1024, ferry::testing::TestExecutor(), {});
    ASSERT_TRUE(sink.ok());
    const std::string body = Random(2 * 1024 + 7);
    (void)(*sink)->Write(checksum::AsBytes(body));  // may or may not have seen the failure yet
    const Status s = (*sink)->FlushLast();
    EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s.ToString();
  }
  EXPECT_EQ(dst.committed.load(), 0);
  EXPECT_EQ(dst.Stat("x.fza", false, {}).status().code(), ErrorCode::kNotFound);
}

// An archive expected to fit one part is written in one PUT at SendLast: no chunked write is
// opened, and the object is complete at once. One that turns out larger goes by parts.
TEST(BackendIoTest, AnArchiveOfOnePartIsOnePut) {
  ferry::testing::SizelessChunkedStore dst;
  const std::string small = Random(700);
  {
    auto sink = BackendSink::Open(dst, "small.fza", 1024, ferry::testing::TestExecutor(), {}, {.likely_one_part = true});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(checksum::AsBytes(small)).ok());
    ASSERT_TRUE((*sink)->SendLast().ok());
    EXPECT_EQ(dst.Contents("small.fza"), small);  // complete at SendLast
    ASSERT_TRUE((*sink)->Close().ok());
  }
  EXPECT_EQ(dst.opened.load(), 0);
  EXPECT_EQ(dst.Contents("small.fza"), small);
  const std::string large = Random(2500);
  {
    auto sink = BackendSink::Open(dst, "large.fza", 1024, ferry::testing::TestExecutor(), {}, {.likely_one_part = true});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(checksum::AsBytes(large)).ok());
    ASSERT_TRUE((*sink)->Close().ok());
  }
  EXPECT_EQ(dst.opened.load(), 1);
  EXPECT_EQ(dst.committed.load(), 1);
  EXPECT_EQ(dst.Contents("large.fza"), large);
}

// SendLast starts the last part and returns while it is under way; Close waits for it.
TEST(BackendIoTest, SendLastReturnsWithTheLastPartUnderWayAndCloseWaitsForIt) {
  ferry::testing::SizelessChunkedStore dst;
  PartGate gate;
  dst.part_hook = [&](int) { return gate.Hold(); };
  auto sink = BackendSink::Open(dst, "x.fza", 1024, ferry::testing::TestExecutor(), {});
  ASSERT_TRUE(sink.ok());
  const std::string body = Random(1500);
  ASSERT_TRUE((*sink)->Write(checksum::AsBytes(body)).ok());
  std::atomic<bool> sent{false};
  std::thread send([&] {
    EXPECT_TRUE((*sink)->SendLast().ok());
    sent = true;
  });
  ferry::testing::WaitFor([&] { return sent.load(); });
  const bool returned_under_way = sent.load();
  if (!returned_under_way) gate.Release();
  send.join();
  EXPECT_TRUE(returned_under_way) << "SendLast waited for the parts under way";
  EXPECT_EQ(dst.received.load(), 0u);
  std::atomic<bool> closed{false};
  std::thread close([&] {
    EXPECT_TRUE((*sink)->Close().ok());
    closed = true;
  });
  // real time: that Close waits shows only as time going by without its return.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_FALSE(closed.load()) << "Close returned before the parts under way were written";
  gate.Release();
  close.join();
  EXPECT_EQ(dst.Contents("x.fza"), body);
}

// on_sending: true when a part starts with none under way, false once none is.
TEST(BackendIoTest, OnSendingSaysWhilePartsAreUnderWay) {
  ferry::testing::SizelessChunkedStore dst;
  PartGate gate;
  dst.part_hook = [&](int) { return gate.Hold(); };
  std::mutex mu;
  std::vector<bool> calls;
  auto sink = BackendSink::Open(dst, "x.fza", 1024, ferry::testing::TestExecutor(), {},
                                {.on_sending = [&](bool sending) {
                                  std::lock_guard lock(mu);
                                  calls.push_back(sending);
                                }});
  ASSERT_TRUE(sink.ok());
  const std::string body = Random(2 * 1024 + 10);
  ASSERT_TRUE((*sink)->Write(checksum::AsBytes(body)).ok());  // two parts under way
  {
    std::lock_guard lock(mu);
    EXPECT_EQ(calls, std::vector<bool>{true});
  }
  gate.Release();
  ASSERT_TRUE((*sink)->Close().ok());
  std::lock_guard lock(mu);
  // The first two parts may end before the last one starts (sending again) or not.
  ASSERT_FALSE(calls.empty());
  EXPECT_TRUE(calls.front());
  EXPECT_FALSE(calls.back());
  for (size_t i = 1; i < calls.size(); ++i) EXPECT_NE(calls[i], calls[i - 1]);
  EXPECT_EQ(dst.Contents("x.fza"), body);
}

// The chunked write opens beside the first part's packing; its failure fails the archive.
TEST(BackendIoTest, AFailedOpenFailsTheArchive) {
  ferry::testing::SizelessChunkedStore dst;
  dst.open_failure = Status::PermissionDenied("no writes here");
  {
    auto sink = BackendSink::Open(dst, "x.fza", 1024, ferry::testing::TestExecutor(), {});
    ASSERT_TRUE(sink.ok());
    (void)(*sink)->Write(checksum::AsBytes(Random(3000)));
    const Status s = (*sink)->Close();
    EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied) << s.ToString();
    EXPECT_NE(s.ToString().find("x.fza"), std::string::npos) << s.ToString();
  }
  EXPECT_EQ(dst.committed.load(), 0);
  EXPECT_EQ(dst.Stat("x.fza", false, {}).status().code(), ErrorCode::kNotFound);
}


// An archive of `entries` (key, bytes) stored as the object "x.fza" of `store`; its size.
uint64_t StoreArchive(MemoryBackend& store,
                      const std::vector<std::pair<std::string, std::string>>& entries) {
  StringSink sink;
  auto w = Writer::Open(sink, WriterOptions{});
  EXPECT_TRUE(w.ok());
  for (const auto& [key, bytes] : entries) {
    EntryHeader h;
    h.key = key;
    h.size = bytes.size();
    StringChunkSource body(bytes);
    EXPECT_TRUE((*w)->Add(h, body).ok());
  }
  EXPECT_TRUE((*w)->Finish().ok());
  storage::WriteSpec spec;
  spec.size = sink.bytes.size();
  EXPECT_TRUE(store.Put("x.fza", checksum::AsBytes(sink.bytes), spec, {}).ok());
  return sink.bytes.size();
}

// Reads every entry through `range` and compares it with what was packed.
void ExpectEntries(RangeSource& range,
                   const std::vector<std::pair<std::string, std::string>>& entries) {
  auto r = Reader::Open(range);
  ASSERT_TRUE(r.ok()) << r.status().message();
  for (const auto& [key, bytes] : entries) {
    const Entry* e = (*r)->Find(key);
    ASSERT_NE(e, nullptr) << key;
    StringSink out;
    ASSERT_TRUE((*r)->ReadEntry(*e, out).ok()) << key;
    EXPECT_EQ(out.bytes, bytes) << key;
  }
}

TEST(BackendIoTest, ASmallArchiveIsReadWholeByOneRequest) {
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 20; ++i) entries.emplace_back("k/" + std::to_string(i), Random(10000 + i));
  MemoryBackend store;
  const uint64_t size = StoreArchive(store, entries);
  ASSERT_LE(size, kReadAheadToOpen.whole_below);
  BackendRangeSource range(store, "x.fza", size, {}, kReadAheadToOpen);
  ExpectEntries(range, entries);
  EXPECT_EQ(range.requests(), 1u);
  EXPECT_EQ(range.bytes_requested(), size);
  EXPECT_EQ(store.counts().reads, 1);
  // Without read-ahead: header, trailer, manifest, then the frames.
  BackendRangeSource exact(store, "x.fza", size, {});
  ExpectEntries(exact, entries);
  EXPECT_GE(exact.requests(), 4u);
}

TEST(BackendIoTest, ALargerArchiveOpensWithTwoRequestsAndReadsOnlyTheFramesAsked) {
  // Small entries first (their shared frame at the front), then two of 1.5 MiB: raw frames.
  std::vector<std::pair<std::string, std::string>> small;
  for (int i = 0; i < 10; ++i) small.emplace_back("s/" + std::to_string(i), Random(3000 + i));
  std::vector<std::pair<std::string, std::string>> all = small;
  all.emplace_back("big/1", Random(3 << 19));
  all.emplace_back("big/2", Random((3 << 19) + 7));
  MemoryBackend store;
  const uint64_t size = StoreArchive(store, all);
  ASSERT_GT(size, kReadAheadToOpen.whole_below);
  BackendRangeSource range(store, "x.fza", size, {}, kReadAheadToOpen);
  auto r = Reader::Open(range);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(range.requests(), 2u);  // the header; the tail holding trailer and manifest
  EXPECT_LE(range.bytes_requested(), (64u << 10) + 4096);
  const uint64_t opened = range.bytes_requested();
  StringSink out;
  ASSERT_TRUE((*r)->ReadEntry(*(*r)->Find("s/3"), out).ok());
  EXPECT_EQ(out.bytes, small[3].second);
  EXPECT_EQ(range.requests(), 3u);  // the shared frame, not the large ones
  EXPECT_LT(range.bytes_requested() - opened, 64u << 10);
  EXPECT_EQ(store.counts().reads, 3);
  BackendRangeSource again(store, "x.fza", size, {}, kReadAheadToOpen);
  ExpectEntries(again, all);
}

TEST(BackendIoTest, AManifestLargerThanTheTailIsReadByItsOwnRequest) {
  // Long random keys: a manifest of a few hundred KiB, beyond the tail read ahead.
  std::vector<std::pair<std::string, std::string>> entries;
  for (int i = 0; i < 1500; ++i) {
    entries.emplace_back(checksum::Hex(checksum::Sha256(checksum::AsBytes(std::to_string(i)))) +
                             checksum::Hex(checksum::Sha256(checksum::AsBytes(Random(i % 7 + 1)))) +
                             "/" + std::to_string(i),
                         std::to_string(i));
  }
  entries.emplace_back("big", Random(3 << 19));
  MemoryBackend store;
  const uint64_t size = StoreArchive(store, entries);
  ASSERT_GT(size, kReadAheadToOpen.whole_below);
  BackendRangeSource range(store, "x.fza", size, {}, kReadAheadToOpen);
  auto r = Reader::Open(range);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(range.requests(), 3u);  // header, tail, manifest
  EXPECT_EQ((*r)->entries().size(), entries.size());
  BackendRangeSource again(store, "x.fza", size, {}, kReadAheadToOpen);
  ExpectEntries(again, entries);
}

TEST(BackendIoTest, AReadRunningIntoTheTailAsksOnlyForTheBytesBeforeIt) {
  MemoryBackend store;
  const std::string object = Random(2 << 20);
  storage::WriteSpec spec;
  spec.size = object.size();
  ASSERT_TRUE(store.Put("o", checksum::AsBytes(object), spec, {}).ok());
  const uint64_t size = object.size(), tail = kReadAheadToOpen.tail;
  BackendRangeSource range(store, "o", size, {}, kReadAheadToOpen);
  auto read = [&](uint64_t offset, uint64_t n) {
    std::string buf(n, '\0');
    EXPECT_TRUE(range.ReadAt(offset, std::as_writable_bytes(std::span(buf))).ok());
    EXPECT_EQ(buf, object.substr(offset, n)) << offset << "+" << n;
  };
  read(size - 40, 40);  // the trailer: the whole tail
  EXPECT_EQ(range.requests(), 1u);
  EXPECT_EQ(range.bytes_requested(), tail);
  read(size - 100000, 100000 - 40);  // a frame ending in the tail: only its head is asked for
  EXPECT_EQ(range.requests(), 2u);
  EXPECT_EQ(range.bytes_requested(), 100000u);
  read(size - 1000, 500);  // within the tail: nothing asked
  read(0, 16);
  EXPECT_EQ(range.requests(), 3u);
  EXPECT_EQ(range.bytes_requested(), 100016u);
  EXPECT_EQ(store.counts().reads, 3);
}

TEST(BackendIoTest, ReadAheadStillRefusesReadsPastTheEnd) {
  MemoryBackend store;
  const uint64_t size = StoreArchive(store, {{"a", "bytes"}});
  BackendRangeSource range(store, "x.fza", size, {}, kReadAheadToOpen);
  std::string buf(8, '\0');
  EXPECT_EQ(range.ReadAt(size - 4, std::as_writable_bytes(std::span(buf))).code(),
            ErrorCode::kDataLoss);
  EXPECT_EQ(range.requests(), 0u);
  // An archive shorter than the object says (cut while stored): the read-ahead fails, once.
  BackendRangeSource longer(store, "x.fza", size + 100, {}, kReadAheadToOpen);
  EXPECT_FALSE(Reader::Open(longer).ok());
}

}  // namespace
}  // namespace ferry::archive
