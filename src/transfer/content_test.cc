// --checksum compares content where no stored checksum tells it: local folders on both sides
// (a same-size edit that keeps the mtime is found), and content equal although times differ.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <utime.h>

#include <filesystem>
#include <fstream>

#include "storage/local/local_backend.h"
#include "transfer/memory_fixture.h"
#include "transfer/sync.h"

namespace ferry::transfer {
namespace {

namespace fs = std::filesystem;

class ContentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (fs::temp_directory_path() / "ferry-content-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    root_ = pattern;
    fs::create_directories(root_ / "src");
    fs::create_directories(root_ / "dst");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(const std::string& side, const std::string& name, const std::string& body,
             time_t mtime) {
    const fs::path p = root_ / side / name;
    std::ofstream(p, std::ios::binary) << body;
    struct utimbuf t{mtime, mtime};
    ASSERT_EQ(::utime(p.c_str(), &t), 0);
  }
  std::string Read(const std::string& side, const std::string& name) {
    std::ifstream in(root_ / side / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  void Sync(bool checksum, Stats& stats) {
    auto src = storage::LocalBackend::Open((root_ / "src").string(), false);
    auto dst = storage::LocalBackend::Open((root_ / "dst").string(), false);
    EXPECT_TRUE(src.ok() && dst.ok());
    SyncOptions o;
    o.executor.concurrency = 2;
    o.executor.memory_budget = 1 << 20;
    o.transfer.part_size = 64 << 10;
    o.transfer.decide.checksum = checksum;
    SyncResult r = testing::SyncOnOwnExecutor(**src, **dst, o, stats, {});
    EXPECT_TRUE(r.status.ok()) << r.status.ToString();
  }

  fs::path root_;
};

TEST_F(ContentTest, ChecksumFindsASameSizeEditThatKeptTheMtime) {
  Write("src", "a", "new content", 1'700'000'000);
  Write("dst", "a", "old content", 1'700'000'000);  // same size, same mtime
  Write("src", "b", "same bytes", 1'700'000'000);
  Write("dst", "b", "same bytes", 1'600'000'000);  // same bytes, other mtime
  Stats plain;
  Sync(false, plain);
  EXPECT_EQ(Read("dst", "a"), "old content");  // without --checksum, times decide
  Stats with;
  Sync(true, with);
  EXPECT_EQ(with.failures(), 0u);
  EXPECT_EQ(Read("dst", "a"), "new content");
  EXPECT_EQ(with.objects_copied.load(), 1u);   // only "a": "b" has the same content
  EXPECT_EQ(with.objects_skipped.load(), 1u);
  Stats again;
  Sync(true, again);
  EXPECT_EQ(again.objects_copied.load(), 0u);
}

}  // namespace
}  // namespace ferry::transfer
