// Every fuzz target over its seed corpus and over each input that once broke it, in every build
// (and under ASan/UBSan in the sanitizer build): a regression comes back as a failing (crashing)
// test here, without libFuzzer.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "fuzz/fuzz_target.h"

namespace ferry::fuzz {
namespace {

namespace fs = std::filesystem;

std::vector<fs::path> FilesUnder(const fs::path& dir) {
  std::vector<fs::path> files;
  if (!fs::is_directory(dir)) return files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

// the target's name in test names and failures, not its bytes
void PrintTo(const Target& t, std::ostream* os) { *os << t.name; }

namespace {

class FuzzReplayTest : public ::testing::TestWithParam<Target> {};

TEST_P(FuzzReplayTest, SeedsAndRegressionsRunClean) {
  const Target& t = GetParam();
  const fs::path root = FERRY_FUZZ_DIR;
  const auto seeds = FilesUnder(root / "corpus" / t.name);
  ASSERT_FALSE(seeds.empty()) << "fuzz/corpus/" << t.name << " has no seed";
  auto inputs = seeds;
  for (auto& p : FilesUnder(root / "regressions" / t.name)) inputs.push_back(p);
  for (const fs::path& p : inputs) {
    SCOPED_TRACE(p.string());
    const std::string bytes = ReadFile(p);
    EXPECT_EQ(t.fn(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), 0);
  }
  // the empty input and a lone byte, which seeds rarely are
  EXPECT_EQ(t.fn(nullptr, 0), 0);
  const uint8_t one = 0xff;
  EXPECT_EQ(t.fn(&one, 1), 0);
}

INSTANTIATE_TEST_SUITE_P(Targets, FuzzReplayTest, ::testing::ValuesIn(AllTargets().begin(),
                                                                       AllTargets().end()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ferry::fuzz
