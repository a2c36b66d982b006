// The Backend conformance suite, part 1: fixture helpers, reads, writes, listings, deletes.
// Part 2 (backend_conformance_writes_test.cc): chunked writes, details, server-side copies.
// See backend_factory.h for how a backend joins the suite.
#include <algorithm>
#include <random>

#include "checksum/checksum.h"
#include "conformance/backend_factory.h"
#include "storage/sorted_listing.h"

namespace ferry::conformance {

using storage::ObjectInfo;
using storage::WriteSpec;

void BackendConformanceTest::SetUp() {
  backend_ = GetParam().make();
  ASSERT_NE(backend_, nullptr);
  Status checked = backend_->Check({});
  ASSERT_TRUE(checked.ok()) << checked.ToString();
  Status learnt = backend_->LearnVersions({});
  ASSERT_TRUE(learnt.ok()) << learnt.ToString();
}

void BackendConformanceTest::TearDown() {
  if (backend_ == nullptr) return;
  if (features().versions) {  // every version and delete marker, so that the store is empty
    auto versions = ListAllVersions("");
    if (versions.ok()) {
      for (const ObjectInfo& v : *versions) (void)backend_->DeleteVersion(v.key, v.version_id, {});
    }
  }
  auto keys = ListKeys("");
  if (keys.ok() && !keys->empty()) (void)backend_->DeleteMany(*keys, {});
}

Result<storage::WriteResult> BackendConformanceTest::PutString(std::string_view key,
                                                               std::string_view body,
                                                               WriteSpec spec) {
  spec.size = body.size();
  return backend_->Put(key, checksum::AsBytes(body), spec, {});
}

Result<std::string> BackendConformanceTest::ReadString(std::string_view key) {
  FERRY_ASSIGN_OR_RETURN(ObjectInfo info, backend_->Stat(key, false, {}));
  std::string out(info.size, '\0');
  FERRY_RETURN_IF_ERROR(
      backend_->ReadAt(key, 0, std::as_writable_bytes(std::span(out)), info.etag, {}));
  return out;
}

Result<std::vector<ObjectInfo>> BackendConformanceTest::ListAll(std::string_view prefix) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, backend_->List(prefix));
  std::vector<ObjectInfo> out;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* info, cursor->Next());
    if (info == nullptr) return out;
    out.push_back(*info);
  }
}

void BackendConformanceTest::PutAll(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    auto etag = PutString(key, key);
    ASSERT_TRUE(etag.ok()) << key << ": " << etag.status().ToString();
  }
}

Result<std::vector<ObjectInfo>> BackendConformanceTest::ListAllVersions(
    std::string_view prefix, std::string_view key_marker, std::string_view version_marker) {
  FERRY_ASSIGN_OR_RETURN(auto cursor, backend_->ListVersions(prefix, key_marker, version_marker));
  std::vector<ObjectInfo> out;
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* info, cursor->Next());
    if (info == nullptr) return out;
    out.push_back(*info);
  }
}

Result<std::vector<std::string>> BackendConformanceTest::ListKeys(std::string_view prefix) {
  FERRY_ASSIGN_OR_RETURN(auto all, ListAll(prefix));
  std::vector<std::string> keys;
  for (const ObjectInfo& info : all) keys.push_back(info.key);
  // A store that lists in no particular order is compared by the keys it lists.
  if (!features().sorted_listing) std::sort(keys.begin(), keys.end());
  return keys;
}

namespace {

using Keys = std::vector<std::string>;

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

std::span<std::byte> Bytes(std::string& s) { return std::as_writable_bytes(std::span(s)); }

// Keys that a flat store and a tree can both hold, listed in byte order. '-' (0x2D) and '.'
// (0x2E) sort before '/' (0x2F) and '0' after it: a tree walk that sorts names naively fails.
const Keys kOrderedKeys = {"Z", "a-c", "a.x", "a/b-d", "a/b/c", "a/b0", "a0", "b", "~", "é"};

}  // namespace

TEST_P(BackendConformanceTest, CheckAcceptsTheRoot) { EXPECT_TRUE(backend().Check({}).ok()); }

TEST_P(BackendConformanceTest, PutStatReadRoundTrip) {
  const std::string body = RandomBytes(1000, 1);
  auto etag = PutString("dir/object.bin", body);
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  auto info = backend().Stat("dir/object.bin", false, {});
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->key, "dir/object.bin");
  EXPECT_EQ(info->size, 1000u);
  EXPECT_TRUE(info->has_details);
  EXPECT_EQ(info->etag, etag->etag) << "Stat reports the ETag that Put returned";
  EXPECT_EQ(info->version_id, etag->version_id) << "and the version it created, if any";
  EXPECT_EQ(ReadString("dir/object.bin").value(), body);

  std::string whole(1000, '\0');
  auto read = backend().ReadObject("dir/object.bin", Bytes(whole), info->etag, {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(whole, body);
  EXPECT_EQ(read->size, 1000u);
  EXPECT_TRUE(read->has_details);
}

TEST_P(BackendConformanceTest, ReadAtReadsExactRanges) {
  ASSERT_TRUE(PutString("k", "0123456789").ok());
  const auto read = [&](uint64_t offset, size_t n) -> Result<std::string> {
    std::string out(n, '\0');
    FERRY_RETURN_IF_ERROR(backend().ReadAt("k", offset, Bytes(out), "", {}));
    return out;
  };
  EXPECT_EQ(read(0, 1).value(), "0");
  EXPECT_EQ(read(3, 4).value(), "3456");
  EXPECT_EQ(read(9, 1).value(), "9") << "the last byte";
  EXPECT_EQ(read(0, 10).value(), "0123456789");
  EXPECT_EQ(read(8, 3).status().code(), ErrorCode::kDataLoss) << "runs past the end";
  EXPECT_EQ(read(10, 1).status().code(), ErrorCode::kDataLoss) << "starts at the end";
  EXPECT_EQ(read(50, 2).status().code(), ErrorCode::kDataLoss) << "starts past the end";
}

TEST_P(BackendConformanceTest, AbsentObjectIsNotFound) {
  EXPECT_EQ(backend().Stat("absent", false, {}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(backend().Stat("absent/child", true, {}).status().code(), ErrorCode::kNotFound);
  std::string out(1, '\0');
  EXPECT_EQ(backend().ReadAt("absent", 0, Bytes(out), "", {}).code(), ErrorCode::kNotFound);
  EXPECT_EQ(backend().ReadObject("absent", Bytes(out), "", {}).status().code(),
            ErrorCode::kNotFound);
}

// In byte order where features().sorted_listing says so; otherwise each key exactly once.
TEST_P(BackendConformanceTest, ListVisitsKeysInByteOrder) {
  PutAll(kOrderedKeys);
  auto listed = ListAll("");
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  Keys keys;
  for (const ObjectInfo& info : *listed) {
    keys.push_back(info.key);
    EXPECT_EQ(info.size, info.key.size()) << info.key;  // PutAll stores the key as content
  }
  if (!features().sorted_listing) std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, kOrderedKeys);
}

// What every caller that merges listings reads: byte order, whatever the store's order.
TEST_P(BackendConformanceTest, ListSortedYieldsByteOrder) {
  PutAll(kOrderedKeys);
  for (const std::string start : {"", "a/b"}) {
    storage::SortOptions options;
    options.run_bytes = 1;  // every entry its own run where the store's listing is unsorted
    auto cursor = storage::ListSorted(backend(), "", start, options);
    ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
    Keys keys;
    for (;;) {
      auto next = (*cursor)->Next();
      ASSERT_TRUE(next.ok()) << next.status().ToString();
      if (*next == nullptr) break;
      keys.push_back((*next)->key);
    }
    Keys want;
    for (const std::string& k : kOrderedKeys) {
      if (k > start) want.push_back(k);
    }
    EXPECT_EQ(keys, want) << "after \"" << start << "\"";
  }
}

TEST_P(BackendConformanceTest, ListPutsAnObjectBeforeItsChildrenOrRefusesTheClash) {
  if (!GetParam().hierarchical) {
    PutAll({"a/b/c", "é", "a", "a0", "Z", "a/b", "b", "a-c"});
    EXPECT_EQ(ListKeys("").value(), (Keys{"Z", "a", "a-c", "a/b", "a/b/c", "a0", "b", "é"}));
    return;
  }
  ASSERT_TRUE(PutString("a", "file").ok());
  EXPECT_EQ(PutString("a/b", "x").status().code(), ErrorCode::kFailedPrecondition);
  ASSERT_TRUE(PutString("d/e", "x").ok());
  EXPECT_EQ(PutString("d", "x").status().code(), ErrorCode::kFailedPrecondition);
  EXPECT_EQ(ListKeys("").value(), (Keys{"a", "d/e"}));
}

TEST_P(BackendConformanceTest, ListRespectsThePrefix) {
  PutAll(kOrderedKeys);
  EXPECT_EQ(ListKeys("a/").value(), (Keys{"a/b-d", "a/b/c", "a/b0"}));
  EXPECT_EQ(ListKeys("a").value(), (Keys{"a-c", "a.x", "a/b-d", "a/b/c", "a/b0", "a0"}));
  EXPECT_EQ(ListKeys("a/b").value(), (Keys{"a/b-d", "a/b/c", "a/b0"}));
  EXPECT_EQ(ListKeys("a/b/").value(), (Keys{"a/b/c"}));
  EXPECT_EQ(ListKeys("a/b/c").value(), (Keys{"a/b/c"}));
  EXPECT_EQ(ListKeys("é").value(), (Keys{"é"}));
  EXPECT_EQ(ListKeys("nothing").value(), Keys{});
  EXPECT_EQ(ListKeys("a/b/c/").value(), Keys{});
}

// ListFrom and FirstKeyAfter from every point: each key, points between keys (including
// ones that run into a folder, "a/b" before "a/b-d", and the largest code point that listing
// ranges use as a boundary), with and without a prefix.
TEST_P(BackendConformanceTest, ListFromStartsStrictlyAfterTheKey) {
  PutAll(kOrderedKeys);
  Keys starts = kOrderedKeys;
  for (const char* extra : {"", "A", "a", "a/", "a/b", "a/b/", "a/b/c/d", "a/c", "a\xf4\x8f\xbf\xbf",
                            "a/b\xf4\x8f\xbf\xbf", "b0", "\xf4\x8f\xbf\xbf"}) {
    starts.push_back(extra);
  }
  for (const std::string prefix : {"", "a", "a/", "a/b"}) {
    for (const std::string& start : starts) {
      Keys want;
      for (const std::string& k : kOrderedKeys) {
        if (k.starts_with(prefix) && k > start) want.push_back(k);
      }
      auto cursor = backend().ListFrom(prefix, start);
      ASSERT_TRUE(cursor.ok()) << cursor.status().ToString();
      Keys got;
      for (;;) {
        auto next = (*cursor)->Next();
        ASSERT_TRUE(next.ok()) << next.status().ToString();
        if (*next == nullptr) break;
        got.push_back((*next)->key);
      }
      if (!features().sorted_listing) std::sort(got.begin(), got.end());
      EXPECT_EQ(got, want) << "prefix \"" << prefix << "\" after \"" << start << "\"";
      if (!prefix.empty()) continue;
      auto first = backend().FirstKeyAfter(start);
      ASSERT_TRUE(first.ok()) << first.status().ToString();
      EXPECT_EQ(*first, want.empty() ? std::optional<std::string>() : want.front())
          << "after \"" << start << "\"";
    }
  }
}

TEST_P(BackendConformanceTest, ListOfEmptyBackendIsEmpty) {
  EXPECT_EQ(ListKeys("").value(), Keys{});
  EXPECT_EQ(ListKeys("x/").value(), Keys{});
}

TEST_P(BackendConformanceTest, ListEntriesAgreeWithStat) {
  ASSERT_TRUE(PutString("k", "12345").ok());
  auto listed = ListAll("");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  auto info = backend().Stat("k", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ((*listed)[0].size, 5u);
  // S3 lists LastModified in milliseconds but HEAD returns whole seconds.
  const auto diff = (*listed)[0].mtime - info->mtime;
  EXPECT_LT(std::chrono::abs(diff), std::chrono::seconds(1));
  if (!(*listed)[0].etag.empty()) {
    EXPECT_EQ((*listed)[0].etag, info->etag);
  }
}

TEST_P(BackendConformanceTest, ZeroByteObject) {
  ASSERT_TRUE(PutString("empty", "").ok());
  auto info = backend().Stat("empty", false, {});
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->size, 0u);
  EXPECT_EQ(ListKeys("").value(), Keys{"empty"});
  std::string none;
  auto read = backend().ReadObject("empty", Bytes(none), "", {});
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->size, 0u);
  std::string one(1, '\0');
  EXPECT_EQ(backend().ReadAt("empty", 0, Bytes(one), "", {}).code(), ErrorCode::kDataLoss);
}

TEST_P(BackendConformanceTest, OverwriteReplacesTheContent) {
  ASSERT_TRUE(PutString("k", "a longer first version").ok());
  ASSERT_TRUE(PutString("k", "short").ok());
  EXPECT_EQ(ReadString("k").value(), "short");
  EXPECT_EQ(backend().Stat("k", false, {})->size, 5u);
  EXPECT_EQ(ListKeys("").value(), Keys{"k"});
}

TEST_P(BackendConformanceTest, DeleteRemovesAndAbsentKeysAreFine) {
  ASSERT_TRUE(PutString("d/k", "x").ok());
  ASSERT_TRUE(backend().Delete("d/k", {}).ok());
  EXPECT_EQ(backend().Stat("d/k", false, {}).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(ListKeys("").value(), Keys{});
  EXPECT_TRUE(backend().Delete("d/k", {}).ok()) << "already deleted";
  EXPECT_TRUE(backend().Delete("never/existed", {}).ok());
}

TEST_P(BackendConformanceTest, DeleteManyRemovesEveryKey) {
  PutAll({"k1", "k2", "k3", "k4", "sub/k5"});
  const std::vector<std::string> doomed = {"k1", "absent", "k3", "sub/k5"};
  ASSERT_TRUE(backend().DeleteMany(doomed, {}).ok());
  EXPECT_EQ(ListKeys("").value(), (Keys{"k2", "k4"}));
}

TEST_P(BackendConformanceTest, UnusualKeysRoundTrip) {
  // 1024 bytes in segments of 200 (one file name may not exceed 255 bytes on most file systems).
  std::string long_key;
  while (long_key.size() < 1024) {
    if (!long_key.empty()) long_key += '/';
    long_key += std::string(std::min<size_t>(200, 1024 - long_key.size()), 'L');
  }
  ASSERT_EQ(long_key.size(), 1024u);
  Keys keys = {"with space",  "plus+sign",  "percent%20d", "données/ü.txt",
               "a=b&c;d",     "quote'\"q",  "emoji 😀",     "back\\slash",
               "日本語/キー", "~tilde!*()", ".hidden",     long_key};
  if (!GetParam().keeps_backslash) {  // refused, never written under another name
    EXPECT_EQ(PutString("back\\slash", "x").status().code(), ErrorCode::kInvalidArgument);
    std::erase(keys, "back\\slash");
  }
  PutAll(keys);
  for (const std::string& key : keys) {
    auto body = ReadString(key);
    ASSERT_TRUE(body.ok()) << key << ": " << body.status().ToString();
    EXPECT_EQ(*body, key);
  }
  Keys sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(ListKeys("").value(), sorted);
}

}  // namespace ferry::conformance
