#include "verify/versions.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "storage/memory/memory_backend.h"

namespace ferry::verify {
namespace {

storage::ObjectInfo V(uint64_t size, std::string etag) {
  storage::ObjectInfo o;
  o.key = "k";
  o.size = size;
  o.etag = std::move(etag);
  return o;
}
storage::ObjectInfo Marker() {
  storage::ObjectInfo o;
  o.key = "k";
  o.delete_marker = true;
  return o;
}

const std::string kA = "0123456789abcdef0123456789abcdef";
const std::string kB = "fedcba9876543210fedcba9876543210";

TEST(CompareHistoriesTest, OrderCountsSizesEtagsAndMarkers) {
  std::vector<storage::ObjectInfo> s = {Marker(), V(3, kA), V(4, kB)};
  EXPECT_EQ(CompareHistories(s, s).verdict, Verdict::kIdentical);
  std::vector<storage::ObjectInfo> fewer = {Marker(), V(3, kA)};
  auto v = CompareHistories(s, fewer);
  EXPECT_EQ(v.verdict, Verdict::kDiffer);
  EXPECT_EQ(v.reason, "versions: 3 in SRC, 2 in DST");
  std::vector<storage::ObjectInfo> swapped = {Marker(), V(4, kB), V(3, kA)};
  EXPECT_EQ(CompareHistories(s, swapped).reason, "versions: #2 (newest = #1) size");
  std::vector<storage::ObjectInfo> no_marker = {V(1, kA), V(3, kA), V(4, kB)};
  EXPECT_EQ(CompareHistories(s, no_marker).reason, "versions: #1 (newest = #1) delete marker");
  std::vector<storage::ObjectInfo> other_md5 = {Marker(), V(3, kB), V(4, kB)};
  EXPECT_EQ(CompareHistories(s, other_md5).reason, "versions: #2 (newest = #1) md5");
  std::vector<storage::ObjectInfo> layout = {Marker(), V(3, kB + "-2"), V(4, kB)};
  EXPECT_EQ(CompareHistories(s, layout).verdict, Verdict::kSizeOnly);
}

void Put(storage::MemoryBackend& b, const std::string& key, const std::string& data) {
  storage::WriteSpec spec;
  spec.size = data.size();
  ASSERT_TRUE(b.Put(key, checksum::AsBytes(data), spec, {}).ok());
}

std::string RunToText(storage::Backend& src, storage::Backend& dst, Counts* counts) {
  std::FILE* f = std::tmpfile();
  Report report(f, false);
  EXPECT_TRUE(RunVerifyVersions(src, dst, report, {}).ok());
  *counts = report.counts();
  std::rewind(f);
  std::string out;
  char buf[256];
  while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
  std::fclose(f);
  return out;
}

TEST(RunVerifyVersionsTest, HistoriesOfTwoVersionedStores) {
  storage::MemoryBackend::Options o;
  o.versioned = true;
  storage::MemoryBackend src(o), dst(o);
  for (auto* b : {&src, &dst}) {
    Put(*b, "a", "one");
    Put(*b, "a", "two");
    ASSERT_TRUE(b->Delete("a", {}).ok());
    Put(*b, "b", "x");
  }
  Put(src, "b", "y");  // DST lacks b's newest version
  Put(src, "c", "c");
  Put(dst, "d", "d");
  Counts c;
  const std::string out = RunToText(src, dst, &c);
  EXPECT_EQ(out, "= a\n* b\n- c\n+ d\n");
  EXPECT_EQ(c.identical, 1u);
  EXPECT_EQ(c.differ, 1u);
}

TEST(RunVerifyVersionsTest, ALocalFolderHasNoVersions) {
  storage::MemoryBackend a;
  struct NoVersions : storage::MemoryBackend {
    Result<std::unique_ptr<storage::ListingCursor>> ListVersions(std::string_view,
                                                                 std::string_view,
                                                                 std::string_view) override {
      return Status::NotSupported("no versions");
    }
  } b;
  Report r(nullptr, false);
  EXPECT_EQ(RunVerifyVersions(a, b, r, {}).code(), ErrorCode::kNotSupported);
}

}  // namespace
}  // namespace ferry::verify
