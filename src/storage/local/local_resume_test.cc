// LocalBackend's resume, durability and cleanup specifics beyond the conformance suite: what the
// temporary file's name records, hostile upload ids, a resumed file of the wrong size, adopted
// parts read back, fsync, long names, and leftovers of Put.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "checksum/checksum.h"
#include "storage/local/local_backend.h"
#include "storage/local/posix_io.h"

namespace ferry::storage {
namespace {

namespace fs = std::filesystem;

WriteSpec SpecOf(uint64_t size) {
  WriteSpec spec;
  spec.size = size;
  return spec;
}

class LocalResumeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ferry-local-resume-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    root_ = dir_ / "root";
    auto b = LocalBackend::Open(root_.string(), /*create=*/true);
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    backend_ = std::move(b).value();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Opens a chunked write of `size` bytes, writes part 1 ("abc") and detaches; returns the id.
  std::string DetachedUpload(std::string_view key, uint64_t size = 6) {
    auto writer = backend_->OpenChunkWriter(key, SpecOf(size), 3, {});
    EXPECT_TRUE(writer.ok()) << writer.status().ToString();
    if (!writer.ok()) return "";
    EXPECT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("abc"), {}).ok());
    (*writer)->Detach();
    return (*writer)->upload_id();
  }
  // Every name under the test folder, hidden ones included.
  std::set<std::string> AllPaths() {
    std::set<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir_)) {
      out.insert(fs::relative(e.path(), dir_).string());
    }
    return out;
  }

  fs::path dir_;
  fs::path root_;
  std::unique_ptr<LocalBackend> backend_;
};

TEST_F(LocalResumeTest, UploadIdIsTheTemporaryFileNameRecordingTheKey) {
  const std::string id = DetachedUpload("sub/name.txt");
  EXPECT_TRUE(id.starts_with(".ferry-tmp-")) << id;
  EXPECT_TRUE(id.ends_with("-name.txt")) << id;
  EXPECT_EQ(id.find('/'), std::string::npos) << "the key gives the folder";
  EXPECT_TRUE(fs::is_regular_file(root_ / "sub" / id));
  EXPECT_EQ(fs::file_size(root_ / "sub" / id), 6u) << "pre-sized, left in place by Detach";
}

TEST_F(LocalResumeTest, ResumedWriteCompletesTheFile) {
  const std::string id = DetachedUpload("k");
  auto writer = backend_->ResumeChunkWriter("k", id, SpecOf(6), 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->WriteChunk(2, 3, checksum::AsBytes("def"), {}).ok());
  EXPECT_EQ((*writer)->Commit({}).status().code(), ErrorCode::kInvalidArgument)
      << "part 1 neither written nor adopted by this writer";
  (*writer)->AdoptPart(StoredPart{1, "", 3});
  ASSERT_TRUE((*writer)->Commit({}).ok());
  std::ifstream in(root_ / "k", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "abcdef");
  EXPECT_EQ(AllPaths(), (std::set<std::string>{"root", "root/k"}));
}

// After a power loss a pre-sized temporary file keeps its size but a checkpointed part may
// hold zeros: AdoptPartChecked reads the range back and refuses it, so the engine sends it again.
TEST_F(LocalResumeTest, ZeroedAdoptedPartIsRefusedAndSentAgain) {
  const std::string id = DetachedUpload("k");  // part 1 = "abc", checkpointed with its CRC
  const uint32_t crc = checksum::Crc32c(checksum::AsBytes("abc"));
  {  // what the disk holds after the crash: the size, not the bytes
    std::fstream f(root_ / id, std::ios::in | std::ios::out | std::ios::binary);
    f.write("\0\0\0", 3);
  }
  auto writer = backend_->ResumeChunkWriter("k", id, SpecOf(6), 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_FALSE((*writer)->AdoptPartChecked(StoredPart{1, "", 3}, crc));
  EXPECT_FALSE((*writer)->AdoptPartChecked(StoredPart{3, "", 3}, crc)) << "beyond the object";
  ASSERT_TRUE((*writer)->WriteChunk(2, 3, checksum::AsBytes("def"), {}).ok());
  EXPECT_EQ((*writer)->Commit({}).status().code(), ErrorCode::kInvalidArgument)
      << "the zeroed part was not adopted";
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("abc"), {}).ok());  // sent again
  // ...and a part that did reach the disk is adopted.
  EXPECT_TRUE((*writer)->AdoptPartChecked(StoredPart{1, "", 3}, crc));
  ASSERT_TRUE((*writer)->Commit({}).ok());
  std::ifstream in(root_ / "k", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "abcdef");
}

TEST_F(LocalResumeTest, WritesAreFlushedBeforeAndAfterTheRenameUnlessTurnedOff) {
  const uint64_t before = local_internal::FsyncCallsForTest();
  ASSERT_TRUE(backend_->Put("a/put", checksum::AsBytes("x"), SpecOf(1), {}).ok());
  EXPECT_EQ(local_internal::FsyncCallsForTest() - before, 2u) << "the file, then its folder";
  const std::string id = DetachedUpload("a/chunked", 3);
  EXPECT_EQ(local_internal::FsyncCallsForTest() - before, 2u) << "parts are not flushed";
  auto writer = backend_->ResumeChunkWriter("a/chunked", id, SpecOf(3), 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->AdoptPartChecked(StoredPart{1, "", 3},
                                          checksum::Crc32c(checksum::AsBytes("abc"))));
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(local_internal::FsyncCallsForTest() - before, 4u) << "commit flushes as Put does";

  auto fast = LocalBackend::Open(root_.string(), false, LocalOptions{.fsync = false});
  ASSERT_TRUE(fast.ok());
  const uint64_t unsynced = local_internal::FsyncCallsForTest();
  ASSERT_TRUE((*fast)->Put("b", checksum::AsBytes("y"), SpecOf(1), {}).ok());
  EXPECT_EQ(local_internal::FsyncCallsForTest(), unsynced) << "--no-fsync";
}

// WriteSpec::defer_durability: no flush per file; Sync makes the batch durable with one syncfs
// of the file system (docs/design/storage.md), and only when something was written since.
TEST_F(LocalResumeTest, DeferredWritesAreFlushedTogetherBySync) {
  WriteSpec deferred = SpecOf(1);
  deferred.defer_durability = true;
  const uint64_t fsyncs = local_internal::FsyncCallsForTest();
  const uint64_t syncfs = local_internal::SyncfsCallsForTest();
  ASSERT_TRUE(backend_->Sync({}).ok());
  EXPECT_EQ(local_internal::SyncfsCallsForTest(), syncfs) << "nothing written: nothing flushed";
  for (const char* key : {"a/1", "a/2", "b/c/3"}) {
    ASSERT_TRUE(backend_->Put(key, checksum::AsBytes("x"), deferred, {}).ok());
  }
  WriteSpec chunked = SpecOf(3);
  chunked.defer_durability = true;
  auto writer = backend_->OpenChunkWriter("d/chunked", chunked, 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*writer)->WriteChunk(1, 0, checksum::AsBytes("abc"), {}).ok());
  ASSERT_TRUE((*writer)->Commit({}).ok());
  EXPECT_EQ(local_internal::FsyncCallsForTest(), fsyncs) << "no file or folder flushed";
  EXPECT_EQ(local_internal::SyncfsCallsForTest(), syncfs) << "not before Sync";
  ASSERT_TRUE(backend_->Sync({}).ok());
  EXPECT_EQ(local_internal::SyncfsCallsForTest() - syncfs, 1u) << "one file system, one flush";
  ASSERT_TRUE(backend_->Sync({}).ok());
  EXPECT_EQ(local_internal::SyncfsCallsForTest() - syncfs, 1u) << "nothing new since";
  // A write without the flag is flushed as it goes, and leaves nothing to Sync.
  ASSERT_TRUE(backend_->Put("e", checksum::AsBytes("y"), SpecOf(1), {}).ok());
  EXPECT_EQ(local_internal::FsyncCallsForTest() - fsyncs, 2u);
  ASSERT_TRUE(backend_->Sync({}).ok());
  EXPECT_EQ(local_internal::SyncfsCallsForTest() - syncfs, 1u);
  std::ifstream in(root_ / "d/chunked", std::ios::binary);
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "abc");

  auto fast = LocalBackend::Open(root_.string(), false, LocalOptions{.fsync = false});
  ASSERT_TRUE(fast.ok());
  ASSERT_TRUE((*fast)->Put("f", checksum::AsBytes("z"), deferred, {}).ok());
  ASSERT_TRUE((*fast)->Sync({}).ok());
  EXPECT_EQ(local_internal::SyncfsCallsForTest() - syncfs, 1u) << "--no-fsync flushes nothing";
}

TEST(LocalErrnoTest, FullDiskIsWorthRetryingAndSaysSo) {
  for (const int err : {ENOSPC, EDQUOT}) {
    Status s = local_internal::ErrnoStatus(err, "write", "/x/.ferry-tmp-1");
    EXPECT_EQ(s.code(), ErrorCode::kUnavailable) << s.ToString();
  }
  EXPECT_NE(local_internal::ErrnoStatus(ENOSPC, "write", "/x").message().find(
                "No space left on device"),
            std::string::npos);
  EXPECT_EQ(local_internal::ErrnoStatus(EIO, "write", "/x").code(), ErrorCode::kInternal);
}

TEST_F(LocalResumeTest, HostileOrForeignIdsNameNoUpload) {
  { std::ofstream(dir_ / ".ferry-tmp-0123456789abcdef-k") << "outside"; }
  const std::string id = DetachedUpload("a/k");
  for (const std::string bad :
       {"../.ferry-tmp-0123456789abcdef-k", ".ferry-tmp-x/../../k", "/etc/passwd", "", ".", "..",
        "k", ".ferry-tmp-0123456789abcdef-other"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(backend_->ResumeChunkWriter("a/k", bad, SpecOf(6), 3, {}).status().code(),
              ErrorCode::kNotFound);
    EXPECT_TRUE(backend_->AbortPendingUpload({"a/k", bad, {}}, {}).ok());
  }
  EXPECT_EQ(backend_->ResumeChunkWriter("../k", id, SpecOf(6), 3, {}).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(backend_->AbortPendingUpload({"../k", id, {}}, {}).code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(AllPaths(), (std::set<std::string>{".ferry-tmp-0123456789abcdef-k", "root", "root/a",
                                               "root/a/" + id}));
}

TEST_F(LocalResumeTest, SymbolicLinkWithATemporaryNameIsNotResumed) {
  { std::ofstream(dir_ / "target") << "abcdef"; }
  fs::create_symlink(dir_ / "target", root_ / ".ferry-tmp-0123456789abcdef-k");
  EXPECT_EQ(backend_->ResumeChunkWriter("k", ".ferry-tmp-0123456789abcdef-k", SpecOf(6), 3, {})
                .status()
                .code(),
            ErrorCode::kNotFound);
  auto pending = backend_->ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok());
  EXPECT_TRUE(pending->empty()) << "links are not temporary files";
}

TEST_F(LocalResumeTest, FileOfAnotherSizeIsRemovedAndNotFound) {
  const std::string id = DetachedUpload("k", 6);
  auto writer = backend_->ResumeChunkWriter("k", id, SpecOf(7), 3, {});
  EXPECT_EQ(writer.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(AllPaths(), (std::set<std::string>{"root"})) << "it could never be completed";
}

TEST_F(LocalResumeTest, LongNamesAreNotRecordedButStillResumeAndAbort) {
  const std::string name(240, 'n');
  const std::string id = DetachedUpload("d/" + name);
  EXPECT_EQ(id.size(), 11u + 16u) << id;
  auto pending = backend_->ListPendingUploads("", {});
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 1u);
  EXPECT_EQ(pending->front().key, "d/") << "the folder alone";
  EXPECT_EQ(backend_->ListPendingUploads("d/n", {})->size(), 0u) << "the name is unknown";
  auto writer = backend_->ResumeChunkWriter("d/" + name, id, SpecOf(6), 3, {});
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  (*writer)->Detach();
  ASSERT_TRUE(backend_->AbortPendingUpload(pending->front(), {}).ok());
  EXPECT_EQ(AllPaths(), (std::set<std::string>{"root"})) << "the emptied folder goes too";
}

TEST_F(LocalResumeTest, LeftoversOfPutAreListedWithTheirMtime) {
  const fs::path leftover = root_ / "x" / ".ferry-tmp-0123456789abcdef-y.bin";
  fs::create_directories(leftover.parent_path());
  { std::ofstream(leftover) << "partial"; }
  { std::ofstream(root_ / "x" / ".ferry-tmp-deadbeef") << "old-style"; }
  struct timespec times[2] = {{0, UTIME_OMIT}, {1'600'000'000, 5}};
  ASSERT_EQ(::utimensat(AT_FDCWD, leftover.c_str(), times, 0), 0);
  auto pending = backend_->ListPendingUploads("x/", {});
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].key, "x/") << "sorted by key; the old style records no name";
  EXPECT_EQ((*pending)[0].upload_id, ".ferry-tmp-deadbeef");
  EXPECT_EQ((*pending)[1].key, "x/y.bin");
  EXPECT_EQ((*pending)[1].upload_id, ".ferry-tmp-0123456789abcdef-y.bin");
  EXPECT_EQ((*pending)[1].started.time_since_epoch(),
            std::chrono::duration_cast<std::chrono::system_clock::duration>(
                std::chrono::seconds(1'600'000'000) + std::chrono::nanoseconds(5)));
  EXPECT_TRUE(backend_->ListPendingUploads("y", {})->empty());
  EXPECT_TRUE(backend_->ListPendingUploads("../", {})->empty());
}

}  // namespace
}  // namespace ferry::storage
