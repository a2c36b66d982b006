// CopyRequest::dst_key: a copy whose destination key differs from its source key, by every way
// the engine writes (whole, multipart, server-side, resumed) and looks (details), on
// MemoryBackend fakes. The source is never touched.
#include <gtest/gtest.h>

#include "storage/memory/memory_backend.h"
#include "transfer/engine.h"
#include "transfer/memory_fixture.h"

namespace ferry::transfer {
namespace {

using storage::MemoryBackend;
using testing::Bytes;
using testing::Listed;
using testing::MemoryJournal;
using testing::Put;
using testing::SmallParts;

constexpr ExecutorOptions kExecutor{.concurrency = 4, .memory_budget = 1 << 20};

TransferOptions Options() {
  TransferOptions o;
  o.part_size = 4096;
  o.multipart_threshold = 20000;
  return o;
}

// How CopyAs copies.
struct CopyAsOptions {
  TransferOptions transfer = Options();              // the engine's
  std::shared_ptr<UploadJournal> journal = nullptr;  // the request's checkpoints; null: none
  bool need_details = false;                         // the request's CopyRequest::need_details
};

// Copies `key` of `src` to `dst_key` of `dst` through one engine; returns the object's status.
Status CopyAs(MemoryBackend& src, MemoryBackend& dst, const std::string& key,
              const std::string& dst_key, Stats& stats, const CopyAsOptions& options = {}) {
  Status result = Status::Internal("not done");
  Executor executor(kExecutor);  // a private budget: 4 requests, 1 MiB
  TransferEngine engine(executor, options.transfer, src, dst, stats);
  CopyRequest r;
  r.src = Listed(src, key);
  r.dst_key = dst_key;
  r.need_details = options.need_details;
  r.journal = options.journal;
  r.done = [&](const Status& s) { result = s; };
  engine.Copy(std::move(r));
  engine.Wait();
  return result;
}

// The source holds exactly `key` -> `body`, as before the copy.
void ExpectSourceUntouched(const MemoryBackend& src, const std::string& key,
                           const std::string& body) {
  EXPECT_EQ(src.Keys(), std::vector<std::string>{key});
  EXPECT_EQ(src.Contents(key), body);
  EXPECT_EQ(src.counts().puts, 1);  // the test's own
  EXPECT_EQ(src.counts().writers_opened, 0);
  EXPECT_EQ(src.counts().deletes, 0);
}

TEST(DestinationKeyTest, WholeCopyWritesTheDestinationKeyOnly) {
  MemoryBackend src(SmallParts("a")), dst(SmallParts("b"));
  const std::string body = Bytes(3000, 1);
  Put(src, "dir/k", body);
  Stats stats;
  ASSERT_TRUE(CopyAs(src, dst, "dir/k", "archive/k.bin", stats).ok());
  EXPECT_EQ(dst.Keys(), std::vector<std::string>{"archive/k.bin"});
  EXPECT_EQ(dst.Contents("archive/k.bin"), body);
  ExpectSourceUntouched(src, "dir/k", body);
}

TEST(DestinationKeyTest, MultipartCopyWritesTheDestinationKeyOnly) {
  MemoryBackend src(SmallParts("a")), dst(SmallParts("b"));
  const std::string body = Bytes(30000, 2);  // 8 parts
  Put(src, "big", body);
  Stats stats;
  ASSERT_TRUE(CopyAs(src, dst, "big", "other/big", stats).ok());
  EXPECT_EQ(stats.objects_multipart.load(), 1u);
  EXPECT_EQ(dst.Keys(), std::vector<std::string>{"other/big"});
  EXPECT_EQ(dst.Contents("other/big"), body);
  EXPECT_EQ(dst.open_writers(), 0);
  ExpectSourceUntouched(src, "big", body);
}

TEST(DestinationKeyTest, ServerSideCopiesWriteTheDestinationKeyOnly) {
  MemoryBackend src(SmallParts("same")), dst(SmallParts("same"));
  const std::string small = Bytes(3000, 3), big = Bytes(30000, 4);
  Put(src, "small", small);
  Stats one;
  ASSERT_TRUE(CopyAs(src, dst, "small", "copy-of-small", one).ok());
  EXPECT_EQ(one.objects_server_side.load(), 1u);  // one CopyObject
  EXPECT_EQ(dst.Contents("copy-of-small"), small);
  ExpectSourceUntouched(src, "small", small);

  MemoryBackend src2(SmallParts("same"));
  Put(src2, "big", big);
  TransferOptions parts = Options();
  parts.server_side_copy_limit = 10000;  // copied in parts on the server
  Stats many;
  ASSERT_TRUE(CopyAs(src2, dst, "big", "copy-of-big", many, {.transfer = parts}).ok());
  EXPECT_GT(dst.counts().part_copies, 0);
  EXPECT_EQ(dst.Keys(), (std::vector<std::string>{"copy-of-big", "copy-of-small"}));
  EXPECT_EQ(dst.Contents("copy-of-big"), big);
  ExpectSourceUntouched(src2, "big", big);
}

// The journal's upload is resumed under the destination key (the store knows it there).
TEST(DestinationKeyTest, ResumedUploadIsTheDestinationKeys) {
  MemoryBackend src(SmallParts("a")), dst(SmallParts("b"));
  const std::string body = Bytes(30000, 5);
  Put(src, "big", body);
  auto journal = std::make_shared<MemoryJournal>();
  dst.FailNext(MemoryBackend::kCommit, 1, Status::Unavailable("503 on complete"));
  Stats first;
  EXPECT_EQ(CopyAs(src, dst, "big", "moved", first, {.journal = journal}).code(),
            ErrorCode::kUnavailable);
  ASSERT_TRUE(journal->upload_.has_value()) << "kept for the next attempt";
  Stats second;
  ASSERT_TRUE(CopyAs(src, dst, "big", "moved", second, {.journal = journal}).ok());
  EXPECT_EQ(second.uploads_restarted.load(), 0u);
  EXPECT_EQ(second.parts_resumed.load(), 8u);
  EXPECT_EQ(dst.Keys(), std::vector<std::string>{"moved"});
  EXPECT_EQ(dst.Contents("moved"), body);
  auto pending = dst.ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty());
  ExpectSourceUntouched(src, "big", body);
}

// A closer look (need_details) compares the source with what the destination key holds.
TEST(DestinationKeyTest, DetailsAreThoseOfTheDestinationKey) {
  MemoryBackend src(SmallParts("a")), dst(SmallParts("b"));
  const std::string body = Bytes(3000, 6);
  Put(src, "k", body);
  Put(dst, "k", Bytes(3000, 7));  // the source key on the destination: other bytes
  Put(dst, "renamed", body);      // the destination key: the same bytes
  Stats stats;
  stats.objects_planned = 1;
  ASSERT_TRUE(CopyAs(src, dst, "k", "renamed", stats, {.need_details = true}).ok());
  EXPECT_EQ(stats.objects_skipped.load(), 1u);
  EXPECT_EQ(stats.objects_copied.load(), 0u);
  EXPECT_EQ(dst.counts().puts, 2);  // the test's own
  EXPECT_EQ(dst.Contents("k"), Bytes(3000, 7));
}

}  // namespace
}  // namespace ferry::transfer
