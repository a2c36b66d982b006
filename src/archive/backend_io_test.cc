// The Backend byte seams: pack objects of a MemoryBackend (with their metadata) read in ranged
// reads, read the archive back with ranged reads of the object holding it.
#include "archive/backend_io.h"

#include <gtest/gtest.h>

#include <random>

#include "archive/reader.h"
#include "archive/writer.h"
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/sizeless_store.h"

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

TEST(BackendIoTest, SinkDroppedWithoutCloseLeavesNoObject) {
  MemoryBackend dst;
  {
    auto sink = BackendSink::Open(dst, "x.fza", 5 << 20, {});
    ASSERT_TRUE(sink.ok());
    ASSERT_TRUE((*sink)->Write(checksum::AsBytes("partial")).ok());
  }
  EXPECT_EQ(dst.Stat("x.fza", false, {}).status().code(), ErrorCode::kNotFound);
}

TEST(BackendIoTest, FlushLastWritesEveryByteAndCloseOnlyCompletes) {
  ferry::testing::SizelessChunkedStore dst;  // chunked writes of unknown size, as S3's
  auto sink = BackendSink::Open(dst, "x.fza", 5 << 20, {});
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

}  // namespace
}  // namespace ferry::archive
