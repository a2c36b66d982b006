// RunVerify over memory backends: the report of a copy with every kind of difference, and
// that nothing is written.
#include "verify/verify.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "plan/merge.h"
#include "plan/vector_cursor.h"
#include "storage/find_keys.h"
#include "storage/memory/memory_backend.h"
#include "testing/test_executor.h"
#include "verify/ranges.h"

namespace ferry::verify {
namespace {

constexpr uint64_t kMiB = 1ull << 20;

std::string Data(size_t n, char seed) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>(seed + i * 7 + (i >> 13));
  return s;
}

void Put(storage::MemoryBackend& b, const std::string& key, const std::string& data,
         std::map<std::string, std::string> meta = {}) {
  storage::WriteSpec spec;
  spec.size = data.size();
  spec.metadata = std::move(meta);
  ASSERT_TRUE(b.Put(key, checksum::AsBytes(data), spec, {}).ok());
}

void PutParts(storage::MemoryBackend& b, const std::string& key, const std::string& data,
              uint64_t part) {
  storage::WriteSpec spec;
  spec.size = data.size();
  auto w = b.OpenChunkWriter(key, spec, part, {});
  ASSERT_TRUE(w.ok()) << w.status().message();
  int n = 1;
  for (uint64_t off = 0; off < data.size(); off += part, ++n) {
    auto piece = std::string_view(data).substr(off, part);
    ASSERT_TRUE((*w)->WriteChunk(n, off, checksum::AsBytes(piece), {}).ok());
  }
  ASSERT_TRUE((*w)->Commit({}).ok());
}

struct Outcome {
  std::map<std::string, Entry> entries;
  Counts counts;
  uint64_t reads = 0;
  Status status;
};

Outcome Verify(storage::Backend& src, storage::Backend& dst, CompareOptions o = {},
               size_t list_ranges = 4, uint64_t* ranges = nullptr,
               transfer::ListingDriver listing = {}, const plan::Filter* filter = nullptr) {
  Outcome r;
  std::FILE* f = std::tmpfile();
  Report report(f, true);
  VerifyStats stats;
  const VerifyOptions options{o, 1 * kMiB, 3, list_ranges};
  r.status = RunVerify(VerifyRun{.executor = testing::TestExecutor(),
                                 .src = src,
                                 .dst = dst,
                                 .options = options,
                                 .report = report,
                                 .stats = stats,
                                 .listing = std::move(listing),
                                 .filter = filter},
                       {});
  r.reads = stats.reads.load();
  if (ranges != nullptr) *ranges = stats.ranges.load();
  r.counts = report.counts();
  std::rewind(f);
  char line[4096];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    auto j = nlohmann::json::parse(line);
    Entry e;
    e.key = j["key"];
    const std::string result = j["result"];
    for (Mark m : {Mark::kIdentical, Mark::kMissing, Mark::kExtra, Mark::kDiffer, Mark::kError,
                   Mark::kSizeOnly}) {
      if (result == MarkName(m)) e.mark = m;
    }
    e.reason = j["reason"];
    r.entries[e.key] = e;
  }
  std::fclose(f);
  return r;
}

TEST(RunVerifyTest, EveryKindOfDifferenceAndNothingWritten) {
  storage::MemoryBackend src, dst;
  const std::string big = Data(11 * kMiB + 5, 1);
  Put(src, "same", "hello");
  Put(dst, "same", "hello");
  Put(src, "missing", "m");
  Put(dst, "extra", "e");
  Put(src, "flipped", "abcdef");
  Put(dst, "flipped", "abcdeg");
  Put(src, "size", "abc");
  Put(dst, "size", "abcd");
  Put(src, "big-whole", big);          // plain MD5 against an 8 MiB layout
  PutParts(dst, "big-whole", big, 8 * kMiB);
  PutParts(src, "big-layouts", big, 8 * kMiB);  // two layouts, same bytes
  PutParts(dst, "big-layouts", big, 5 * kMiB);
  std::string changed = big;
  changed[10 * kMiB] ^= 1;
  PutParts(src, "big-changed", big, 8 * kMiB);
  PutParts(dst, "big-changed", changed, 5 * kMiB);  // same size, one byte: no layout matches
  src.ResetCounts();
  dst.ResetCounts();

  Outcome r = Verify(src, dst);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entries["same"].mark, Mark::kIdentical);
  EXPECT_EQ(r.entries["missing"].mark, Mark::kMissing);
  EXPECT_EQ(r.entries["extra"].mark, Mark::kExtra);
  EXPECT_EQ(r.entries["flipped"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["size"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["big-whole"].mark, Mark::kIdentical);
  EXPECT_EQ(r.entries["big-whole"].reason, "md5");
  EXPECT_EQ(r.entries["big-layouts"].mark, Mark::kIdentical);
  EXPECT_EQ(r.entries["big-layouts"].reason, "layout");
  // The memory store cannot tell a layout: without --download a doubt, never "identical".
  EXPECT_EQ(r.entries["big-changed"].mark, Mark::kSizeOnly);
  EXPECT_EQ(r.counts.identical, 3u);
  EXPECT_EQ(r.counts.differ, 2u);
  EXPECT_EQ(r.counts.missing, 1u);
  EXPECT_EQ(r.counts.extra, 1u);
  EXPECT_EQ(r.counts.size_only, 1u);
  EXPECT_EQ(ExitCodeFor(r.counts), 1);
  // Read-only: nothing written or deleted on either side.
  for (auto* b : {&src, &dst}) {
    EXPECT_EQ(b->counts().puts + b->counts().parts + b->counts().deletes + b->counts().commits, 0);
  }
  // One read each for the two pairs that needed one (big-changed: read once, not twice).
  EXPECT_EQ(r.reads, 3u);

  Outcome d = Verify(src, dst, {.download = true, .metadata = false});
  EXPECT_EQ(d.entries["big-changed"].mark, Mark::kDiffer);
  EXPECT_EQ(d.entries["big-changed"].reason, "content");
}

TEST(RunVerifyTest, AFilterKeepsTheKeysOfItsSourceObjectsAndOfItsDestinationOnlyOnes) {
  storage::MemoryBackend src, dst;
  Put(src, "a.jpg", "one");
  Put(dst, "a.jpg", "ONE");       // differs, kept
  Put(src, "b.txt", "two");       // missing, left out
  Put(dst, "c.txt", "stray");     // extra, left out
  Put(dst, "d.jpg", "stray too");  // extra, kept
  Put(src, "e.jpg", "same");
  Put(dst, "e.jpg", "same");
  plan::FilterOptions jpg;
  jpg.include = {"*.jpg"};
  auto filter = plan::Filter::Make(jpg, std::chrono::system_clock::now());
  ASSERT_TRUE(filter.ok());
  const Outcome r = Verify(src, dst, {}, 1, nullptr, {}, &*filter);
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.entries.size(), 3u);
  EXPECT_EQ(r.entries.at("a.jpg").mark, Mark::kDiffer);
  EXPECT_EQ(r.entries.at("d.jpg").mark, Mark::kExtra);
  EXPECT_EQ(r.entries.at("e.jpg").mark, Mark::kIdentical);
  // An age bound: every object here is new, so --min-age 1h keeps none.
  plan::FilterOptions aged;
  aged.older_than = std::chrono::system_clock::now() - std::chrono::hours(1);
  auto old = plan::Filter::Make(aged, std::chrono::system_clock::now());
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(Verify(src, dst, {}, 1, nullptr, {}, &*old).entries.empty());
}

TEST(RunVerifyTest, MetadataWithTheFlag) {
  storage::MemoryBackend src, dst;
  Put(src, "k", "v", {{"color", "red"}, {"ferry-crc32c", "00000001"}});
  Put(dst, "k", "v", {{"color", "blue"}});
  EXPECT_EQ(Verify(src, dst).entries["k"].mark, Mark::kIdentical);
  Outcome r = Verify(src, dst, {.download = false, .metadata = true});
  EXPECT_EQ(r.entries["k"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["k"].reason, "metadata: x-amz-meta-color differs");
}

TEST(RunVerifyTest, AReadFailureIsAnErrorEntry) {
  storage::MemoryBackend src, dst;
  const std::string big = Data(6 * kMiB, 2);
  Put(src, "k", big);
  PutParts(dst, "k", big, 5 * kMiB);
  dst.FailNext(storage::MemoryBackend::kRead, 100, Status::Unavailable("boom"));
  Outcome r = Verify(src, dst);
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.entries["k"].mark, Mark::kError);
  EXPECT_NE(r.entries["k"].reason.find("boom"), std::string::npos) << r.entries["k"].reason;
  EXPECT_EQ(ExitCodeFor(r.counts), 3);
}

TEST(RunVerifyTest, AListingFailureIsTheRunsStatus) {
  storage::MemoryBackend src, dst;
  Put(src, "k", "v");
  dst.FailNext(storage::MemoryBackend::kList, 1, Status::PermissionDenied("denied"));
  Outcome r = Verify(src, dst);
  EXPECT_EQ(r.status.code(), ErrorCode::kPermissionDenied);
}

// A memory store whose HEADs declare the additional checksum the test gives for a key (as S3
// does for an object uploaded with --checksum-algorithm).
class DeclaringBackend : public storage::MemoryBackend {
 public:
  std::map<std::string, checksum::Declared> declared;
  Result<storage::ObjectInfo> Stat(std::string_view key, bool with_tags,
                                   std::stop_token stop) override {
    auto got = MemoryBackend::Stat(key, with_tags, stop);
    if (got.ok()) {
      if (auto it = declared.find(std::string(key)); it != declared.end()) {
        got->checksum = it->second;
      }
    }
    return got;
  }
};

checksum::Declared FullCrc32(const std::string& data) {
  return checksum::Declared{.algorithm = checksum::Algorithm::kCrc32,
                            .value = checksum::Compute(checksum::Algorithm::kCrc32,
                                                       checksum::AsBytes(data)),
                            .parts = 0};
}

TEST(RunVerifyTest, FullObjectChecksumsDecideTwoLayoutsWithoutARead) {
  DeclaringBackend src, dst;
  const std::string big = Data(11 * kMiB + 3, 5);
  std::string changed = big;
  changed[9 * kMiB] ^= 0x10;
  PutParts(src, "same", big, 8 * kMiB);
  PutParts(dst, "same", big, 5 * kMiB);
  PutParts(src, "changed", big, 8 * kMiB);
  PutParts(dst, "changed", changed, 5 * kMiB);
  src.declared["same"] = dst.declared["same"] = src.declared["changed"] = FullCrc32(big);
  dst.declared["changed"] = FullCrc32(changed);
  Outcome r = Verify(src, dst);
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entries["same"].mark, Mark::kIdentical);
  EXPECT_EQ(r.entries["same"].reason, "checksum-crc32");
  EXPECT_EQ(r.entries["changed"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["changed"].reason, "checksum-crc32");
  EXPECT_EQ(r.reads, 0u);
  EXPECT_EQ(src.counts().reads + dst.counts().reads, 0);

  // Only SRC declares it: DST is read once and checked against it.
  dst.declared.clear();
  r = Verify(src, dst);
  EXPECT_EQ(r.entries["same"].mark, Mark::kIdentical);
  EXPECT_EQ(r.entries["changed"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["changed"].reason, "checksum-crc32");
  EXPECT_EQ(r.reads, 2u);
}

TEST(PlanRangesTest, CutsAfterTheFirstPageAlongFamiliesAndCoversEveryKey) {
  storage::MemoryBackend src, dst;
  char key[32];
  for (int i = 0; i < 5000; ++i) {
    std::snprintf(key, sizeof key, "obj-%05d", i);
    Put(src, key, "x");
  }
  auto plan = PlanRanges(src, dst, RangePlanOptions{.max_ranges = 4, .first_page = 1000});
  ASSERT_TRUE(plan.ok()) << plan.status().message();
  const std::string max(jobs::kMaxCharacter);
  ASSERT_EQ(plan->ranges.size(), 4u);
  EXPECT_EQ(plan->ranges[0], (jobs::KeyRange{"", "obj-01" + max}));
  EXPECT_EQ(plan->ranges[1], (jobs::KeyRange{"obj-01" + max, "obj-02" + max}));
  EXPECT_EQ(plan->ranges[2], (jobs::KeyRange{"obj-02" + max, "obj-03" + max}));
  EXPECT_EQ(plan->ranges[3], (jobs::KeyRange{"obj-03" + max, std::nullopt}));
  // One page, then per cut one FirstKeyAfter and its probes.
  EXPECT_GT(plan->requests, 3);
  EXPECT_LT(plan->requests, 12);

  // One page or less: one range; so is one asked for.
  storage::MemoryBackend small;
  Put(small, "a", "x");
  EXPECT_EQ(PlanRanges(small, dst, {})->ranges.size(), 1u);
  EXPECT_EQ(PlanRanges(src, dst, RangePlanOptions{.max_ranges = 1})->ranges.size(), 1u);
}

TEST(RunVerifyTest, RangesInParallelFindWhatOneListingFinds) {
  // Differences planted at range ends and inside ranges, extras past the last source key and
  // before the first: the same report with one range and with several.
  storage::MemoryBackend src, dst;
  char key[32];
  for (int i = 0; i < 4000; ++i) {
    std::snprintf(key, sizeof key, "d/%04d", i);
    Put(src, key, "v" + std::to_string(i));
    if (i == 1999 || i == 2000 || i == 3999) continue;  // missing in DST
    Put(dst, key, i == 999 || i == 1000 || i == 3000 ? "w" + std::to_string(i)
                                                     : "v" + std::to_string(i));
  }
  Put(dst, "a-first", "e");
  Put(dst, "d/1999x", "e");
  Put(dst, "z-last", "e");
  uint64_t ranges = 0;
  Outcome many = Verify(src, dst, {}, 8, &ranges);
  ASSERT_TRUE(many.status.ok()) << many.status.message();
  EXPECT_GT(ranges, 1u);
  Outcome one = Verify(src, dst, {}, 1, &ranges);
  ASSERT_TRUE(one.status.ok());
  EXPECT_EQ(ranges, 1u);
  EXPECT_EQ(many.entries.size(), 4003u);
  EXPECT_EQ(one.entries.size(), many.entries.size());
  for (const auto& [k, e] : one.entries) {
    EXPECT_EQ(many.entries[k].mark, e.mark) << k;
  }
  EXPECT_EQ(many.counts.missing, 3u);
  EXPECT_EQ(many.counts.extra, 3u);
  EXPECT_EQ(many.counts.differ, 3u);
  EXPECT_EQ(many.counts.identical, 3994u);
  EXPECT_EQ(many.entries["d/1999x"].mark, Mark::kExtra);
  EXPECT_EQ(many.entries["d/1000"].mark, Mark::kDiffer);
}

// A run restricted to `keys` (sorted), as `--files-from` drives it (app/files_from.h, whose
// driver this stands for: app is above verify): each side's objects of those keys found by
// storage::FindKeys, merged into the run's visitor.
transfer::ListingDriver ListedKeys(std::vector<std::string> keys) {
  return [keys = std::move(keys)](transfer::Executor&, storage::Backend& src,
                                  storage::Backend& dst, plan::ListingVisitor& visitor,
                                  std::stop_token stop) -> Status {
    std::vector<storage::ObjectInfo> found[2];
    storage::Backend* sides[2] = {&src, &dst};
    for (int i = 0; i < 2; ++i) {
      FERRY_RETURN_IF_ERROR(storage::FindKeys(
          *sides[i], keys,
          [&found, i](const storage::ObjectInfo& o, size_t, size_t) {
            found[i].push_back(o);
            return Status::Ok();
          },
          stop));
    }
    plan::VectorCursor src_objects(std::move(found[0]));
    plan::VectorCursor dst_objects(std::move(found[1]));
    return plan::MergeListings(src_objects, dst_objects, visitor);
  };
}

TEST(RunVerifyListTest, OnlyListedKeysAreComparedAndReportedAsAFullListingWould) {
  storage::MemoryBackend src, dst;
  const std::string big = Data(11 * kMiB, 3);
  for (auto* b : {&src, &dst}) Put(*b, "same", "hello");
  Put(src, "differ", "abc");
  Put(dst, "differ", "abd");
  Put(src, "only-src", "s");
  Put(dst, "only-dst", "d");
  PutParts(src, "layouts", big, 8 * kMiB);  // same bytes, two layouts: decided by a read task
  PutParts(dst, "layouts", big, 5 * kMiB);
  // Differences outside the list: never looked at, never reported.
  Put(src, "unlisted-differ", "abc");
  Put(dst, "unlisted-differ", "xyz");
  Put(src, "unlisted-missing", "m");
  Put(dst, "unlisted-extra", "e");

  uint64_t ranges = 9;
  Outcome r = Verify(src, dst, {}, 4, &ranges,
                     ListedKeys({"differ", "layouts", "neither", "only-dst", "only-src", "same"}));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entries.size(), 5u);  // "neither" is on no side: nothing to report
  EXPECT_EQ(r.entries["same"].mark, Mark::kIdentical);
  EXPECT_EQ(r.entries["differ"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["only-src"].mark, Mark::kMissing);
  EXPECT_EQ(r.entries["only-dst"].mark, Mark::kExtra);  // absent from SRC: a difference
  EXPECT_EQ(r.entries["layouts"].mark, Mark::kIdentical);
  EXPECT_EQ(r.entries["layouts"].reason, "layout");
  EXPECT_EQ(r.reads, 1u);
  for (const char* k : {"unlisted-differ", "unlisted-missing", "unlisted-extra", "neither"}) {
    EXPECT_EQ(r.entries.count(k), 0u) << k;
  }
  EXPECT_EQ(ranges, 0u);  // no key ranges with a list, whatever list_ranges says
  EXPECT_EQ(ExitCodeFor(r.counts), 1);
}

TEST(RunVerifyListTest, ListedKeysThatMatchExitZeroWhateverIsUnlisted) {
  storage::MemoryBackend src, dst;
  for (auto* b : {&src, &dst}) {
    Put(*b, "a", "1");
    Put(*b, "b", "2");
    Put(*b, "c", "3");
  }
  Put(dst, "b", "changed");
  Put(src, "unlisted", "u");
  Outcome r = Verify(src, dst, {}, 1, nullptr, ListedKeys({"a", "c"}));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.counts.identical, 2u);
  EXPECT_EQ(ExitCodeFor(r.counts), 0);
  // The same pair listed: the difference is found.
  Outcome b = Verify(src, dst, {}, 1, nullptr, ListedKeys({"a", "b", "c"}));
  EXPECT_EQ(b.entries["b"].mark, Mark::kDiffer);
  EXPECT_EQ(ExitCodeFor(b.counts), 1);
}

TEST(RunVerifyListTest, DownloadAndMetadataWorkAsWithoutAList) {
  storage::MemoryBackend src, dst;
  const std::string big = Data(11 * kMiB, 4);
  std::string changed = big;
  changed[10 * kMiB] ^= 1;
  PutParts(src, "changed", big, 8 * kMiB);  // same size, one byte: only --download tells
  PutParts(dst, "changed", changed, 5 * kMiB);
  Put(src, "meta", "v", {{"color", "red"}});
  Put(dst, "meta", "v", {{"color", "blue"}});
  Put(src, "unlisted", "v", {{"color", "red"}});
  Put(dst, "unlisted", "v", {{"color", "blue"}});
  Outcome r = Verify(src, dst, {.download = true, .metadata = true}, 1, nullptr,
                     ListedKeys({"changed", "meta"}));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.entries.size(), 2u);
  EXPECT_EQ(r.entries["changed"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["changed"].reason, "content");
  EXPECT_EQ(r.entries["meta"].mark, Mark::kDiffer);
  EXPECT_EQ(r.entries["meta"].reason, "metadata: x-amz-meta-color differs");
}

TEST(RunVerifyListTest, AFailedLookupIsTheRunsStatus) {
  storage::MemoryBackend src, dst;
  Put(src, "k", "v");
  Put(dst, "k", "v");
  dst.FailNext(storage::MemoryBackend::kStat, 1, Status::Unavailable("503 SlowDown"));
  Outcome r = Verify(src, dst, {}, 1, nullptr, ListedKeys({"k"}));
  EXPECT_EQ(r.status.code(), ErrorCode::kUnavailable) << r.status.message();
}

}  // namespace
}  // namespace ferry::verify
