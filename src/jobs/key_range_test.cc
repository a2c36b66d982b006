#include "jobs/key_range.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"

namespace ferry::jobs {
namespace {

using Keys = std::vector<std::string>;

class FindSplitTest : public ::testing::Test {
 protected:
  void Put(const Keys& keys) {
    for (const std::string& k : keys) {
      storage::WriteSpec spec;
      ASSERT_TRUE(backend_.Put(k, {}, spec, {}).ok()) << k;
      keys_.push_back(k);
    }
    std::sort(keys_.begin(), keys_.end());
  }

  // Keys of `range`, from the test's own copy.
  Keys In(const KeyRange& range) const {
    Keys out;
    for (const std::string& k : keys_) {
      if (k > range.start_after && range.BeforeEnd(k)) out.push_back(k);
    }
    return out;
  }

  // Splits the rest of `range` and checks the contract: both sides hold keys, together exactly
  // those of the range, with at most two probes.
  std::optional<std::string> SplitAndCheck(const KeyRange& range) {
    const Keys all = In(range);
    EXPECT_FALSE(all.empty());
    if (all.empty()) return std::nullopt;
    int probes = 0;
    auto split = FindSplit(backend_, range, all.front(), &probes);
    EXPECT_TRUE(split.ok()) << split.status().ToString();
    if (!split.ok()) return std::nullopt;
    EXPECT_LE(probes, 2) << all.front();
    if (!*split) return std::nullopt;
    const Keys low = In(KeyRange{range.start_after, **split});
    const Keys high = In(KeyRange{**split, range.last});
    EXPECT_FALSE(low.empty());
    EXPECT_FALSE(high.empty());
    Keys both = low;
    both.insert(both.end(), high.begin(), high.end());
    EXPECT_EQ(both, all);
    return *split;
  }

  storage::MemoryBackend backend_;
  Keys keys_;
};

std::string Numbered(const char* format, int i) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, i);
  return buf;
}

TEST_F(FindSplitTest, SplitsAtTheFamilyTheNextKeySharesWithTheLastOne) {
  Put({"logs/2024/01/a", "logs/2024/01/b", "logs/2024/02/a", "logs/2025/01/a", "media/x"});
  const std::string max(kMaxCharacter);
  // From nothing listed: the family of the first key's first character against the rest.
  EXPECT_EQ(SplitAndCheck(KeyRange{}), "l" + max);
  // After .../01/a: the rest of January against everything after it.
  const KeyRange logs{"logs/2024/01/a", "l" + max};
  EXPECT_EQ(SplitAndCheck(logs), "logs/2024/01/" + max);
  // After .../01/b: the rest of 2024's months 0x against 2025.
  EXPECT_EQ(SplitAndCheck(KeyRange{"logs/2024/01/b", logs.last}), "logs/2024/0" + max);
  // The shared family is the whole range, and the next key's family all of its rest.
  EXPECT_EQ(SplitAndCheck(KeyRange{"logs/2024/01/b", "logs/2024/0" + max}), std::nullopt);
}

TEST_F(FindSplitTest, SplitsFlatNumberedKeysWhereTheDigitsChange) {
  Keys keys;
  for (int i = 0; i < 3000; ++i) keys.push_back(Numbered("obj-%06d", i));
  Put(keys);
  // Keys "obj-000000".."obj-002999": the rest after 1000 keys splits after "obj-001...".
  auto split = SplitAndCheck(KeyRange{"obj-000999", std::nullopt});
  EXPECT_EQ(split, "obj-001" + std::string(kMaxCharacter));
}

// Scans as the worker runs them, on random keys: each range is listed key by key and, after
// every key, tries to split its rest and hands the high part on as a new range. The ranges
// cover every key exactly once, and the listing spreads over many ranges.
TEST_F(FindSplitTest, ScansThatSplitAfterEveryKeyCoverEveryKeyOnce) {
  std::mt19937 rng(7);
  Keys keys = {"a", "a/b", "a/b/c", "a b", "a%2F", "a+", "ü/ö", "日本/語", "\xF0\x9F\x98\x80"};
  for (int i = 0; i < 300; ++i) {
    static const char* const kParts[] = {"a", "b", "/", "-", ".", "\xC3\xA9"};
    std::string k;
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int j = 0; j < len; ++j) k += kParts[rng() % 6];
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  Put(keys);
  std::vector<KeyRange> work = {KeyRange{}};
  Keys covered;
  int ranges = 0;
  while (!work.empty()) {
    KeyRange range = work.back();
    work.pop_back();
    ++ranges;
    std::string last_listed = range.start_after;
    for (;;) {
      const Keys left = In(KeyRange{last_listed, range.last});
      if (left.empty()) break;
      covered.push_back(left.front());  // "list" one key
      last_listed = left.front();
      if (left.size() < 2) break;
      const KeyRange rest{last_listed, range.last};
      auto split = SplitAndCheck(rest);
      if (::testing::Test::HasFailure()) return;
      if (split) {
        work.push_back(KeyRange{*split, range.last});
        range.last = *split;
      }
    }
  }
  std::sort(covered.begin(), covered.end());
  EXPECT_EQ(covered, keys_);
  EXPECT_GT(ranges, 20);
}

TEST_F(FindSplitTest, NoSplitWhenTheRestIsOneKeyAndItsExtensions) {
  Put({"a", "a/1", "a/2", "b"});
  EXPECT_EQ(SplitAndCheck(KeyRange{"", "a/2"}), std::nullopt);  // "a", "a/1", "a/2"
  EXPECT_EQ(SplitAndCheck(KeyRange{"a/1", "b"}), "a/" + std::string(kMaxCharacter));
  EXPECT_EQ(SplitAndCheck(KeyRange{"a/1", "a/2"}), std::nullopt);
  EXPECT_EQ(SplitAndCheck(KeyRange{"a/2", std::nullopt}), std::nullopt);
}

TEST_F(FindSplitTest, KeysStartingWithTheLargestCharacterStillSplit) {
  const std::string max(kMaxCharacter);
  Put({"a", max, max + "b"});
  EXPECT_EQ(SplitAndCheck(KeyRange{}), max);  // "a" and U+10FFFF against the longer key
  // The rest from U+10FFFF itself cannot end before it: no boundary would hold it.
  EXPECT_EQ(SplitAndCheck(KeyRange{"a", std::nullopt}), std::nullopt);
}

TEST_F(FindSplitTest, ProbeFailuresAreReturned) {
  Put({"a", "b"});
  backend_.FailNext(storage::MemoryBackend::kList, 1, Status::Unavailable("injected"));
  auto split = FindSplit(backend_, KeyRange{}, "a");
  EXPECT_EQ(split.status().code(), ErrorCode::kUnavailable);
}

TEST(KeyRangeTest, SharedPrefixIsWhatBothEndsShareCutAtACharacter) {
  const std::string max(kMaxCharacter);
  EXPECT_EQ((KeyRange{"logs/2024/01/a", "logs/2024/0" + max}).SharedPrefix(), "logs/2024/0");
  EXPECT_EQ((KeyRange{"", "a" + max}).SharedPrefix(), "");
  EXPECT_EQ((KeyRange{"a/b", std::nullopt}).SharedPrefix(), "") << "no end: everything";
  EXPECT_EQ((KeyRange{"d/\xC3\xA9", "d/\xC3\xAA"}).SharedPrefix(), "d/") << "é and ê";
  EXPECT_EQ((KeyRange{"ab", "ab" + max}).SharedPrefix(), "ab");
}

}  // namespace
}  // namespace ferry::jobs
