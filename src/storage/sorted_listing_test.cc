#include "storage/sorted_listing.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "storage/memory/unordered_backend.h"

namespace ferry::storage {
namespace {

// A cursor over fixed entries, counting how many were read.
class VectorCursor : public ListingCursor {
 public:
  explicit VectorCursor(std::vector<ObjectInfo> entries) : entries_(std::move(entries)) {}
  Result<const ObjectInfo*> Next() override {
    if (index_ >= entries_.size()) return static_cast<const ObjectInfo*>(nullptr);
    return static_cast<const ObjectInfo*>(&entries_[index_++]);
  }

 private:
  std::vector<ObjectInfo> entries_;
  size_t index_ = 0;
};

std::vector<ObjectInfo> Drain(ListingCursor& cursor) {
  std::vector<ObjectInfo> out;
  for (;;) {
    auto next = cursor.Next();
    EXPECT_TRUE(next.ok()) << next.status().ToString();
    if (!next.ok() || *next == nullptr) return out;
    out.push_back(**next);
  }
}

std::vector<std::string> KeysOf(const std::vector<ObjectInfo>& entries) {
  std::vector<std::string> keys;
  for (const ObjectInfo& o : entries) keys.push_back(o.key);
  return keys;
}

// Keys in a scrambled order: "k00000" .. with a stride through the range.
std::vector<ObjectInfo> ScrambledEntries(size_t n) {
  std::vector<ObjectInfo> out;
  for (size_t i = 0; i < n; ++i) {
    ObjectInfo o;
    const size_t k = (i * 7919) % n;
    o.key = "k" + std::to_string(100000 + k);
    o.size = k;
    out.push_back(std::move(o));
  }
  return out;
}

TEST(SortedListingTest, SortsInMemoryWhenOneRunHoldsEverything) {
  auto sorted = SortListing(std::make_unique<VectorCursor>(ScrambledEntries(100)));
  std::vector<ObjectInfo> got = Drain(*sorted);
  ASSERT_EQ(got.size(), 100u);
  EXPECT_TRUE(std::is_sorted(got.begin(), got.end(),
                             [](const auto& a, const auto& b) { return a.key < b.key; }));
  for (const ObjectInfo& o : got) EXPECT_EQ(o.key, "k" + std::to_string(100000 + o.size));
}

TEST(SortedListingTest, SpilledRunsMergeBackWithEveryField) {
  std::vector<ObjectInfo> entries = ScrambledEntries(3000);
  for (ObjectInfo& o : entries) {
    o.etag = "e" + o.key;
    o.mtime = std::chrono::system_clock::time_point(std::chrono::nanoseconds(1700000000123456789));
    o.storage_class = o.size % 2 ? "GLACIER" : "";
    o.version_id = o.size % 3 ? "v" + o.key : "";
    o.is_latest = o.size % 5 == 0;
    o.etag_opaque = o.size % 7 == 0;
    o.has_details = true;
    o.content.content_type = "text/plain";
    o.content.expires = "soon";
    o.metadata["ferry-crc32c"] = "0badf00d";
    if (o.size % 4 == 0) o.tags = Tags{{"team", "x"}, {"empty", ""}};
    if (o.size % 11 == 0) o.tags = Tags{};
    if (o.size == 17) o.unreadable = "dangling link";
  }
  SortOptions options;
  options.run_bytes = 16 << 10;  // many runs, more than kMaxRuns: folded once at least
  auto sorted = SortListing(std::make_unique<VectorCursor>(entries), options);
  std::vector<ObjectInfo> got = Drain(*sorted);
  std::sort(entries.begin(), entries.end(),
            [](const auto& a, const auto& b) { return a.key < b.key; });
  ASSERT_EQ(got.size(), entries.size());
  for (size_t i = 0; i < got.size(); ++i) {
    const ObjectInfo& a = got[i];
    const ObjectInfo& b = entries[i];
    ASSERT_EQ(a.key, b.key);
    EXPECT_EQ(a.size, b.size);
    EXPECT_EQ(a.etag, b.etag);
    EXPECT_EQ(a.mtime, b.mtime);
    EXPECT_EQ(a.storage_class, b.storage_class);
    EXPECT_EQ(a.version_id, b.version_id);
    EXPECT_EQ(a.is_latest, b.is_latest);
    EXPECT_EQ(a.delete_marker, b.delete_marker);
    EXPECT_EQ(a.etag_opaque, b.etag_opaque);
    EXPECT_EQ(a.has_details, b.has_details);
    EXPECT_EQ(a.unreadable, b.unreadable);
    EXPECT_EQ(a.content, b.content);
    EXPECT_EQ(a.metadata, b.metadata);
    EXPECT_EQ(a.tags, b.tags);
  }
}

TEST(SortedListingTest, DuplicateKeysAreKeptForTheMergeToRefuse) {
  std::vector<ObjectInfo> entries(3);
  entries[0].key = "b";
  entries[1].key = "a";
  entries[2].key = "b";
  auto sorted = SortListing(std::make_unique<VectorCursor>(entries));
  EXPECT_EQ(KeysOf(Drain(*sorted)), (std::vector<std::string>{"a", "b", "b"}));
}

TEST(SortedListingTest, KeepDropsEntriesBeforeTheyAreHeld) {
  SortOptions options;
  options.keep = [](const ObjectInfo& o) { return o.size % 2 == 0; };
  auto sorted = SortListing(std::make_unique<VectorCursor>(ScrambledEntries(10)), options);
  EXPECT_EQ(KeysOf(Drain(*sorted)),
            (std::vector<std::string>{"k100000", "k100002", "k100004", "k100006", "k100008"}));
}

TEST(SortedListingTest, UnsortedBackendIsSortedAndSortedOnePassesThrough) {
  UnorderedMemoryBackend unordered;
  MemoryBackend ordered;
  std::vector<std::string> keys;
  for (int i = 0; i < 50; ++i) keys.push_back("p/" + std::to_string(1000 + i));
  for (const std::string& k : keys) {
    WriteSpec spec;
    spec.size = k.size();
    ASSERT_TRUE(unordered.Put(k, checksum::AsBytes(k), spec, {}).ok());
    ASSERT_TRUE(ordered.Put(k, checksum::AsBytes(k), spec, {}).ok());
  }
  auto raw = unordered.List("p/");
  ASSERT_TRUE(raw.ok());
  std::vector<std::string> raw_keys = KeysOf(Drain(**raw));
  EXPECT_NE(raw_keys, keys) << "the fake must list out of order";
  std::vector<std::string> raw_sorted = raw_keys;
  std::sort(raw_sorted.begin(), raw_sorted.end());
  EXPECT_EQ(raw_sorted, keys);

  auto sorted = ListSorted(unordered, "p/", "p/1009");
  ASSERT_TRUE(sorted.ok());
  EXPECT_EQ(KeysOf(Drain(**sorted)), std::vector<std::string>(keys.begin() + 10, keys.end()));
  auto passed = ListSorted(ordered, "p/", "p/1009");
  ASSERT_TRUE(passed.ok());
  EXPECT_EQ(KeysOf(Drain(**passed)), std::vector<std::string>(keys.begin() + 10, keys.end()));
  // FirstKeyAfter of an unsorted listing is still the smallest key after the point.
  EXPECT_EQ(unordered.FirstKeyAfter("p/1020").value(), std::optional<std::string>("p/1021"));
  EXPECT_EQ(unordered.FirstKeyAfter("p/1049").value(), std::optional<std::string>());
}

}  // namespace
}  // namespace ferry::storage
