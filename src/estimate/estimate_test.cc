// EstimateCopy on memory backends: predicted wire bytes against a real pack of the same
// objects, requests counted as the run sends them, objects already on the destination left
// out, large objects read as ranges only, and the cheapest level chosen.
#include "estimate/estimate.h"

#include <gtest/gtest.h>

#include <random>

#include "archive/io.h"
#include "checksum/checksum.h"
#include "storage/memory/memory_backend.h"
#include "transport/pack.h"
#include "testing/test_data.h"
#include "testing/test_executor.h"

namespace ferry::estimate {
namespace {

using storage::MemoryBackend;

std::string Csv(size_t size, int seed) {
  std::mt19937 rng(static_cast<unsigned>(seed));
  std::string s;
  while (s.size() < size) {
    s += std::to_string(rng() % 100000) + ",customer-" + std::to_string(rng() % 500) + ",2026-11-" +
         std::to_string(10 + rng() % 20) + ",OK\n";
  }
  s.resize(size);
  return s;
}

std::string Random(size_t size, int seed) { return ferry::testing::Random(size, seed); }

class EstimateTest : public ::testing::Test {
 protected:
  void Put(MemoryBackend& b, const std::string& key, const std::string& body) {
    storage::WriteSpec spec;
    spec.size = body.size();
    ASSERT_TRUE(b.Put(key, checksum::AsBytes(body), spec, {}).ok());
  }
  // 400 small CSV rows files, 100 small random ones, 3 large CSV, 1 large random.
  void Fill() {
    for (int i = 0; i < 400; ++i)
      Put(src_, "csv/" + std::to_string(i) + ".csv", Csv(2000 + i * 7, i));
    for (int i = 0; i < 100; ++i) Put(src_, "bin/" + std::to_string(i) + ".bin", Random(3000, i));
    for (int i = 0; i < 3; ++i)
      Put(src_, "big/" + std::to_string(i) + ".csv", Csv(6 << 20, 100 + i));
    Put(src_, "big/r.bin", Random(5 << 20, 9));
  }
  uint64_t PackedBytes() {
    std::vector<storage::ObjectInfo> listed;
    auto cursor = src_.List("");
    EXPECT_TRUE(cursor.ok());
    for (;;) {
      auto o = (*cursor)->Next();
      EXPECT_TRUE(o.ok());
      if (*o == nullptr) break;
      listed.push_back(**o);
    }
    archive::StringSink sink;
    transport::PackOptions po;
    po.executor = &ferry::testing::TestExecutor();
    po.writer.level = 3;
    auto r = transport::PackObjects(src_, listed, sink, po, {});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return sink.bytes.size();
  }
  MemoryBackend src_, dst_;
};

TEST_F(EstimateTest, PredictsWireBytesOfARealPackWithin15Percent) {
  Fill();
  EstimateOptions o;
  o.executor = &testing::TestExecutor();
  o.levels = {3};
  o.sample = 120;
  auto e = EstimateCopy(src_, &dst_, o, {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->objects, 504u);
  EXPECT_LT(e->sampled_objects, e->objects);
  const double actual = static_cast<double>(PackedBytes());
  EXPECT_NEAR(static_cast<double>(e->levels[0].wire_bytes) / actual, 1.0, 0.15)
      << e->levels[0].wire_bytes << " predicted, " << actual << " packed";
  // 24 MiB: the scan's slow start (batch.h) cuts it into batches of 4, 8 and the rest, and its
  // slow stop the rest (12 MiB, more than twice the first 4) into two halves.
  EXPECT_EQ(e->archives, 4u);
}

TEST_F(EstimateTest, ReadsRangesOfLargeObjectsNeverWhole) {
  Put(src_, "huge.csv", Csv(40 << 20, 1));
  EstimateOptions o;
  o.executor = &testing::TestExecutor();
  o.levels = {1};
  const auto before = src_.counts();
  auto e = EstimateCopy(src_, nullptr, o, {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  const auto after = src_.counts();
  EXPECT_EQ(after.bytes_read - before.bytes_read, 4u * (256 << 10));  // 4 ranges of 256 KiB
  EXPECT_EQ(after.reads - before.reads, 4);
  EXPECT_EQ(e->sampled_bytes, 4u * (256 << 10));
  EXPECT_GT(e->levels[0].wire_bytes, 0u);
  EXPECT_LT(e->levels[0].wire_bytes, 40u << 20);
  EXPECT_EQ(after.puts, before.puts);  // nothing written
}

TEST_F(EstimateTest, CountsRequestsAndLeavesOutWhatTheDestinationHas) {
  for (int i = 0; i < 10; ++i) Put(src_, "k" + std::to_string(i) + ".csv", Csv(1000, i));
  Put(src_, "large.csv", Csv(20 << 20, 1));  // pack: HEAD + 5 reads; unpack: multipart
  Put(dst_, "k0.csv", Csv(1000, 0));         // unchanged
  Put(dst_, "k1.csv", Csv(999, 1));          // another size: copied
  EstimateOptions o;
  o.executor = &testing::TestExecutor();
  o.levels = {1};
  auto e = EstimateCopy(src_, &dst_, o, {});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->objects_listed, 11u);
  EXPECT_EQ(e->unchanged, 1u);
  EXPECT_EQ(e->objects, 10u);
  // Plain: 9 small GET + PUT, the large one in one GET + PUT (under 64 MiB); a listing page
  // each side and the abandoned uploads' listing, two checks of each bucket.
  EXPECT_EQ(e->plain_requests.get, 9u + 1u + 4u);
  EXPECT_EQ(e->plain_requests.put, 9u + 1u + 3u);
  // Compressed: 9 GET + (HEAD + 5 ranged GETs of 4 MiB), 9 PUT + (create + 2 parts + complete), the
  // same listings and checks plus two of staging, and two archives (the first batch bound of 4
  // MiB closes the 9 small objects' batch before the large one): the small one in one PUT, the
  // large one in create, part, complete; each read back with a HEAD, 3 opening reads and a
  // data read.
  const Requests& r = e->levels[0].requests;
  EXPECT_EQ(r.get, 9u + 6u + 6u + 5u + 5u);
  EXPECT_EQ(r.put, 9u + 4u + 3u + 1u + 3u);
}

TEST_F(EstimateTest, ChoosesTheCheapestLevelAndPricesIt) {
  Fill();
  EstimateOptions o;
  o.executor = &testing::TestExecutor();
  o.levels = {1, 3};
  o.per_gb = 0.02;
  auto e = EstimateCopy(src_, &dst_, o, {});
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->levels.size(), 2u);
  const LevelEstimate& c = e->levels[e->chosen];
  for (const LevelEstimate& l : e->levels) EXPECT_LE(c.cost, l.cost);
  EXPECT_GT(e->plain_cost, c.cost);  // CSV across regions: compression pays
  EXPECT_GT(c.costs.net_saving, 0);
  o.per_gb = 0;  // within one region it cannot
  auto same = EstimateCopy(src_, &dst_, o, {});
  ASSERT_TRUE(same.ok());
  EXPECT_LT(same->levels[same->chosen].costs.net_saving, 0);
  o.levels = {0};
  EXPECT_EQ(EstimateCopy(src_, &dst_, o, {}).status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace ferry::estimate
