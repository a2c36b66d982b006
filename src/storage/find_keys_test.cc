#include "storage/find_keys.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <vector>

#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "storage/memory/unordered_backend.h"

namespace ferry::storage {
namespace {

// A memory store that counts its listings' objects and its Stats.
class CountingStore : public MemoryBackend {
 public:
  Result<ObjectInfo> Stat(std::string_view key, bool with_tags, std::stop_token stop) override {
    ++stats;
    return MemoryBackend::Stat(key, with_tags, stop);
  }
  Result<std::unique_ptr<ListingCursor>> ListFrom(std::string_view prefix,
                                                  std::string_view start_after) override {
    ++listings;
    return MemoryBackend::ListFrom(prefix, start_after);
  }
  int stats = 0;
  int listings = 0;
};

void PutKeys(Backend& store, const std::vector<std::string>& keys) {
  for (const std::string& k : keys) {
    WriteSpec spec;
    spec.size = k.size();
    ASSERT_TRUE(store.Put(k, checksum::AsBytes(k), spec, {}).ok());
  }
}

std::string Numbered(int i) { return "d/" + std::to_string(100000 + i); }

struct Lookup {
  std::vector<std::string> found;  // keys found, in the order reported
  size_t listed_decided = 0;
};

Lookup Find(Backend& store, const std::vector<std::string>& keys) {
  Lookup out;
  auto collect = [&](const ObjectInfo& o, size_t first, size_t end) {
    EXPECT_EQ(end, first + 1);
    EXPECT_EQ(o.key, keys[first]);
    out.found.push_back(o.key);
    return Status::Ok();
  };
  auto decided = FindKeysByListing(store, keys, collect, {});
  EXPECT_TRUE(decided.ok()) << decided.status().ToString();
  out.listed_decided = decided.ok() ? *decided : 0;
  for (size_t i = out.listed_decided; i < keys.size(); ++i) {
    auto info = StatKey(store, keys[i], {});
    EXPECT_TRUE(info.ok());
    if (info.ok() && info->has_value()) {
      EXPECT_TRUE(collect(**info, i, i + 1).ok());
    }
  }
  return out;
}

TEST(FindKeysTest, DenseKeysAreDecidedByOneListing) {
  CountingStore store;
  std::vector<std::string> all;
  for (int i = 0; i < 3000; ++i) all.push_back(Numbered(i));
  PutKeys(store, all);
  std::vector<std::string> wanted;
  std::vector<std::string> present;
  for (int i = 1000; i < 2000; i += 2) {
    wanted.push_back(Numbered(i));
    present.push_back(Numbered(i));
    if (i == 1500) wanted.push_back(Numbered(i) + "-absent");
  }
  Lookup l = Find(store, wanted);
  EXPECT_EQ(l.listed_decided, wanted.size());
  EXPECT_EQ(l.found, present);
  EXPECT_EQ(store.listings, 1);
  EXPECT_EQ(store.stats, 0);
}

TEST(FindKeysTest, SparseKeysAreStatted) {
  CountingStore store;
  std::vector<std::string> all;
  for (int i = 0; i < 5000; ++i) all.push_back(Numbered(i));
  PutKeys(store, all);
  // Three keys thousands of objects apart: listing the range costs more pages than Stats.
  const std::vector<std::string> wanted = {Numbered(0) + "x", Numbered(2500), Numbered(4999)};
  Lookup l = Find(store, wanted);
  EXPECT_LT(l.listed_decided, wanted.size());
  EXPECT_EQ(l.found, (std::vector<std::string>{Numbered(2500), Numbered(4999)}));
  EXPECT_GT(store.stats, 0);
}

TEST(FindKeysTest, FewKeysOrAnUnsortedStoreAreNeverListed) {
  CountingStore store;
  PutKeys(store, {"a", "b", "c"});
  Lookup l = Find(store, {"a", "zz"});
  EXPECT_EQ(l.listed_decided, 0u);
  EXPECT_EQ(store.listings, 0);
  EXPECT_EQ(l.found, std::vector<std::string>{"a"});

  UnorderedMemoryBackend unordered;
  PutKeys(unordered, {"a", "b", "c", "d"});
  Lookup u = Find(unordered, {"a", "b", "c", "x"});
  EXPECT_EQ(u.listed_decided, 0u);
  EXPECT_EQ(u.found, (std::vector<std::string>{"a", "b", "c"}));
}

TEST(FindKeysTest, FindKeysRunsBothPhasesInOrder) {
  MemoryBackend store;
  PutKeys(store, {"k/1", "k/2", "k/3", "z"});
  const std::vector<std::string> wanted = {"k/1", "k/3", "k/4", "z"};
  std::vector<std::string> found;
  ASSERT_TRUE(FindKeys(store, wanted,
                       [&](const ObjectInfo& o, size_t, size_t) {
                         found.push_back(o.key);
                         return Status::Ok();
                       },
                       {})
                  .ok());
  EXPECT_EQ(found, (std::vector<std::string>{"k/1", "k/3", "z"}));
}

TEST(FindKeysTest, KeyJustBeforeSortsBeforeTheKeyAndAfterItsPredecessors) {
  for (std::string key : {"b", "ab", "a/b", "\xC3\xA9t\xC3\xA9", "k1"}) {
    const std::string before = KeyJustBefore(key);
    EXPECT_LT(before, key) << key;
  }
  EXPECT_GT(KeyJustBefore("ab"), "aa");
  EXPECT_GT(KeyJustBefore("ab"), "aa/zzz");
}

}  // namespace
}  // namespace ferry::storage
