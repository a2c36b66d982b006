// MemoryBackend's resume and cleanup specifics beyond the conformance suite: S3's rules for
// adopted parts, uploads aborted under a live writer, start times from the Clock, and the
// counters and open-writer accounting the engine's tests rely on.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "testing/fake_clock.h"

namespace ferry::storage {
namespace {

using checksum::AsBytes;

std::string Md5Hex(std::string_view s) { return checksum::Hex(checksum::Md5(AsBytes(s))); }

WriteSpec SpecOf(uint64_t size) {
  WriteSpec spec;
  spec.size = size;
  return spec;
}

class MemoryResumeTest : public ::testing::Test {
 protected:
  MemoryResumeTest() : backend_(Options(clock_)) {}

  static MemoryBackend::Options Options(ferry::testing::FakeClock& clock) {
    MemoryBackend::Options o;
    o.features.min_part_size = 4;
    o.clock = &clock;
    return o;
  }
  // Opens "k" (8 bytes, parts of 4), writes part 1 ("abcd") and detaches; returns the id.
  std::string DetachedUpload() {
    auto writer = backend_.OpenChunkWriter("k", SpecOf(8), 4, {});
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return "";
    EXPECT_TRUE((*writer)->WriteChunk(1, 0, AsBytes("abcd"), {}).ok());
    (*writer)->Detach();
    return (*writer)->upload_id();
  }

  ferry::testing::FakeClock clock_;
  MemoryBackend backend_;
};

TEST_F(MemoryResumeTest, DetachAndResumeKeepTheWriterCountsRight) {
  const std::string id = DetachedUpload();
  EXPECT_EQ(backend_.open_writers(), 0) << "a detached writer has ended";
  auto writer = backend_.ResumeChunkWriter("k", id, SpecOf(8), 4, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_EQ(backend_.open_writers(), 1);
  auto stored = (*writer)->ListStoredParts({});
  ASSERT_TRUE(stored.ok() && stored->has_value());
  ASSERT_EQ((*stored)->size(), 1u);
  EXPECT_EQ((**stored)[0].etag, Md5Hex("abcd"));
  (*writer)->AdoptPart((**stored)[0]);
  ASSERT_TRUE((*writer)->WriteChunk(2, 4, AsBytes("efgh"), {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(backend_.Contents("k"), "abcdefgh");
  EXPECT_EQ(backend_.open_writers(), 0);
  const MemoryBackend::Counts counts = backend_.counts();
  EXPECT_EQ(counts.writers_opened, 1);
  EXPECT_EQ(counts.writers_resumed, 1);
  EXPECT_EQ(counts.part_lists, 1);
  EXPECT_EQ(counts.parts_adopted, 1);
  EXPECT_EQ(counts.parts, 2);
  EXPECT_EQ(counts.aborts, 0);
}

TEST_F(MemoryResumeTest, CommitNeedsEveryPartWrittenOrAdoptedAsStored) {
  const std::string id = DetachedUpload();
  auto writer = backend_.ResumeChunkWriter("k", id, SpecOf(8), 4, {});
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->WriteChunk(2, 4, AsBytes("efgh"), {}).ok());
  auto commit = (*writer)->Commit({});
  EXPECT_EQ(commit.status().code(), ErrorCode::kInvalidArgument)
      << "part 1 is on the store but was not adopted: S3 would leave it out";
  (*writer)->AdoptPart(StoredPart{1, Md5Hex("other"), 4});
  commit = (*writer)->Commit({});
  EXPECT_EQ(commit.status().code(), ErrorCode::kInvalidArgument) << "S3's InvalidPart";
  (*writer)->AdoptPart(StoredPart{1, "", 3});
  EXPECT_EQ((*writer)->Commit({}).status().code(), ErrorCode::kInvalidArgument) << "wrong size";
  (*writer)->AdoptPart(StoredPart{1, "", 4});  // a checkpoint without ETag: size is checked
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(backend_.Contents("k"), "abcdefgh");
}

TEST_F(MemoryResumeTest, ResumeWithAnotherSizeOrPartSizeRemovesTheUpload) {
  std::string id = DetachedUpload();
  EXPECT_EQ(backend_.ResumeChunkWriter("k", id, SpecOf(9), 4, {}).status().code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(backend_.ListPendingUploads("", {})->empty());
  id = DetachedUpload();
  EXPECT_EQ(backend_.ResumeChunkWriter("k", id, SpecOf(8), 5, {}).status().code(),
            ErrorCode::kNotFound);
  EXPECT_TRUE(backend_.ListPendingUploads("", {})->empty());
}

TEST_F(MemoryResumeTest, UploadAbortedUnderALiveWriterFailsItsCalls) {
  auto writer = backend_.OpenChunkWriter("k", SpecOf(8), 4, {});
  ASSERT_TRUE(writer.ok());
  auto pending = backend_.ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 1u) << "a live writer's upload is pending too";
  ASSERT_TRUE(backend_.AbortPendingUpload({"other-key", pending->front().upload_id, {}}, {}).ok());
  EXPECT_EQ(backend_.ListPendingUploads("", {})->size(), 1u) << "the key must match";
  ASSERT_TRUE(backend_.AbortPendingUpload(pending->front(), {}).ok());
  EXPECT_EQ((*writer)->WriteChunk(1, 0, AsBytes("abcd"), {}).code(), ErrorCode::kNotFound);
  EXPECT_EQ((*writer)->ListStoredParts({}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ((*writer)->Commit({}).status().code(), ErrorCode::kNotFound);
  EXPECT_TRUE((*writer)->Abort().ok());
  EXPECT_EQ(backend_.open_writers(), 0);
}

TEST_F(MemoryResumeTest, PendingUploadsCarryTheClockTimeAndSortByKey) {
  const auto t0 = clock_.Now();
  auto b = backend_.OpenChunkWriter("b", SpecOf(8), 4, {});
  clock_.Advance(std::chrono::hours(1));
  auto a = backend_.OpenChunkWriter("a", SpecOf(8), 4, {});
  ASSERT_TRUE(a.ok() && b.ok());
  auto pending = backend_.ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].key, "a");
  EXPECT_EQ((*pending)[0].started, t0 + std::chrono::hours(1));
  EXPECT_EQ((*pending)[1].key, "b");
  EXPECT_EQ((*pending)[1].started, t0);
  EXPECT_EQ(backend_.ListPendingUploads("b", {})->size(), 1u);
}

TEST_F(MemoryResumeTest, InjectedFailures) {
  const std::string id = DetachedUpload();
  backend_.FailNext(MemoryBackend::kResumeChunkWriter, 1, Status::Unavailable("injected"));
  EXPECT_EQ(backend_.ResumeChunkWriter("k", id, SpecOf(8), 4, {}).status().code(),
            ErrorCode::kUnavailable);
  auto writer = backend_.ResumeChunkWriter("k", id, SpecOf(8), 4, {});
  ASSERT_TRUE(writer.ok()) << "the upload survived the failed attempt";
  backend_.FailNext(MemoryBackend::kListStoredParts, 1, Status::Unavailable("injected"));
  EXPECT_EQ((*writer)->ListStoredParts({}).status().code(), ErrorCode::kUnavailable);
  EXPECT_TRUE((*writer)->ListStoredParts({}).ok());
}

}  // namespace
}  // namespace ferry::storage
