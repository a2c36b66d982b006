#include "lists/sorted_keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace ferry::lists {
namespace {

using Strings = std::vector<std::string>;

// Keys from a vector; counts how often it was opened.
class VectorKeys : public KeyStream {
 public:
  explicit VectorKeys(const Strings& keys, Status end = Status::Ok())
      : keys_(keys), end_(std::move(end)) {}
  Result<std::optional<std::string>> Next() override {
    if (at_ < keys_.size()) return std::optional<std::string>(keys_[at_++]);
    if (!end_.ok()) return end_;
    return std::optional<std::string>();
  }

 private:
  const Strings& keys_;
  Status end_;
  size_t at_ = 0;
};

Strings Drain(SortedKeyCursor& cursor) {
  Strings out;
  for (;;) {
    auto key = cursor.Next();
    EXPECT_TRUE(key.ok()) << key.status().ToString();
    if (!key.ok() || *key == nullptr) return out;
    out.push_back(**key);
  }
}

Strings Expected(Strings keys) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  return keys;
}

Strings RandomKeys(size_t n, uint32_t seed, size_t distinct) {
  std::mt19937 rng(seed);
  Strings keys;
  keys.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    keys.push_back("k/" + std::to_string(rng() % distinct) + (rng() % 2 ? "/\xC3\xA9" : "-x"));
  }
  return keys;
}

SortKeysOptions Budget(uint64_t bytes, const Strings* reopen = nullptr, int* opens = nullptr) {
  SortKeysOptions options;
  options.memory_bytes = bytes;
  if (reopen != nullptr) {
    options.reopen = [reopen, opens]() -> Result<std::unique_ptr<KeyStream>> {
      if (opens != nullptr) ++*opens;
      return std::unique_ptr<KeyStream>(new VectorKeys(*reopen));
    };
  }
  return options;
}

TEST(SortKeysTest, SmallListsAreSortedInMemoryAndDeduplicated) {
  const Strings keys = {"b", "a/b", "a-b", "a0", "\xC3\xA9", "z", "a/b", "b"};
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys));
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  // Byte order: "a-b" < "a/b" < "a0" and "z" < "é", as listings are.
  EXPECT_EQ(Drain(**sorted), (Strings{"a-b", "a/b", "a0", "b", "z", "\xC3\xA9"}));
  const SortKeysStats& stats = (*sorted)->stats();
  EXPECT_EQ(stats.keys_read, 8u);
  EXPECT_EQ(stats.duplicates, 2u);
  EXPECT_FALSE(stats.in_order);
  EXPECT_EQ(stats.runs_spilled, 0u);
}

TEST(SortKeysTest, ATinyBudgetSpillsSeveralRunsAndDuplicatesAcrossRunsComeOnce) {
  Strings keys = RandomKeys(2000, 7, 500);  // many duplicates, across runs
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), Budget(4096));
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  const Strings expected = Expected(keys);
  EXPECT_EQ(Drain(**sorted), expected);
  const SortKeysStats& stats = (*sorted)->stats();
  EXPECT_GT(stats.runs_spilled, 10u);
  EXPECT_GT(stats.bytes_spilled, 0u);
  EXPECT_EQ(stats.duplicates, keys.size() - expected.size());
}

TEST(SortKeysTest, MoreRunsThanMergedAtOnceAreMergedFirst) {
  Strings keys = RandomKeys(5000, 11, 100000);
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), Budget(1024));
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  EXPECT_GT((*sorted)->stats().runs_spilled, kMaxKeyRuns);
  EXPECT_EQ(Drain(**sorted), Expected(keys));
}

TEST(SortKeysTest, HundredThousandRandomKeys) {
  Strings keys = RandomKeys(100000, 3, 80000);
  const auto start = std::chrono::steady_clock::now();
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), Budget(256u << 10));
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  Strings out = Drain(**sorted);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(out, Expected(keys));
  const SortKeysStats& stats = (*sorted)->stats();
  EXPECT_GT(stats.runs_spilled, 1u);
  std::printf("1e5 random keys, 256 KiB budget: %.3f s (%.0f keys/s), %llu runs, %llu bytes\n",
              seconds, keys.size() / seconds,
              static_cast<unsigned long long>(stats.runs_spilled),
              static_cast<unsigned long long>(stats.bytes_spilled));
}

TEST(SortKeysTest, AnOrderedListOverTheBudgetStreamsFromASecondReadWithoutSpilling) {
  Strings keys;
  for (int i = 0; i < 20000; ++i) keys.push_back("p/" + std::to_string(100000 + i));
  keys.insert(keys.begin() + 10, keys[10]);  // a duplicate in order
  int opens = 0;
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), Budget(4096, &keys, &opens));
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  EXPECT_EQ(Drain(**sorted), Expected(keys));
  const SortKeysStats& stats = (*sorted)->stats();
  EXPECT_TRUE(stats.in_order);
  EXPECT_TRUE(stats.streamed);
  EXPECT_EQ(stats.runs_spilled, 0u);
  EXPECT_EQ(stats.duplicates, 1u);
  EXPECT_EQ(opens, 1);
}

TEST(SortKeysTest, AnOrderedStartThenDisorderIsSortedFromASecondRead) {
  Strings keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("p/" + std::to_string(100000 + i));
  keys.push_back("a/late");
  int opens = 0;
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), Budget(4096, &keys, &opens));
  ASSERT_TRUE(sorted.ok()) << sorted.status().ToString();
  EXPECT_EQ(Drain(**sorted), Expected(keys));
  EXPECT_FALSE((*sorted)->stats().in_order);
  EXPECT_FALSE((*sorted)->stats().streamed);
  EXPECT_GT((*sorted)->stats().runs_spilled, 0u);
  EXPECT_EQ(opens, 1);
}

TEST(SortKeysTest, WithoutReopenAnOrderedListOverTheBudgetIsSpilled) {
  Strings keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("p/" + std::to_string(100000 + i));
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), Budget(4096));
  ASSERT_TRUE(sorted.ok());
  EXPECT_EQ(Drain(**sorted), keys);
  EXPECT_FALSE((*sorted)->stats().streamed);
  EXPECT_GT((*sorted)->stats().runs_spilled, 0u);
}

TEST(SortKeysTest, AListChangedBetweenItsReadsFailsTheCursor) {
  Strings keys;
  for (int i = 0; i < 5000; ++i) keys.push_back("p/" + std::to_string(100000 + i));
  Strings changed = keys;
  std::swap(changed[100], changed[200]);
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), Budget(4096, &changed));
  ASSERT_TRUE(sorted.ok());
  Status error;
  for (;;) {
    auto key = (*sorted)->Next();
    if (!key.ok()) {
      error = key.status();
      break;
    }
    ASSERT_NE(*key, nullptr) << "the change went unseen";
  }
  EXPECT_EQ(error.code(), ErrorCode::kFailedPrecondition);
  EXPECT_NE(error.message().find("changed between its two reads"), std::string::npos);
}

TEST(SortKeysTest, AnErrorInTheListFailsTheSortAndNothingIsYielded) {
  const Strings keys = {"b", "a"};
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys, Status::InvalidArgument("l:3: bad")));
  ASSERT_FALSE(sorted.ok());
  EXPECT_EQ(sorted.status().message(), "l:3: bad");
}

TEST(SortKeysTest, AnUnwritableFolderIsOneErrorNamingIt) {
  Strings keys = RandomKeys(1000, 5, 1000);
  SortKeysOptions options = Budget(1024);
  options.temp_dir = "/nonexistent/ferry";
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys), options);
  ASSERT_FALSE(sorted.ok());
  EXPECT_EQ(sorted.status().code(), ErrorCode::kInternal);
  EXPECT_NE(sorted.status().message().find("/nonexistent/ferry"), std::string::npos);
}

TEST(SortKeysTest, AnEmptyList) {
  const Strings keys;
  auto sorted = SortKeys(std::make_unique<VectorKeys>(keys));
  ASSERT_TRUE(sorted.ok());
  EXPECT_EQ(Drain(**sorted), Strings{});
}

}  // namespace
}  // namespace ferry::lists
