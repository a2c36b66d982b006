// ferry sync between a local folder and RGW in both directions: content, mtimes, re-syncs,
// same-size edits, hostile keys that cannot become files, and a folder that never escapes.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "storage/local/local_backend.h"
#include "tests/integration/rgw_fixture.h"

namespace ferry::testing {
namespace {

namespace fs = std::filesystem;

class SyncLocalTest : public RgwTest {
 protected:
  void SetUp() override {
    RgwTest::SetUp();
    root_ = fs::temp_directory_path() /
            ("ferry-local-it-" + std::to_string(getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
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
  fs::path root_;
};

TEST_F(SyncLocalTest, LocalToS3ToLocalRoundTripKeepsBytesAndMtimes) {
  const fs::path up = root_ / "up";
  Write(up / "a.txt", "alpha");
  Write(up / "dir one/b+c%d.bin", RandomBytes(300000, 1));
  Write(up / "ünï/çødé.txt", "unicode");
  Write(up / "zero", "");
  Write(up / "big.bin", RandomBytes(10u << 20, 2));  // multipart (threshold 8 MiB)
  const std::string bucket = NewBucket(0);
  auto s3 = S3(0, bucket, "backup/");
  auto local_up = Local(up);
  EXPECT_EQ(Sync(*local_up, *s3).copied(), 5u);
  auto keys = Keys(0, bucket);
  EXPECT_EQ(keys, (std::vector<std::string>{"backup/a.txt", "backup/big.bin",
                                            "backup/dir one/b+c%d.bin", "backup/zero",
                                            "backup/ünï/çødé.txt"}));
  EXPECT_EQ(Sync(*local_up, *s3).copied(), 0u) << "no-change re-sync";

  const fs::path down = root_ / "down";
  auto local_down = Local(down);
  EXPECT_EQ(Sync(*s3, *local_down).copied(), 5u);
  for (const char* k : {"a.txt", "dir one/b+c%d.bin", "ünï/çødé.txt", "zero", "big.bin"}) {
    EXPECT_EQ(Read(down / k), Read(up / k)) << k;
    // The original file's mtime travels through S3 (x-amz-meta-ferry-mtime) back to disk.
    EXPECT_EQ(fs::last_write_time(down / k), fs::last_write_time(up / k)) << k;
  }
  EXPECT_EQ(Sync(*s3, *local_down).copied(), 0u) << "no-change re-sync to local";
}

TEST_F(SyncLocalTest, SameSizeLocalEditIsDetected) {
  const fs::path up = root_ / "up";
  for (int i = 0; i < 10; ++i) Write(up / ("f" + std::to_string(i)), "content-" + std::to_string(i));
  const std::string bucket = NewBucket(1);
  auto s3 = S3(1, bucket);
  auto local = Local(up);
  EXPECT_EQ(Sync(*local, *s3).copied(), 10u);
  Write(up / "f3", "CONTENT-3");  // same size; mtime moves forward
  const auto later = std::chrono::system_clock::now() + std::chrono::seconds(5);
  fs::last_write_time(up / "f3", fs::file_time_type::clock::now() + std::chrono::seconds(5));
  (void)later;
  EXPECT_EQ(Sync(*local, *s3).copied(), 1u);
  EXPECT_EQ(GetObject(1, bucket, "f3"), "CONTENT-3");
}

TEST_F(SyncLocalTest, KeysThatCannotBeFilesFailAloneAndNothingEscapesTheRoot) {
  const std::string bucket = NewBucket(0);
  PutObject(0, bucket, "../escape", "evil");
  PutObject(0, bucket, "a/../../escape2", "evil");
  PutObject(0, bucket, "ok/file", "good");
  PutObject(0, bucket, "dir-marker/", "");
  auto s3 = S3(0, bucket);
  const fs::path down = root_ / "inner" / "down";
  auto local = Local(down);
  Outcome out = Sync(*s3, *local, DefaultOptions(), {}, /*allow_failures=*/true);
  EXPECT_EQ(out.copied(), 1u);
  EXPECT_EQ(out.failed(), 2u);
  EXPECT_EQ(out.stats->markers_skipped.load(), 1u) << "an empty folder marker is no failure";
  for (const auto& f : out.stats->KeptFailures()) {
    EXPECT_EQ(f.status.code(), ErrorCode::kInvalidArgument) << f.status.ToString();
  }
  EXPECT_EQ(Read(down / "ok/file"), "good");
  EXPECT_FALSE(fs::exists(root_ / "inner" / "escape"));
  EXPECT_FALSE(fs::exists(root_ / "escape2"));
  EXPECT_FALSE(fs::exists(root_ / "inner" / "escape2"));
}

TEST_F(SyncLocalTest, DeleteOnLocalDestinationIsSkippedWhenACopyFailed) {
  const std::string bucket = NewBucket(0);
  PutObject(0, bucket, "../bad", "x");
  PutObject(0, bucket, "good", "y");
  const fs::path down = root_ / "down";
  Write(down / "extra", "keep me: the run had a failure");
  auto s3 = S3(0, bucket);
  auto local = Local(down);
  transfer::SyncOptions o = DefaultOptions();
  o.delete_extra = true;
  o.transfer.decide.delete_extra = true;
  Outcome out = Sync(*s3, *local, o, {}, /*allow_failures=*/true);
  EXPECT_EQ(out.failed(), 1u);
  EXPECT_TRUE(out.result.deletes_skipped);
  EXPECT_TRUE(fs::exists(down / "extra"));
}

// Content headers, user metadata and tags survive S3 -> folder -> S3 (the folder keeps them in
// extended attributes), for a small object and a multipart one, and so does ferry's checksum.
TEST_F(SyncLocalTest, MetadataAndTagsSurviveAFolderInBetween) {
  const std::string a = NewBucket(0);
  const std::string b = NewBucket(1);
  auto src = S3(0, a);
  storage::WriteSpec spec;
  spec.metadata = {{"owner", "bob"}, {"project", "x y"}};
  spec.content.content_type = "text/csv";
  spec.content.cache_control = "max-age=60";
  spec.content.content_disposition = "attachment; filename=\"r.csv\"";
  spec.tags = storage::Tags{{"team", "data"}, {"tier", "gold"}};
  const std::string small = "a,b\n1,2\n";
  const std::string big = RandomBytes(10u << 20, 3);  // multipart both ways (threshold 8 MiB)
  for (const auto& [key, body] : {std::pair{"small.csv", &small}, std::pair{"dir/big.bin", &big}}) {
    spec.size = body->size();
    ASSERT_TRUE(src->Put(key, std::as_bytes(std::span(*body)), spec, {}).ok()) << key;
  }
  const fs::path mid = root_ / "mid";
  auto local = Local(mid);
  EXPECT_EQ(Sync(*src, *local).copied(), 2u);
  auto dst = S3(1, b);
  EXPECT_EQ(Sync(*local, *dst).copied(), 2u);
  for (const char* key : {"small.csv", "dir/big.bin"}) {
    auto before = src->Stat(key, true, {});
    auto after = dst->Stat(key, true, {});
    ASSERT_TRUE(before.ok() && after.ok()) << key;
    EXPECT_EQ(after->metadata.at("owner"), "bob") << key;
    EXPECT_EQ(after->metadata.at("project"), "x y") << key;
    EXPECT_EQ(after->content.content_type, "text/csv") << key;
    EXPECT_EQ(after->content.cache_control, "max-age=60") << key;
    EXPECT_EQ(after->content.content_disposition, spec.content.content_disposition) << key;
    ASSERT_TRUE(after->tags.has_value()) << key;
    storage::Tags tags = *after->tags;
    std::sort(tags.begin(), tags.end());
    EXPECT_EQ(tags, *spec.tags) << key;
    ASSERT_TRUE(after->crc32c().has_value()) << key;
    auto local_info = local->Stat(key, false, {});
    ASSERT_TRUE(local_info.ok());
    EXPECT_EQ(local_info->crc32c(), after->crc32c()) << key << ": the folder kept the checksum";
  }
  EXPECT_EQ(GetObject(1, b, "dir/big.bin"), big);
  EXPECT_EQ(Sync(*local, *dst).copied(), 0u) << "no-change re-sync";
}

}  // namespace
}  // namespace ferry::testing
