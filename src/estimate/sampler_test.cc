// The estimate's sampler: strata by content and size class, shares by bytes with at least one
// object per stratum, bounded memory over a long listing, determinism.
#include "estimate/sampler.h"

#include <gtest/gtest.h>

#include <map>

namespace ferry::estimate {
namespace {

storage::ObjectInfo Obj(std::string key, uint64_t size) {
  storage::ObjectInfo o;
  o.key = std::move(key);
  o.size = size;
  return o;
}

TEST(SamplerTest, ContentAndSizeClasses) {
  EXPECT_EQ(ExtensionOf("a/b/data.CSV"), "csv");
  EXPECT_EQ(ExtensionOf("a.b/noext"), "");
  EXPECT_EQ(ExtensionOf(".hidden"), "");
  EXPECT_EQ(ExtensionOf("x.tar.gz"), "gz");
  EXPECT_EQ(ExtensionOf("x.verylongext"), "");
  EXPECT_EQ(ExtensionOf("x.a-b"), "");
  EXPECT_EQ(SizeClassOf(0), 0);
  EXPECT_EQ(SizeClassOf((64 << 10) - 1), 0);
  EXPECT_EQ(SizeClassOf(64 << 10), 1);
  EXPECT_EQ(SizeClassOf(1 << 20), 2);
  EXPECT_EQ(SizeClassOf(16 << 20), 3);
}

TEST(SamplerTest, EveryStratumIsSampledAndBytesDecideTheShares) {
  StratifiedSampler s(100, 7);
  for (int i = 0; i < 10000; ++i) s.Add(Obj("small/" + std::to_string(i) + ".json", 1000));
  for (int i = 0; i < 500; ++i) s.Add(Obj("big/" + std::to_string(i) + ".csv", 20 << 20));
  s.Add(Obj("one.log", 100 << 10));  // a stratum of one object
  ASSERT_EQ(s.strata().size(), 3u);
  std::vector<Picked> picked = s.Pick();
  EXPECT_EQ(picked.size(), 100u);
  std::map<std::string, int> per;
  for (const Picked& p : picked) ++per[s.strata()[p.stratum].content];
  EXPECT_EQ(per["log"], 1);
  EXPECT_EQ(per["json"], 1);  // 10 MB of 10 GB: one, the least
  EXPECT_EQ(per["csv"], 98);  // the stratum that holds the bytes has the rest
  // A stratum cannot give more than it holds: the rest goes to the others.
  StratifiedSampler capped(100, 7);
  for (int i = 0; i < 1000; ++i) capped.Add(Obj(std::to_string(i) + ".json", 1000));
  for (int i = 0; i < 10; ++i) capped.Add(Obj(std::to_string(i) + ".csv", 20 << 20));
  per.clear();
  for (const Picked& p : capped.Pick()) ++per[capped.strata()[p.stratum].content];
  EXPECT_EQ(per["csv"], 10);
  EXPECT_EQ(per["json"], 90);
  // Each stratum's sample is of its own objects.
  for (const Picked& p : picked) {
    EXPECT_EQ(ExtensionOf(p.object.key), s.strata()[p.stratum].content);
  }
}

TEST(SamplerTest, MemoryStaysBoundedOverALongListing) {
  StratifiedSampler s(50, 1, /*max_classes=*/4);
  for (int i = 0; i < 200000; ++i) {
    s.Add(Obj("k" + std::to_string(i) + ".e" + std::to_string(i % 9),
              static_cast<uint64_t>(i % 5000) * 997));
  }
  // 4 classes + "other", three size classes here (up to 5 MB): 15 strata x 50.
  EXPECT_EQ(s.strata().size(), 15u);
  EXPECT_LE(s.held(), s.strata().size() * 50);
  uint64_t objects = 0;
  for (const Stratum& st : s.strata()) objects += st.objects;
  EXPECT_EQ(objects, 200000u);
  EXPECT_LE(s.Pick().size(), 50u);
}

TEST(SamplerTest, ReservoirIsUniformAndSeeded) {
  // Keys 0..9999 in one stratum, a sample of 500: its mean key is near the middle.
  auto run = [](uint64_t seed) {
    StratifiedSampler s(500, seed);
    for (int i = 0; i < 10000; ++i) s.Add(Obj(std::to_string(i) + ".x", 10));
    std::vector<std::string> keys;
    for (const Picked& p : s.Pick()) keys.push_back(p.object.key);
    return keys;
  };
  std::vector<std::string> a = run(3);
  ASSERT_EQ(a.size(), 500u);
  double mean = 0;
  for (const std::string& k : a) mean += std::stod(k);
  mean /= 500;
  EXPECT_NEAR(mean, 5000, 600);
  EXPECT_EQ(a, run(3));
  EXPECT_NE(a, run(4));
}

TEST(SamplerTest, FewerObjectsThanTheSampleAreAllPicked) {
  StratifiedSampler s(300);
  for (int i = 0; i < 20; ++i) s.Add(Obj(std::to_string(i) + (i % 2 ? ".a" : ".b"), 5));
  EXPECT_EQ(s.Pick().size(), 20u);
}

}  // namespace
}  // namespace ferry::estimate
