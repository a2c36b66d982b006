// CPU accounting of the adaptive level (level_cpu.h) and the batch's class (level_advisor.h).
#include "transport/level_cpu.h"

#include <gtest/gtest.h>

#include "transport/level_advisor.h"

namespace ferry::transport {
namespace {

TEST(CpuShareTest, SplitsTheCpuAmongPacksRunningAtOnce) {
  double cpu = 100;
  CpuShare share([&] { return cpu; });
  const uint64_t a = share.Begin();
  cpu += 4;  // a alone: 4
  const uint64_t b = share.Begin();
  cpu += 6;  // a and b: 3 each
  EXPECT_DOUBLE_EQ(share.End(a), 7);
  cpu += 2;  // b alone: 2
  EXPECT_DOUBLE_EQ(share.End(b), 5);
  cpu += 50;  // nobody measuring
  const uint64_t c = share.Begin();
  cpu += 1;
  EXPECT_DOUBLE_EQ(share.End(c), 1);
  EXPECT_DOUBLE_EQ(share.End(c), 0);  // unknown id
}

TEST(CpuBenchmarkTest, MeasuredOnceAndNormalizes) {
  const double first = CpuBenchmarkSeconds();
  EXPECT_GT(first, 0);
  EXPECT_LT(first, 5.0);
  EXPECT_EQ(CpuBenchmarkSeconds(), first);  // once per process
  // A machine twice as slow as the reference spends two of its seconds per reference second.
  EXPECT_DOUBLE_EQ(ReferenceCpuSeconds(10, 2 * kReferenceBenchmarkSeconds), 5);
  EXPECT_DOUBLE_EQ(ReferenceCpuSeconds(10, kReferenceBenchmarkSeconds / 2), 20);
}

TEST(CpuShareTest, ProcessCpuGrowsWithWork) {
  const double before = ProcessCpuSeconds();
  volatile uint64_t x = 0;
  for (uint64_t i = 0; i < 200'000'000; ++i) x = x + i;
  EXPECT_GT(ProcessCpuSeconds(), before);
}

storage::ObjectInfo Obj(std::string key, uint64_t size, std::string type = "") {
  storage::ObjectInfo o;
  o.key = std::move(key);
  o.size = size;
  if (!type.empty()) {
    o.has_details = true;
    o.content.content_type = std::move(type);
  }
  return o;
}

TEST(DominantClassTest, TheClassWithMostBytes) {
  std::vector<storage::ObjectInfo> objects = {Obj("a.csv", 100), Obj("b.json", 60),
                                              Obj("c.json", 60), Obj("d", 0)};
  EXPECT_EQ(DominantClass(objects), "json");
  objects.push_back(Obj("e.bin", 500, "text/csv"));  // the Content-Type wins over ".bin"
  EXPECT_EQ(DominantClass(objects), "csv");
  EXPECT_EQ(DominantClass({}), "other");
}

}  // namespace
}  // namespace ferry::transport
