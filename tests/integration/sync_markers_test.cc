// Keys a local folder cannot hold as they are, and local entries that cannot be read:
//  * S3 folder markers ("dir/", and one named like the location's prefix) synced to a folder
//    are skipped and counted, never a failure, so `sync --delete` keeps deleting;
//  * a dangling symbolic link and a folder that cannot be listed fail the run and keep their
//    copies at the destination (no deletes);
//  * a file and a folder of one name trading places converge in two `sync --delete` runs;
//  * a resumed local upload whose checkpointed part holds zeros (power loss) sends it again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "checksum/checksum.h"
#include "storage/local/local_backend.h"
#include "storage/memory/memory_backend.h"
#include "tests/integration/rgw_fixture.h"
#include "transfer/engine.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

class SyncMarkersTest : public RgwTest {
 protected:
  void SetUp() override {
    RgwTest::SetUp();
    root_ = fs::temp_directory_path() /
            ("ferry-markers-it-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    storage::LocalBackend::SetListFaultForTest(nullptr);
    RgwTest::TearDown();
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  void Write(const fs::path& p, const std::string& body) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << body;
  }
  std::string Read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  std::unique_ptr<storage::Backend> Local(const fs::path& p) {
    auto b = storage::LocalBackend::Open(p.string(), true);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    return std::unique_ptr<storage::Backend>(std::move(b).value());
  }
  static transfer::SyncOptions DeleteOptions() {
    transfer::SyncOptions o = DefaultOptions();
    o.delete_extra = true;
    o.transfer.decide.delete_extra = true;
    return o;
  }
  // Every file under `dir`, relative, sorted.
  static std::vector<std::string> Files(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_directory()) out.push_back(fs::relative(e.path(), dir).string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  fs::path root_;
};

TEST_F(SyncMarkersTest, FolderMarkersToAFolderAreSkippedAndDeletesStillRun) {
  const std::string bucket = NewBucket(0);
  for (const char* marker : {"data/", "data/dir/", "data/dir/sub/", "data/empty/"}) {
    PutObject(0, bucket, marker, "");
  }
  PutObject(0, bucket, "data/b.txt", "B");
  PutObject(0, bucket, "data/dir/a.txt", "A");
  PutObject(0, bucket, "data/dir/sub/c.txt", "C");
  auto s3 = S3(0, bucket, "data/");
  const fs::path down = root_ / "down";
  Write(down / "stale.txt", "only here: deleted by --delete");
  auto local = Local(down);
  for (int run = 1; run <= 2; ++run) {
    SCOPED_TRACE("run " + std::to_string(run));
    Outcome out = Sync(*s3, *local, DeleteOptions());
    EXPECT_EQ(out.failed(), 0u);
    EXPECT_FALSE(out.result.deletes_skipped);
    EXPECT_EQ(out.copied(), run == 1 ? 3u : 0u);
    EXPECT_EQ(out.stats->objects_deleted.load(), run == 1 ? 1u : 0u);
    EXPECT_EQ(out.stats->markers_skipped.load(), 4u) << "\"\", dir/, dir/sub/, empty/";
  }
  EXPECT_EQ(Files(down), (std::vector<std::string>{"b.txt", "dir/a.txt", "dir/sub/c.txt"}));
  EXPECT_EQ(Read(down / "dir/sub/c.txt"), "C");
  // The other way a folder lists no markers: S3's stay (without --delete) and nothing copies.
  EXPECT_EQ(Sync(*local, *s3).copied(), 0u);
  auto keys = Keys(0, bucket);
  EXPECT_EQ(std::count(keys.begin(), keys.end(), "data/dir/"), 1);
}

// A key ending in '/' that holds bytes cannot be a file: it fails, alone, naming itself.
TEST_F(SyncMarkersTest, NonEmptyKeyEndingInSlashFailsClearly) {
  const std::string bucket = NewBucket(0);
  PutObject(0, bucket, "odd/", "not empty");
  PutObject(0, bucket, "fine.txt", "F");
  auto s3 = S3(0, bucket);
  auto local = Local(root_ / "down");
  Outcome out = Sync(*s3, *local, DefaultOptions(), {}, /*allow_failures=*/true);
  EXPECT_EQ(out.copied(), 1u);
  ASSERT_EQ(out.failed(), 1u);
  const transfer::Failure f = out.stats->KeptFailures().at(0);
  EXPECT_EQ(f.key, "odd/");
  EXPECT_EQ(f.status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(f.status.message().find("\"odd/\" (9 bytes)"), std::string::npos) << f.status.ToString();
  EXPECT_EQ(out.stats->markers_skipped.load(), 0u);
}

// Entries of a local source that cannot be read are failures, not absences: their copies at
// the destination are neither overwritten nor deleted, and the run deletes nothing.
TEST_F(SyncMarkersTest, UnreadableLocalEntriesKeepTheirDestinationCopies) {
  const fs::path up = root_ / "up";
  Write(up / "keep.txt", "new");
  Write(up / "sub/inner.txt", "inner");
  fs::create_symlink(up / "nowhere", up / "dangling");
  const std::string bucket = NewBucket(0);
  PutObject(0, bucket, "dangling", "old copy of the link's target");
  PutObject(0, bucket, "sub/inner.txt", "inner copy");
  PutObject(0, bucket, "sub/other.txt", "other copy");
  PutObject(0, bucket, "gone.txt", "destination only");
  // Root reads every folder: the seam makes "sub/" fail to open as EACCES would.
  storage::LocalBackend::SetListFaultForTest(
      [](std::string_view rel) { return rel == "sub/" ? EACCES : 0; });
  auto local = Local(up);
  auto s3 = S3(0, bucket);
  Outcome out = Sync(*local, *s3, DeleteOptions(), {}, /*allow_failures=*/true);
  EXPECT_EQ(out.copied(), 1u) << "keep.txt";
  EXPECT_TRUE(out.result.deletes_skipped);
  std::vector<std::string> failed;
  for (const auto& f : out.stats->KeptFailures()) failed.push_back(f.key);
  std::sort(failed.begin(), failed.end());
  EXPECT_EQ(failed, (std::vector<std::string>{"dangling", "sub/"}));
  for (const auto& f : out.stats->KeptFailures()) {
    const std::string expected =
        f.key == "dangling" ? "symbolic link whose target does not exist" : "Permission denied";
    EXPECT_NE(f.status.message().find(expected), std::string::npos) << f.status.ToString();
  }
  EXPECT_EQ(Keys(0, bucket), (std::vector<std::string>{"dangling", "gone.txt", "keep.txt",
                                                       "sub/inner.txt", "sub/other.txt"}));
  EXPECT_EQ(GetObject(0, bucket, "dangling"), "old copy of the link's target");
}

// Source "a" is a file where the destination folder has "a/..." (and the reverse): the first
// sync --delete deletes the old entries and leaves the copy for the next run, which makes it.
TEST_F(SyncMarkersTest, FileAndFolderTradingPlacesConvergeInTwoRuns) {
  const fs::path up = root_ / "up";
  const fs::path down = root_ / "down";
  Write(up / "a", "now a file");
  Write(up / "a-b", "between a and a/");
  Write(up / "b/c", "now in a folder");
  Write(down / "a/x", "old");
  Write(down / "a/y/z", "old");
  Write(down / "b", "old file");
  auto src = Local(up);
  auto dst = Local(down);
  Outcome first = Sync(*src, *dst, DeleteOptions());
  EXPECT_EQ(first.failed(), 0u);
  EXPECT_EQ(first.stats->conflicts_deferred.load(), 2u);
  EXPECT_EQ(first.stats->objects_deleted.load(), 3u);
  EXPECT_EQ(Files(down), (std::vector<std::string>{"a-b"}));
  Outcome second = Sync(*src, *dst, DeleteOptions());
  EXPECT_EQ(second.failed(), 0u);
  EXPECT_EQ(second.copied(), 2u);
  EXPECT_EQ(second.stats->conflicts_deferred.load(), 0u);
  EXPECT_EQ(Files(down), (std::vector<std::string>{"a", "a-b", "b/c"}));
  EXPECT_EQ(Read(down / "a"), "now a file");
  EXPECT_EQ(Sync(*src, *dst, DeleteOptions()).copied(), 0u);

  // Without --delete nothing is deleted: the clash fails with a message naming it.
  Write(up / "d", "file");
  Write(down / "d/e", "kept");
  Outcome plain = Sync(*src, *dst, DefaultOptions(), {}, /*allow_failures=*/true);
  ASSERT_EQ(plain.failed(), 1u);
  EXPECT_NE(plain.stats->KeptFailures()[0].status.message().find(
                "cannot write key \"d\": a folder with that name exists"),
            std::string::npos)
      << plain.stats->KeptFailures()[0].status.ToString();
}

// The journal of a resumed multipart copy says part 1 was written, but a power loss left the
// local temporary file with zeros there: the engine sends the part again.
class OnePartJournal : public transfer::UploadJournal {
 public:
  explicit OnePartJournal(Upload upload) : upload_(std::move(upload)) {}
  Result<std::optional<Upload>> Load() override { return std::optional<Upload>(upload_); }
  Status Creating(const std::string&) override { return Status::Ok(); }
  Status Begin(const std::string&, uint64_t, const std::string&) override { return Status::Ok(); }
  Status PartDone(const Part&) override { return Status::Ok(); }
  Status Clear() override { return Status::Ok(); }

 private:
  Upload upload_;
};

TEST_F(SyncMarkersTest, ResumedLocalUploadSendsAZeroedPartAgain) {
  const uint64_t part = 5u << 20;
  const std::string body = RandomBytes(2 * part + 100, 7);
  for (const bool zeroed : {false, true}) {
    SCOPED_TRACE(zeroed ? "zeroed" : "intact");
    storage::MemoryBackend src;
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(src.Put("big", checksum::AsBytes(body), spec, {}).ok());
    const fs::path down = root_ / (zeroed ? "zeroed" : "intact");
    auto dst = Local(down);
    // What a killed run left: part 1 written and checkpointed with its CRC, then detached.
    auto writer = dst->OpenChunkWriter("big", spec, part, {});
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    const auto first = checksum::AsBytes(body).subspan(0, part);
    ASSERT_TRUE((*writer)->WriteChunk(1, 0, first, {}).ok());
    (*writer)->Detach();
    const std::string id = (*writer)->upload_id();
    if (zeroed) {
      std::fstream f(down / id, std::ios::in | std::ios::out | std::ios::binary);
      const std::string zeros(part, '\0');
      f.write(zeros.data(), static_cast<std::streamsize>(zeros.size()));
    }
    auto listed = src.Stat("big", false, {});
    ASSERT_TRUE(listed.ok());
    transfer::UploadJournal::Upload recorded;
    recorded.upload_id = id;
    recorded.part_size = part;
    recorded.source = transfer::SourcePin(
        listed->etag, listed->version_id, listed->size,
        std::chrono::duration_cast<std::chrono::nanoseconds>(listed->mtime.time_since_epoch())
            .count());
    recorded.parts.push_back({});
    recorded.parts[0].part_number = 1;
    recorded.parts[0].crc32c = checksum::Crc32c(first);
    recorded.parts[0].size = part;
    auto journal = std::make_shared<OnePartJournal>(recorded);
    transfer::Stats stats;
    const transfer::SyncOptions options = DefaultOptions();
    {
      transfer::Executor executor(options.executor);
      transfer::TransferEngine engine(executor, options.transfer, src, *dst, stats);
      transfer::CopyRequest request;
      request.src = *listed;
      request.journal = journal;
      engine.Copy(std::move(request));
      engine.Wait();
    }
    EXPECT_EQ(stats.failures(), 0u);
    EXPECT_EQ(stats.parts_resumed.load(), zeroed ? 0u : 1u);
    EXPECT_EQ(Read(down / "big"), body);
  }
}

}  // namespace
}  // namespace ferry::testing
