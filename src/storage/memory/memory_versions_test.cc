// MemoryBackend's versions beyond the conformance suite: S3's behaviours that the suite does
// not reach (a marker for an absent key, tags of the current version, part copies of an older
// version) and the test hooks on the version calls.
#include <gtest/gtest.h>

#include <string>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"

namespace ferry::storage {
namespace {

using checksum::AsBytes;

MemoryBackend::Options Versioned() {
  MemoryBackend::Options o;
  o.versioned = true;
  o.features.min_part_size = 4;
  return o;
}

WriteSpec SpecOf(size_t size) {
  WriteSpec spec;
  spec.size = size;
  return spec;
}

std::vector<ObjectInfo> AllVersions(MemoryBackend& b) {
  std::vector<ObjectInfo> out;
  auto cursor = b.ListVersions("", "", "");
  EXPECT_TRUE(cursor.ok());
  if (!cursor.ok()) return out;
  for (;;) {
    auto next = (*cursor)->Next();
    EXPECT_TRUE(next.ok());
    if (!next.ok() || *next == nullptr) return out;
    out.push_back(**next);
  }
}

TEST(MemoryVersionsTest, FeaturesFollowTheOption) {
  EXPECT_FALSE(MemoryBackend().features().versions);
  EXPECT_TRUE(MemoryBackend(Versioned()).features().versions);
}

TEST(MemoryVersionsTest, DeletingAnAbsentKeyAddsAMarkerAsS3Does) {
  MemoryBackend b(Versioned());
  ASSERT_TRUE(b.Delete("never", {}).ok());
  const auto versions = AllVersions(b);
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_TRUE(versions[0].delete_marker);
  EXPECT_TRUE(versions[0].is_latest);
  EXPECT_EQ(b.Keys(), std::vector<std::string>{});
}

TEST(MemoryVersionsTest, TagsBelongToTheCurrentVersion) {
  MemoryBackend b(Versioned());
  auto v1 = b.Put("k", AsBytes("one"), SpecOf(3), {});
  auto v2 = b.Put("k", AsBytes("two"), SpecOf(3), {});
  ASSERT_TRUE(v1.ok() && v2.ok());
  ASSERT_TRUE(b.PutTags("k", Tags{{"t", "1"}}, {}).ok());
  EXPECT_EQ(b.StatVersion("k", v2->version_id, true, {})->tags, (Tags{{"t", "1"}}));
  EXPECT_EQ(b.StatVersion("k", v1->version_id, true, {})->tags, Tags{});
  // Removing the current version makes the older one current, with its own tags.
  ASSERT_TRUE(b.DeleteVersion("k", v2->version_id, {}).ok());
  auto now = b.Stat("k", true, {});
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->version_id, v1->version_id);
  EXPECT_EQ(now->tags, Tags{});
  EXPECT_EQ(b.Contents("k"), "one");
}

TEST(MemoryVersionsTest, PartCopiesAndCommitsUseAndMakeVersions) {
  MemoryBackend b(Versioned());
  auto old = b.Put("src", AsBytes("01234567"), SpecOf(8), {});
  ASSERT_TRUE(old.ok());
  ASSERT_TRUE(b.Put("src", AsBytes("abcdefgh"), SpecOf(8), {}).ok());
  ObjectInfo source;
  source.key = "src";
  source.version_id = old->version_id;
  auto writer = b.OpenChunkWriter("dst", SpecOf(8), 4, {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->CopyChunk(1, b, source, 0, 4, {}).ok());
  ASSERT_TRUE((*writer)->CopyChunk(2, b, source, 4, 4, {}).ok());
  auto committed = (*writer)->Commit({});
  ASSERT_TRUE(committed.ok());
  EXPECT_EQ(b.Contents("dst"), "01234567") << "the older version was copied";
  EXPECT_EQ(b.Stat("dst", false, {})->version_id, committed->version_id);
  source.version_id = "m999";
  EXPECT_EQ(b.CopyFrom(b, source, "x", "", {}).status().code(), ErrorCode::kNotFound);
}

TEST(MemoryVersionsTest, UnversionedAcceptsOnlyTheNullVersion) {
  MemoryBackend b;
  auto w = b.Put("k", AsBytes("abc"), SpecOf(3), {});
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->version_id, "");
  EXPECT_EQ(b.Stat("k", false, {})->version_id, "");
  std::string out(3, '\0');
  EXPECT_TRUE(b.ReadVersionAt("k", "null", 0, std::as_writable_bytes(std::span(out)), {}).ok());
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(b.StatVersion("k", "m1", false, {}).status().code(), ErrorCode::kNotFound);
  ASSERT_TRUE(b.DeleteVersion("k", "m1", {}).ok());
  EXPECT_EQ(b.Contents("k"), "abc") << "another id removes nothing";
  ASSERT_TRUE(b.DeleteVersion("k", "null", {}).ok());
  EXPECT_EQ(b.Contents("k"), std::nullopt);
}

TEST(MemoryVersionsTest, VersionCallsAreCountedAndFailOnDemand) {
  MemoryBackend b(Versioned());
  auto w = b.Put("k", AsBytes("abc"), SpecOf(3), {});
  ASSERT_TRUE(w.ok());
  b.ResetCounts();
  b.FailNext(MemoryBackend::kList, 1, Status::Unavailable("injected"));
  EXPECT_EQ(b.ListVersions("", "", "").status().code(), ErrorCode::kUnavailable);
  b.FailNext(MemoryBackend::kDelete, 1, Status::Unavailable("injected"));
  EXPECT_EQ(b.DeleteVersion("k", w->version_id, {}).code(), ErrorCode::kUnavailable);
  EXPECT_EQ(b.Contents("k"), "abc") << "a failed call changes nothing";
  ASSERT_TRUE(b.StatVersion("k", w->version_id, false, {}).ok());
  std::string out(3, '\0');
  ASSERT_TRUE(
      b.ReadVersionAt("k", w->version_id, 0, std::as_writable_bytes(std::span(out)), {}).ok());
  const MemoryBackend::Counts c = b.counts();
  EXPECT_EQ(c.lists, 1);
  EXPECT_EQ(c.deletes, 1);
  EXPECT_EQ(c.stats, 1);
  EXPECT_EQ(c.reads, 1);
  EXPECT_EQ(c.bytes_read, 3u);
}

}  // namespace
}  // namespace ferry::storage
