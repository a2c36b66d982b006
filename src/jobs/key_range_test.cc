#include "jobs/key_range.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
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
  // those of the range, within the probe bound of a binary search over `first`'s length.
  std::optional<std::string> SplitAndCheck(const KeyRange& range) {
    const Keys all = In(range);
    EXPECT_FALSE(all.empty());
    if (all.empty()) return std::nullopt;
    int probes = 0;
    auto split = FindSplit(backend_, range, all.front(), &probes);
    EXPECT_TRUE(split.ok()) << split.status().ToString();
    if (!split.ok()) return std::nullopt;
    EXPECT_LE(probes, 2 + static_cast<int>(std::ceil(std::log2(all.front().size() + 1))))
        << all.front();
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

TEST_F(FindSplitTest, SplitsAtTheCoarsestLevelOfAHierarchy) {
  Put({"logs/2024/01/a", "logs/2024/01/b", "logs/2024/02/a", "logs/2025/01/a", "media/x"});
  const std::string max(kMaxCharacter);
  // From the first key: everything that starts with "l" against "media".
  EXPECT_EQ(SplitAndCheck(KeyRange{}), "l" + max);
  // Within "l" (a range ending where the first split put its boundary): 2024 against 2025.
  const KeyRange logs{"", "l" + max};
  EXPECT_EQ(SplitAndCheck(logs), "logs/2024" + max);
  // From the middle of 2024 the coarsest split is still the year.
  EXPECT_EQ(SplitAndCheck(KeyRange{"logs/2024/01/a", logs.last}), "logs/2024" + max);
  // Within 2024: January against February.
  EXPECT_EQ(SplitAndCheck(KeyRange{"logs/2024/01/a", "logs/2024" + max}), "logs/2024/01" + max);
}

TEST_F(FindSplitTest, SplitsFlatNumberedKeysWhereTheDigitsChange) {
  Keys keys;
  for (int i = 0; i < 3000; ++i) keys.push_back(Numbered("obj-%06d", i));
  Put(keys);
  // Keys "obj-000000".."obj-002999": the rest after 1000 keys splits after "obj-001...".
  auto split = SplitAndCheck(KeyRange{"obj-000999", std::nullopt});
  EXPECT_EQ(split, "obj-001" + std::string(kMaxCharacter));
}

TEST_F(FindSplitTest, SplitsRepeatedlyDownToSingleKeys) {
  std::mt19937 rng(7);
  Keys keys = {"a", "a/b", "a/b/c", "a b", "a%2F", "a+", "ü/ö", "日本/語", "\xF0\x9F\x98\x80"};
  for (int i = 0; i < 200; ++i) {
    static const char* const kParts[] = {"a", "b", "/", "-", ".", "\xC3\xA9"};
    std::string k;
    const int len = 1 + static_cast<int>(rng() % 12);
    for (int j = 0; j < len; ++j) k += kParts[rng() % 6];
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  Put(keys);
  // Split every range that can be split until none can: every range then holds one key and
  // its extensions, and the ranges still cover every key once.
  std::vector<KeyRange> work = {KeyRange{}};
  std::vector<KeyRange> done;
  while (!work.empty()) {
    KeyRange r = work.back();
    work.pop_back();
    auto split = SplitAndCheck(r);
    if (::testing::Test::HasFailure()) return;
    if (!split) {
      done.push_back(r);
      continue;
    }
    work.push_back(KeyRange{r.start_after, *split});
    work.push_back(KeyRange{*split, r.last});
  }
  Keys covered;
  for (const KeyRange& r : done) {
    Keys in = In(r);
    ASSERT_FALSE(in.empty());
    for (const std::string& k : in) EXPECT_TRUE(k.starts_with(in.front())) << k;
    covered.insert(covered.end(), in.begin(), in.end());
  }
  std::sort(covered.begin(), covered.end());
  EXPECT_EQ(covered, keys_);
  // At least one range per key that extends no other key (a range can only not split when
  // its rest is one key and its extensions).
  size_t roots = 0;
  for (const std::string& k : keys_) {
    roots += std::none_of(keys_.begin(), keys_.end(), [&](const std::string& p) {
      return p.size() < k.size() && k.starts_with(p);
    });
  }
  EXPECT_GE(done.size(), roots);
  EXPECT_GT(roots, 3u);
}

TEST_F(FindSplitTest, NoSplitWhenTheRestIsOneKeyAndItsExtensions) {
  Put({"a", "a/1", "a/2", "b"});
  EXPECT_EQ(SplitAndCheck(KeyRange{"", "a/2"}), std::nullopt);  // "a", "a/1", "a/2"
  EXPECT_EQ(SplitAndCheck(KeyRange{"a/1", "b"}), "a" + std::string(kMaxCharacter));
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

}  // namespace
}  // namespace ferry::jobs
