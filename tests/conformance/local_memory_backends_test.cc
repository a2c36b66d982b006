// Runs the Backend conformance suite against MemoryBackend and LocalBackend (a fresh temporary
// folder per test), plus the LocalBackend-only checks that hostile keys never reach outside
// the folder.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "conformance/backend_factory.h"
#include "storage/key.h"
#include "storage/local/local_backend.h"
#include "storage/memory/memory_backend.h"
#include "storage/memory/unordered_backend.h"

namespace ferry::conformance {
namespace {

namespace fs = std::filesystem;
using storage::LocalBackend;
using storage::MemoryBackend;

// A new temporary folder; "" (and a test failure) when it cannot be made.
fs::path MakeTempDir() {
  std::string pattern = (fs::temp_directory_path() / "ferry-conformance-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed";
    return {};
  }
  return pattern;
}

// A LocalBackend on `root` that removes `dir` (which holds the root) when destroyed.
class TempLocalBackend : public LocalBackend {
 public:
  TempLocalBackend(fs::path dir, const fs::path& root)
      : LocalBackend(root.string()), dir_(std::move(dir)) {}
  ~TempLocalBackend() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

 private:
  fs::path dir_;
};

std::unique_ptr<storage::Backend> NewTempLocalBackend() {
  fs::path dir = MakeTempDir();
  fs::path root = dir / "root";
  std::error_code ec;
  fs::create_directory(root, ec);
  return std::make_unique<TempLocalBackend>(std::move(dir), root);
}

BackendFactory MemoryFactory() {
  BackendFactory f;
  f.name = "Memory";
  f.make = [] { return std::make_unique<MemoryBackend>(); };  // S3's part limits
  return f;
}

BackendFactory VersionedMemoryFactory() {
  BackendFactory f;
  f.name = "VersionedMemory";
  f.make = [] {
    MemoryBackend::Options o;
    o.versioned = true;
    return std::make_unique<MemoryBackend>(o);
  };
  return f;
}

// Lists like an S3 Express directory bucket: out of order, no start-after, no versions.
BackendFactory UnorderedMemoryFactory() {
  BackendFactory f;
  f.name = "UnorderedMemory";
  f.make = [] { return std::make_unique<storage::UnorderedMemoryBackend>(); };
  f.lists_versions = false;
  return f;
}

BackendFactory LocalFactory() {
  BackendFactory f;
  f.name = "Local";
  f.make = NewTempLocalBackend;
  f.hierarchical = true;
  f.keeps_write_mtime = true;
  f.lists_stored_parts = false;
  f.lists_versions = false;
  return f;
}

INSTANTIATE_TEST_SUITE_P(Stores, BackendConformanceTest,
                         ::testing::Values(MemoryFactory(), VersionedMemoryFactory(),
                                           UnorderedMemoryFactory(), LocalFactory()),
                         FactoryName);

TEST(LocalBackendSafetyTest, HostileKeysAreRefusedAndNothingAppearsOutsideTheRoot) {
  const fs::path dir = MakeTempDir();
  const fs::path root = dir / "inner" / "root";
  fs::create_directories(root);
  auto opened = LocalBackend::Open(root.string(), /*create=*/false);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  LocalBackend& local = **opened;
  const std::string escape_target = (dir / "inner" / "escaped").string();
  using namespace std::string_literals;
  const std::vector<std::string> hostile = {"../x",
                                            "../../x",
                                            "a/../../x",
                                            "a/../../escaped",
                                            "/etc/passwd",
                                            escape_target,
                                            "a\0b"s,
                                            "a//b",
                                            "./x",
                                            "x/.",
                                            "dir/",
                                            "..",
                                            ".",
                                            "",
                                            std::string(1025, 'k')};
  storage::WriteSpec spec;
  spec.size = 4;
  const auto data = checksum::AsBytes("evil");
  std::string buf(4, '\0');
  const auto out = std::as_writable_bytes(std::span(buf));
  for (const std::string& key : hostile) {
    SCOPED_TRACE("key " + storage::PrintableKey(key));
    EXPECT_EQ(local.Put(key, data, spec, {}).status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(local.OpenChunkWriter(key, spec, 4, {}).status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(local.Stat(key, false, {}).status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(local.ReadAt(key, 0, out, "", {}).code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(local.ReadObject(key, out, "", {}).status().code(), ErrorCode::kInvalidArgument);
    EXPECT_EQ(local.Delete(key, {}).code(), ErrorCode::kInvalidArgument);
  }
  // Only the folders made above exist: nothing was written inside or outside the root.
  std::vector<std::string> paths;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    paths.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(paths.begin(), paths.end());
  EXPECT_EQ(paths, (std::vector<std::string>{"inner", "inner/root"}));
  std::error_code ec;
  fs::remove_all(dir, ec);
}

TEST(LocalBackendSafetyTest, ListingWithAHostilePrefixStaysInside) {
  const fs::path dir = MakeTempDir();
  fs::create_directories(dir / "root");
  { std::ofstream(dir / "outside.txt") << "secret"; }
  LocalBackend local((dir / "root").string());
  for (const char* prefix : {"../", "../outside", "/", "/etc/", "./", "a/../../"}) {
    auto cursor = local.List(prefix);
    ASSERT_TRUE(cursor.ok()) << prefix;
    auto next = (*cursor)->Next();
    ASSERT_TRUE(next.ok()) << prefix;
    EXPECT_EQ(*next, nullptr) << prefix;
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace ferry::conformance
