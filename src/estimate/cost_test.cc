// The cost model's arithmetic: prices by region pair, request classes, net saving, refused
// prices.
#include "estimate/cost.h"

#include <gtest/gtest.h>

#include <cmath>
#include <thread>

namespace ferry::estimate {
namespace {

constexpr uint64_t kGiB = 1ull << 30;

TEST(CostTest, PricePerGbByRegionPair) {
  Prices p;
  ASSERT_TRUE(SetPairPrice(p, "us-east-1->eu-west-1", 0.05).ok());
  EXPECT_DOUBLE_EQ(PricePerGb(p, "us-east-1", "eu-west-1"), 0.05);
  EXPECT_DOUBLE_EQ(PricePerGb(p, "eu-west-1", "us-east-1"), 0.02);  // the default
  EXPECT_DOUBLE_EQ(PricePerGb(p, "a", "a"), 0);                     // one region
  EXPECT_DOUBLE_EQ(PricePerGb(p, "", "a"), 0);                      // unknown region
  ASSERT_TRUE(SetPairPrice(p, "a->a", 0.01).ok());
  EXPECT_DOUBLE_EQ(PricePerGb(p, "a", "a"), 0.01);  // an entry wins even within a region
}

TEST(CostTest, NetSavingIsBytesSavedMinusCpuRequestsAndStaging) {
  Prices p;  // defaults
  Usage u{.bytes_in = 10 * kGiB,
          .bytes_wire = 4 * kGiB,
          .cpu_seconds = 3600,
          .extra_requests = {.put = 2000, .get = 5000}};
  Costs c = CostOf(u, p, 0.02);
  EXPECT_DOUBLE_EQ(c.transfer_plain, 0.2);
  EXPECT_DOUBLE_EQ(c.transfer_wire, 0.08);
  EXPECT_NEAR(c.cpu, 0.048, 1e-12);
  EXPECT_NEAR(c.requests, 2 * 0.005 + 5 * 0.0004, 1e-12);
  EXPECT_NEAR(c.staging, 4 * 0.023 * 1 / 730.0, 1e-12);
  EXPECT_NEAR(c.net_saving, 0.2 - 0.08 - 0.048 - 0.012 - 4 * 0.023 / 730.0, 1e-12);
  // Within one region nothing is saved: compression only costs.
  EXPECT_LT(CostOf(u, p, 0).net_saving, 0);
}

TEST(CostTest, RequestClassesAsBillsCountThem) {
  EXPECT_EQ(ClassOf("PutObject"), RequestClass::kPut);
  EXPECT_EQ(ClassOf("UploadPart"), RequestClass::kPut);
  EXPECT_EQ(ClassOf("CreateMultipartUpload"), RequestClass::kPut);
  EXPECT_EQ(ClassOf("CompleteMultipartUpload"), RequestClass::kPut);
  EXPECT_EQ(ClassOf("ListObjectsV2"), RequestClass::kPut);
  EXPECT_EQ(ClassOf("CopyObject"), RequestClass::kPut);
  EXPECT_EQ(ClassOf("GetObject"), RequestClass::kGet);
  EXPECT_EQ(ClassOf("HeadObject"), RequestClass::kGet);
  EXPECT_EQ(ClassOf("DeleteObject"), RequestClass::kFree);
  EXPECT_EQ(ClassOf("AbortMultipartUpload"), RequestClass::kFree);
}

TEST(CostTest, RefusesBadPricesNamingTheKey) {
  Prices p;
  Status s = SetPrice(p, "per_gb", -1);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(s.message().find("per_gb"), std::string::npos);
  EXPECT_FALSE(SetPrice(p, "per_cpu_second", std::nan("")).ok());
  EXPECT_FALSE(SetPrice(p, "per_gb", INFINITY).ok());
  s = SetPrice(p, "per_tb", 1);
  EXPECT_NE(s.message().find("unknown key 'per_tb'"), std::string::npos);
  EXPECT_FALSE(SetPairPrice(p, "a-b", 1).ok());
  EXPECT_FALSE(SetPairPrice(p, "->b", 1).ok());
  EXPECT_FALSE(SetPairPrice(p, "a->", 1).ok());
  EXPECT_FALSE(SetPairPrice(p, "a->b", -0.5).ok());
  ASSERT_TRUE(SetPrice(p, "staging_hours", 0).ok());
  EXPECT_DOUBLE_EQ(p.staging_hours, 0);
}

}  // namespace
}  // namespace ferry::estimate
