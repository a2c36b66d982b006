// MemoryBackend specifics beyond the conformance suite: S3-like ETags and limits, server-side
// copies, and the test hooks (fault injection, call counts).
#include "storage/memory/memory_backend.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checksum/checksum.h"

namespace ferry::storage {
namespace {

using checksum::AsBytes;
using std::chrono::system_clock;

class FixedClock : public Clock {
 public:
  explicit FixedClock(system_clock::time_point t) : t_(t) {}
  system_clock::time_point Now() const override { return t_; }
  void SleepFor(std::chrono::milliseconds, std::stop_token) override {}

 private:
  system_clock::time_point t_;
};

MemoryBackend::Options SmallParts(std::string endpoint = "memory") {
  MemoryBackend::Options o;
  o.features.min_part_size = 4;
  o.endpoint = std::move(endpoint);
  return o;
}

WriteSpec SpecOf(size_t size) {
  WriteSpec spec;
  spec.size = size;
  return spec;
}

std::string Md5Hex(std::string_view s) { return checksum::Hex(checksum::Md5(AsBytes(s))); }

TEST(MemoryBackendTest, PutReturnsMd5EtagAndStoresDetailsLikeS3) {
  MemoryBackend b;
  WriteSpec spec = SpecOf(5);
  spec.metadata = {{"Owner", "bob"}, {"ferry-crc32c", "3610a686"}};
  spec.content.content_type = "text/plain";
  spec.storage_class = "STANDARD";
  auto etag = b.Put("k", AsBytes("hello"), spec, {});
  ASSERT_TRUE(etag.ok());
  EXPECT_EQ(etag->etag, Md5Hex("hello"));
  auto info = b.Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->etag, etag->etag);
  EXPECT_TRUE(info->etag_is_md5());
  EXPECT_EQ(info->metadata,
            (std::map<std::string, std::string>{{"ferry-crc32c", "3610a686"}, {"owner", "bob"}}));
  EXPECT_EQ(info->content.content_type, "text/plain");
  EXPECT_EQ(info->storage_class, "") << "STANDARD reads back as empty, as on S3";
  EXPECT_FALSE(info->tags.has_value()) << "not asked for";
}

TEST(MemoryBackendTest, MtimeIsTheTimeOfTheWrite) {
  const system_clock::time_point t(std::chrono::seconds(1'700'000'000));
  FixedClock clock(t);
  MemoryBackend::Options o;
  o.clock = &clock;
  MemoryBackend b(o);
  WriteSpec spec = SpecOf(1);
  spec.mtime = system_clock::time_point(std::chrono::seconds(5));
  ASSERT_TRUE(b.Put("k", AsBytes("x"), spec, {}).ok());
  EXPECT_EQ(b.Stat("k", false, {})->mtime, t);
}

TEST(MemoryBackendTest, MultipartEtagIsMd5OfPartMd5s) {
  MemoryBackend b(SmallParts());
  auto writer = b.OpenChunkWriter("k", SpecOf(10), 4, {});
  ASSERT_TRUE(writer.ok());
  EXPECT_EQ(b.open_writers(), 1);
  ASSERT_TRUE((*writer)->WriteChunk(3, 8, AsBytes("89"), {}).ok());
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, AsBytes("0123"), {}).ok());
  ASSERT_TRUE((*writer)->WriteChunk(2, 4, AsBytes("4567"), {}).ok());
  auto etag = (*writer)->Commit({});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  std::string digests;
  for (const char* part : {"0123", "4567", "89"}) {
    auto d = checksum::Md5(AsBytes(part));
    digests.append(reinterpret_cast<const char*>(d.data()), d.size());
  }
  EXPECT_EQ(etag->etag, Md5Hex(digests) + "-3");
  EXPECT_EQ(b.Contents("k"), "0123456789");
  EXPECT_EQ(b.open_writers(), 0);
  EXPECT_EQ(b.counts().parts, 3);
  EXPECT_EQ(b.counts().commits, 1);
  EXPECT_EQ(b.counts().bytes_written, 10u);
}

TEST(MemoryBackendTest, MetadataAddedBeforeCommitIsStored) {
  MemoryBackend b(SmallParts());
  WriteSpec spec = SpecOf(4);
  spec.metadata = {{"owner", "bob"}, {"ferry-crc32c", "00000000"}};
  auto writer = b.OpenChunkWriter("k", spec, 4, {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, AsBytes("abcd"), {}).ok());
  (*writer)->AddMetadataOnCommit({{"Ferry-CRC32C", "12345678"}});
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(b.Stat("k", false, {})->metadata,
            (std::map<std::string, std::string>{{"ferry-crc32c", "12345678"}, {"owner", "bob"}}));
}

TEST(MemoryBackendTest, PartsMustTileTheObject) {
  MemoryBackend b(SmallParts());
  auto writer = b.OpenChunkWriter("k", SpecOf(10), 4, {});
  ASSERT_TRUE(writer.ok());
  ChunkWriter& w = **writer;
  EXPECT_EQ(w.WriteChunk(1, 1, AsBytes("0123"), {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.WriteChunk(1, 0, AsBytes("012"), {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.WriteChunk(3, 8, AsBytes("8"), {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.WriteChunk(4, 12, AsBytes(""), {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(w.WriteChunk(0, 0, AsBytes("0123"), {}).code(), ErrorCode::kInvalidArgument);
  ASSERT_TRUE(w.WriteChunk(1, 0, AsBytes("0123"), {}).ok());
  auto commit = w.Commit({});
  EXPECT_EQ(commit.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(commit.status().message().find("part 2 of 3"), std::string::npos);
  EXPECT_EQ(b.open_writers(), 1) << "a failed Commit leaves the upload open for Abort";
  ASSERT_TRUE(w.Abort().ok());
  EXPECT_EQ(b.open_writers(), 0);
  EXPECT_EQ(b.counts().aborts, 1);
  EXPECT_TRUE(b.Keys().empty());
}

TEST(MemoryBackendTest, OpenChunkWriterEnforcesS3Limits) {
  MemoryBackend b;  // S3's limits
  const uint64_t mib = 1 << 20;
  EXPECT_EQ(b.OpenChunkWriter("k", SpecOf(10 * mib), mib, {}).status().code(),
            ErrorCode::kInvalidArgument)
      << "parts below 5 MiB";
  EXPECT_TRUE(b.OpenChunkWriter("k", SpecOf(mib), 2 * mib, {}).ok()) << "one small part is fine";
  EXPECT_EQ(b.OpenChunkWriter("k", SpecOf(10001ull * 5 * mib), 5 * mib, {}).status().code(),
            ErrorCode::kInvalidArgument)
      << "more than 10,000 parts";
  EXPECT_EQ(b.OpenChunkWriter("k", SpecOf(10), 0, {}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.OpenChunkWriter("", SpecOf(10), 10, {}).status().code(), ErrorCode::kInvalidArgument);
  MemoryBackend::Options o;
  o.features.chunked_write = false;
  EXPECT_EQ(MemoryBackend(o).OpenChunkWriter("k", SpecOf(1), 1, {}).status().code(),
            ErrorCode::kNotSupported);
  EXPECT_EQ(b.open_writers(), 0) << "the one writer opened was destroyed, hence aborted";
}

TEST(MemoryBackendTest, PutEnforcesS3Limits) {
  MemoryBackend::Options o;
  o.features.max_single_put = 4;
  MemoryBackend b(o);
  EXPECT_EQ(b.Put("k", AsBytes("12345"), SpecOf(5), {}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.Put("", AsBytes("1"), SpecOf(1), {}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.Put(std::string(1025, 'k'), AsBytes("1"), SpecOf(1), {}).status().code(),
            ErrorCode::kInvalidArgument);
  WriteSpec spec = SpecOf(1);
  spec.tags = Tags(11, {"k", "v"});
  EXPECT_EQ(b.Put("k", AsBytes("1"), spec, {}).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_TRUE(b.Keys().empty());
}

TEST(MemoryBackendTest, FailNextWritesFailsThenRecovers) {
  MemoryBackend b(SmallParts());
  b.FailNextWrites(2, Status::Unavailable("503 SlowDown"));
  EXPECT_EQ(b.Put("k", AsBytes("1"), SpecOf(1), {}).status().code(), ErrorCode::kUnavailable);
  auto writer = b.OpenChunkWriter("m", SpecOf(4), 4, {});
  ASSERT_TRUE(writer.ok()) << "opening is not a write";
  EXPECT_EQ((*writer)->WriteChunk(1, 0, AsBytes("abcd"), {}).code(), ErrorCode::kUnavailable);
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, AsBytes("abcd"), {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  ASSERT_TRUE(b.Put("k", AsBytes("1"), SpecOf(1), {}).ok());
  EXPECT_EQ(b.Keys(), (std::vector<std::string>{"k", "m"}));
  const MemoryBackend::Counts c = b.counts();
  EXPECT_EQ(c.puts, 2);
  EXPECT_EQ(c.parts, 2);
  EXPECT_EQ(c.bytes_written, 5u) << "failed calls move no bytes";
}

TEST(MemoryBackendTest, FailNextTargetsOperationsAndQueues) {
  MemoryBackend b;
  ASSERT_TRUE(b.Put("k", AsBytes("1"), SpecOf(1), {}).ok());
  b.FailNext(MemoryBackend::kStat | MemoryBackend::kRead, 1, Status::PermissionDenied("a"));
  b.FailNext(MemoryBackend::kRead, 1, Status::Unavailable("b"));
  b.FailNext(MemoryBackend::kList, 1, Status::Internal("c"));
  std::string out(1, '\0');
  auto bytes = std::as_writable_bytes(std::span(out));
  EXPECT_EQ(b.ReadAt("k", 0, bytes, "", {}).code(), ErrorCode::kPermissionDenied);
  EXPECT_TRUE(b.Stat("k", false, {}).ok()) << "the first rule is used up";
  EXPECT_EQ(b.ReadAt("k", 0, bytes, "", {}).code(), ErrorCode::kUnavailable);
  EXPECT_TRUE(b.ReadAt("k", 0, bytes, "", {}).ok());
  EXPECT_EQ(b.List("").status().code(), ErrorCode::kInternal);
  EXPECT_TRUE(b.List("").ok());
  const MemoryBackend::Counts c = b.counts();
  EXPECT_EQ(c.reads, 3);
  EXPECT_EQ(c.stats, 1);
  EXPECT_EQ(c.lists, 2);
  EXPECT_EQ(c.bytes_read, 1u);
  b.ResetCounts();
  EXPECT_EQ(b.counts().reads, 0);
}

TEST(MemoryBackendTest, ReadsCheckTheEtag) {
  MemoryBackend b;
  auto etag = b.Put("k", AsBytes("abc"), SpecOf(3), {});
  ASSERT_TRUE(etag.ok());
  std::string out(3, '\0');
  auto bytes = std::as_writable_bytes(std::span(out));
  EXPECT_TRUE(b.ReadAt("k", 0, bytes, etag->etag, {}).ok());
  EXPECT_EQ(b.ReadAt("k", 0, bytes, "other", {}).code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(b.ReadObject("k", bytes, "other", {}).status().code(), ErrorCode::kFailedPrecondition);
}

TEST(MemoryBackendTest, CanCopyFromMemoryBackendsOfTheSameEndpoint) {
  MemoryBackend a(SmallParts("x"));
  MemoryBackend b(SmallParts("x"));
  MemoryBackend c(SmallParts("y"));
  EXPECT_TRUE(a.CanCopyFrom(a));
  EXPECT_TRUE(a.CanCopyFrom(b));
  EXPECT_FALSE(a.CanCopyFrom(c));
  MemoryBackend::Options o = SmallParts("x");
  o.features.server_side_copy = false;
  EXPECT_FALSE(MemoryBackend(o).CanCopyFrom(a));
}

TEST(MemoryBackendTest, CopyFromKeepsDetailsAndOverridesStorageClass) {
  MemoryBackend src(SmallParts("x"));
  MemoryBackend dst(SmallParts("x"));
  WriteSpec spec = SpecOf(3);
  spec.metadata = {{"owner", "bob"}};
  spec.content.cache_control = "no-cache";
  spec.tags = Tags{{"team", "a"}};
  spec.storage_class = "GLACIER";
  ASSERT_TRUE(src.OpenChunkWriter("k", spec, 4, {}).ok());  // destroyed: aborted, no effect
  auto writer = src.OpenChunkWriter("k", spec, 4, {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, AsBytes("abc"), {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  auto object = src.Stat("k", true, {});
  ASSERT_TRUE(object.ok());

  auto etag = dst.CopyFrom(src, *object, "copy", "STANDARD_IA", {});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(etag->etag, Md5Hex("abc")) << "a one-request copy has a plain MD5 ETag";
  auto copied = dst.Stat("copy", true, {});
  ASSERT_TRUE(copied.ok());
  EXPECT_EQ(copied->metadata, object->metadata);
  EXPECT_EQ(copied->content, object->content);
  EXPECT_EQ(copied->tags, object->tags);
  EXPECT_EQ(copied->storage_class, "STANDARD_IA");
  EXPECT_EQ(dst.counts().copies, 1);
  EXPECT_EQ(dst.counts().bytes_written, 0u);

  ASSERT_TRUE(dst.CopyFrom(src, *object, "same-class", "", {}).ok());
  EXPECT_EQ(dst.Stat("same-class", false, {})->storage_class, "GLACIER");

  ObjectInfo stale = *object;
  stale.etag = Md5Hex("old");
  EXPECT_EQ(dst.CopyFrom(src, stale, "x", "", {}).status().code(), ErrorCode::kFailedPrecondition);
  ObjectInfo absent = *object;
  absent.key = "absent";
  EXPECT_EQ(dst.CopyFrom(src, absent, "x", "", {}).status().code(), ErrorCode::kNotFound);
  MemoryBackend other(SmallParts("y"));
  EXPECT_EQ(other.CopyFrom(src, *object, "x", "", {}).status().code(), ErrorCode::kNotSupported);
}

TEST(MemoryBackendTest, CopyChunkAssemblesPartsOnTheServer) {
  MemoryBackend src(SmallParts("x"));
  MemoryBackend dst(SmallParts("x"));
  ASSERT_TRUE(src.Put("k", AsBytes("0123456789"), SpecOf(10), {}).ok());
  auto object = src.Stat("k", false, {});
  ASSERT_TRUE(object.ok());
  auto writer = dst.OpenChunkWriter("copy", SpecOf(10), 4, {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->CopyChunk(2, src, *object, 4, 4, {}).ok());
  ASSERT_TRUE((*writer)->CopyChunk(1, src, *object, 0, 4, {}).ok());
  ASSERT_TRUE((*writer)->CopyChunk(3, src, *object, 8, 2, {}).ok());
  auto etag = (*writer)->Commit({});
  ASSERT_TRUE(etag.ok());
  EXPECT_TRUE(etag->etag.ends_with("-3"));
  EXPECT_EQ(dst.Contents("copy"), "0123456789");
  EXPECT_EQ(dst.counts().part_copies, 3);
  EXPECT_EQ(dst.counts().bytes_written, 0u);

  ObjectInfo stale = *object;
  stale.etag = Md5Hex("old");
  auto w2 = dst.OpenChunkWriter("copy2", SpecOf(10), 4, {});
  ASSERT_TRUE(w2.ok());
  EXPECT_EQ((*w2)->CopyChunk(1, src, stale, 0, 4, {}).code(), ErrorCode::kFailedPrecondition);
  MemoryBackend other(SmallParts("y"));
  EXPECT_EQ((*w2)->CopyChunk(1, other, *object, 0, 4, {}).code(), ErrorCode::kNotSupported);
}

TEST(MemoryBackendTest, TagsArePutAndStatted) {
  MemoryBackend b;
  EXPECT_EQ(b.PutTags("k", {{"a", "1"}}, {}).code(), ErrorCode::kNotFound);
  ASSERT_TRUE(b.Put("k", AsBytes("1"), SpecOf(1), {}).ok());
  EXPECT_EQ(b.Stat("k", true, {})->tags, Tags{}) << "asked for: fetched, and empty";
  ASSERT_TRUE(b.PutTags("k", {{"a", "1"}, {"b", "2"}}, {}).ok());
  EXPECT_EQ(b.Stat("k", true, {})->tags, (Tags{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(b.PutTags("k", Tags(11, {"k", "v"}), {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.counts().tag_puts, 2);
}

TEST(MemoryBackendTest, ListingIsLazyLikePagedS3Listings) {
  MemoryBackend b;
  for (const char* k : {"a", "c", "e"}) ASSERT_TRUE(b.Put(k, AsBytes("1"), SpecOf(1), {}).ok());
  auto cursor = b.List("");
  ASSERT_TRUE(cursor.ok());
  auto first = (*cursor)->Next();
  ASSERT_TRUE(first.ok() && *first != nullptr);
  EXPECT_EQ((*first)->key, "a");
  EXPECT_FALSE((*first)->has_details);
  EXPECT_TRUE((*first)->etag_is_md5());
  ASSERT_TRUE(b.Put("b", AsBytes("1"), SpecOf(1), {}).ok());
  ASSERT_TRUE(b.Delete("c", {}).ok());
  std::vector<std::string> rest;
  for (;;) {
    auto next = (*cursor)->Next();
    ASSERT_TRUE(next.ok());
    if (*next == nullptr) break;
    rest.push_back((*next)->key);
  }
  EXPECT_EQ(rest, (std::vector<std::string>{"b", "e"}));
}

}  // namespace
}  // namespace ferry::storage
