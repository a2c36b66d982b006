// The Backend conformance suite, part 3: resuming chunked writes after a crash
// (Detach -> ResumeChunkWriter -> ListStoredParts/AdoptPart -> Commit) and the cleanup of
// abandoned uploads (ListPendingUploads, AbortPendingUpload).
#include <algorithm>
#include <random>

#include "checksum/checksum.h"
#include "conformance/backend_factory.h"

namespace ferry::conformance {
namespace {

using std::chrono::system_clock;
using storage::Backend;
using storage::ChunkWriter;
using storage::StoredPart;
using storage::WriteSpec;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

WriteSpec SpecOf(uint64_t size) {
  WriteSpec spec;
  spec.size = size;
  return spec;
}

std::span<const std::byte> Slice(const std::string& s, uint64_t offset, uint64_t n) {
  return checksum::AsBytes(std::string_view(s).substr(offset, n));
}

// The part size the suite uses: the store's minimum (5 MiB on S3), at least 1000 bytes.
uint64_t PartSize(const storage::Features& f) { return std::max<uint64_t>(f.min_part_size, 1000); }

}  // namespace

// A crash between parts: parts 1 and 3 of 3 are on the store, the process ends (Detach), a new
// one resumes by upload id, adopts what the store has, sends part 2 and commits.
TEST_P(BackendConformanceTest, DetachedChunkedWriteResumesAndCommits) {
  const uint64_t part = PartSize(features());
  const std::string body = RandomBytes(2 * part + part / 2, 21);
  const WriteSpec spec = SpecOf(body.size());
  if (!features().chunked_write) {
    EXPECT_EQ(backend().ResumeChunkWriter("k", "some-upload", spec, part, {}).status().code(),
              ErrorCode::kNotSupported);
    return;
  }
  std::string upload_id;
  {
    auto writer = backend().OpenChunkWriter("dir/resumed", spec, part, {});
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->WriteChunk(1, 0, Slice(body, 0, part), {}).ok());
    ASSERT_TRUE((*writer)->WriteChunk(3, 2 * part, Slice(body, 2 * part, part), {}).ok());
    upload_id = (*writer)->upload_id();
    (*writer)->Detach();
  }  // destroyed after Detach: the upload must survive
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{}) << "nothing visible before Commit";

  auto resumed = backend().ResumeChunkWriter("dir/resumed", upload_id, spec, part, {});
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ChunkWriter& w = **resumed;
  EXPECT_EQ(w.upload_id(), upload_id);
  auto stored = w.ListStoredParts({});
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  std::vector<StoredPart> adopt;
  if (!GetParam().out_of_order_uploads) {
    // in-order sessions: only part 1 is kept; parts 2 and 3 are sent again
    ASSERT_TRUE(stored->has_value());
    ASSERT_EQ((*stored)->size(), 1u);
    EXPECT_EQ((*stored)->front().part_number, 1);
    EXPECT_EQ((*stored)->front().size, part);
    w.AdoptPart((*stored)->front());
    ASSERT_TRUE(w.WriteChunk(3, 2 * part, Slice(body, 2 * part, part), {}).ok());
  } else if (GetParam().lists_stored_parts) {
    ASSERT_TRUE(stored->has_value()) << "the store knows its parts";
    const std::vector<StoredPart>& parts = **stored;
    ASSERT_EQ(parts.size(), 2u);
    EXPECT_EQ(parts[0].part_number, 1);
    EXPECT_EQ(parts[0].size, part);
    EXPECT_FALSE(parts[0].etag.empty());
    EXPECT_EQ(parts[1].part_number, 3);
    EXPECT_EQ(parts[1].size, part / 2);
    EXPECT_FALSE(parts[1].etag.empty());
    adopt = parts;
  } else {
    EXPECT_FALSE(stored->has_value()) << "the caller's checkpoints are the truth";
    adopt = {StoredPart{1, "", part}, StoredPart{3, "", part / 2}};
  }
  for (const StoredPart& p : adopt) w.AdoptPart(p);
  ASSERT_TRUE(w.WriteChunk(2, part, Slice(body, part, part), {}).ok());
  auto etag = w.Commit({});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  EXPECT_EQ(ReadString("dir/resumed").value(), body);
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{"dir/resumed"});
  auto pending = backend().ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->empty()) << "a committed upload is not pending";
  EXPECT_EQ(backend().ResumeChunkWriter("dir/resumed", upload_id, spec, part, {}).status().code(),
            ErrorCode::kNotFound)
      << "a committed upload cannot be resumed";
}

TEST_P(BackendConformanceTest, ResumeOfAnUnknownUploadIsNotFound) {
  if (!features().chunked_write) return;  // refusal covered by the resume test
  const uint64_t part = PartSize(features());
  const WriteSpec spec = SpecOf(2 * part);
  EXPECT_EQ(backend().ResumeChunkWriter("k", "no-such-upload", spec, part, {}).status().code(),
            ErrorCode::kNotFound);
  // A real upload id, given with another key, names no upload of that key.
  auto writer = backend().OpenChunkWriter("one", spec, part, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, Slice(RandomBytes(part, 22), 0, part), {}).ok());
  EXPECT_EQ(
      backend().ResumeChunkWriter("other", (*writer)->upload_id(), spec, part, {}).status().code(),
      ErrorCode::kNotFound);
  EXPECT_TRUE((*writer)->Abort().ok());
  EXPECT_EQ(
      backend().ResumeChunkWriter("one", (*writer)->upload_id(), spec, part, {}).status().code(),
      ErrorCode::kNotFound)
      << "an aborted upload cannot be resumed";
}

TEST_P(BackendConformanceTest, AbandonedUploadIsListedAndAborted) {
  if (!features().chunked_write) return;  // refusal covered by the resume test
  const uint64_t part = PartSize(features());
  const std::string body = RandomBytes(2 * part, 23);
  const WriteSpec spec = SpecOf(body.size());
  const system_clock::time_point before = system_clock::now();
  std::string upload_id;
  {
    auto writer = backend().OpenChunkWriter("pending/k", spec, part, {});
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->WriteChunk(1, 0, Slice(body, 0, part), {}).ok());
    upload_id = (*writer)->upload_id();
    (*writer)->Detach();
  }
  ASSERT_TRUE(PutString("pending/object", "x").ok()) << "objects are not uploads";
  if (!GetParam().out_of_order_uploads) {
    // the store cannot list its sessions: none listed, and one a journal recorded is
    // cancelled by its id all the same
    auto none = backend().ListPendingUploads("", {});
    ASSERT_TRUE(none.ok()) << none.status().ToString();
    EXPECT_TRUE(none->empty());
    const Backend::PendingUpload recorded{"pending/k", upload_id, before, false};
    Status aborted = backend().AbortPendingUpload(recorded, {});
    ASSERT_TRUE(aborted.ok()) << aborted.ToString();
    EXPECT_TRUE(backend().AbortPendingUpload(recorded, {}).ok()) << "absent is not an error";
    EXPECT_EQ(backend().ResumeChunkWriter("pending/k", upload_id, spec, part, {}).status().code(),
              ErrorCode::kNotFound);
    EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{"pending/object"});
    return;
  }

  auto all = backend().ListPendingUploads("", {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 1u);
  const Backend::PendingUpload upload = all->front();
  EXPECT_EQ(upload.key, "pending/k");
  EXPECT_EQ(upload.upload_id, upload_id);
  // Clocks of a store and of this process differ a little (S3 reports whole seconds).
  EXPECT_GE(upload.started, before - std::chrono::minutes(5));
  EXPECT_LE(upload.started, system_clock::now() + std::chrono::minutes(5));
  for (const char* prefix : {"pending/", "pending/k", "pen"}) {
    auto some = backend().ListPendingUploads(prefix, {});
    ASSERT_TRUE(some.ok()) << prefix << ": " << some.status().ToString();
    EXPECT_EQ(some->size(), 1u) << prefix;
  }
  for (const char* prefix : {"pending/kk", "pending/o", "other/", "z"}) {
    auto none = backend().ListPendingUploads(prefix, {});
    ASSERT_TRUE(none.ok()) << prefix << ": " << none.status().ToString();
    EXPECT_TRUE(none->empty()) << prefix;
  }

  Status aborted = backend().AbortPendingUpload(upload, {});
  ASSERT_TRUE(aborted.ok()) << aborted.ToString();
  EXPECT_TRUE(backend().AbortPendingUpload(upload, {}).ok()) << "absent is not an error";
  EXPECT_EQ(backend().ResumeChunkWriter("pending/k", upload_id, spec, part, {}).status().code(),
            ErrorCode::kNotFound);
  auto after = backend().ListPendingUploads("", {});
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_TRUE(after->empty());
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{"pending/object"});
  EXPECT_EQ(backend().Stat("pending/k", false, {}).status().code(), ErrorCode::kNotFound);
}

TEST_P(BackendConformanceTest, ResumedWriterIsAbortedAndDroppedLikeAnOpenedOne) {
  if (!features().chunked_write) return;  // refusal covered by the resume test
  const uint64_t part = PartSize(features());
  const std::string body = RandomBytes(2 * part, 24);
  const WriteSpec spec = SpecOf(body.size());
  std::string upload_id;
  {
    auto writer = backend().OpenChunkWriter("k", spec, part, {});
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    upload_id = (*writer)->upload_id();
    (*writer)->Detach();
  }
  {
    auto resumed = backend().ResumeChunkWriter("k", upload_id, spec, part, {});
    ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
    ASSERT_TRUE((*resumed)->WriteChunk(1, 0, Slice(body, 0, part), {}).ok());
  }  // destroyed without Commit or Detach: aborts, as an opened writer does
  EXPECT_EQ(backend().ResumeChunkWriter("k", upload_id, spec, part, {}).status().code(),
            ErrorCode::kNotFound);
  auto pending = backend().ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->empty());
  EXPECT_EQ(ListKeys("").value(), std::vector<std::string>{});
}

}  // namespace ferry::conformance
