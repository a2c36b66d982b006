// A store's prices: the keys of [remotes.X.prices], AWS's defaults, and a run's cost.
#include "estimate/store_prices.h"

#include <gtest/gtest.h>

#include <cmath>

namespace ferry::estimate {
namespace {

constexpr uint64_t kStoreTestGiB = 1ull << 30;

TEST(StorePricesTest, EveryKeySetsItsPrice) {
  StorePrices p;
  ASSERT_TRUE(SetStorePrice(p, "per_1000_put", 1).ok());
  ASSERT_TRUE(SetStorePrice(p, "per_1000_copy", 2).ok());
  ASSERT_TRUE(SetStorePrice(p, "per_1000_list", 3).ok());
  ASSERT_TRUE(SetStorePrice(p, "per_10000_get", 4).ok());
  ASSERT_TRUE(SetStorePrice(p, "per_10000_head", 5).ok());
  ASSERT_TRUE(SetStorePrice(p, "per_gb_out", 6).ok());
  ASSERT_TRUE(SetStorePrice(p, "per_gb_month_GLACIER_IR", 7).ok());
  EXPECT_DOUBLE_EQ(PricePerRequest(p, "PUT"), 0.001);
  EXPECT_DOUBLE_EQ(PricePerRequest(p, "COPY"), 0.002);
  EXPECT_DOUBLE_EQ(PricePerRequest(p, "LIST"), 0.003);
  EXPECT_DOUBLE_EQ(PricePerRequest(p, "GET"), 0.0004);
  EXPECT_DOUBLE_EQ(PricePerRequest(p, "HEAD"), 0.0005);
  EXPECT_DOUBLE_EQ(PricePerRequest(p, "DELETE"), 0);
  EXPECT_DOUBLE_EQ(PricePerRequest(p, "OTHER"), 0);
  EXPECT_DOUBLE_EQ(p.per_gb_out, 6);
  EXPECT_DOUBLE_EQ(p.per_gb_month.at("GLACIER_IR"), 7);
}

TEST(StorePricesTest, UnknownKeysClassesAndBadValuesAreRefusedByName) {
  StorePrices p;
  Status s = SetStorePrice(p, "per_1000_gets", 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("unknown key 'per_1000_gets'"), std::string::npos);
  s = SetStorePrice(p, "per_gb_month_COLD", 1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("storage class 'COLD'"), std::string::npos);
  EXPECT_FALSE(SetStorePrice(p, "per_gb_month_", 1).ok());
  s = SetStorePrice(p, "per_gb_out", -1);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'per_gb_out' must be a number"), std::string::npos);
  EXPECT_FALSE(SetStorePrice(p, "per_1000_put", std::nan("")).ok());
  EXPECT_DOUBLE_EQ(p.per_gb_out, 0);  // a refused value leaves the price as it was
}

TEST(StorePricesTest, CostIsRequestsTimesPricesPlusBytesOut) {
  const StorePrices aws = AwsUsEast1ListPrices();
  EXPECT_EQ(aws.source, "AWS S3 us-east-1 list prices (defaults)");
  StoreUsage u;
  u.requests = {{"PUT", 2000}, {"COPY", 1000}, {"LIST", 10},  {"GET", 20000},
                {"HEAD", 10000}, {"DELETE", 500}, {"OTHER", 3}};
  u.bytes_out = 2 * kStoreTestGiB;
  const double want = 2 * 0.005 + 1 * 0.005 + 0.01 * 0.005 + 2 * 0.004 + 1 * 0.004 + 2 * 0.09;
  EXPECT_NEAR(StoreCost(u, aws), want, 1e-12);
  EXPECT_DOUBLE_EQ(StoreCost(u, StorePrices{}), 0);  // a store with every price 0
}

TEST(StorePricesTest, MonthlyStorageByClass) {
  const StorePrices aws = AwsUsEast1ListPrices();
  EXPECT_NEAR(MonthlyStorageCost(10 * kStoreTestGiB, aws, ""), 0.23, 1e-12);
  EXPECT_NEAR(MonthlyStorageCost(10 * kStoreTestGiB, aws, "DEEP_ARCHIVE"), 0.0099, 1e-12);
  EXPECT_DOUBLE_EQ(MonthlyStorageCost(10 * kStoreTestGiB, StorePrices{}, "STANDARD"), 0);
}

}  // namespace
}  // namespace ferry::estimate
