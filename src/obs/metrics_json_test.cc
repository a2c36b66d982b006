// Registry::RenderJson: every family with its type, help and samples, parsed back with
// nlohmann::json.
#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "obs/metrics.h"

namespace ferry::obs {
namespace {

nlohmann::json FamilyNamed(const nlohmann::json& doc, const std::string& name) {
  for (const auto& f : doc.at("families")) {
    if (f.at("name") == name) return f;
  }
  ADD_FAILURE() << "no family " << name;
  return {};
}

TEST(MetricsJsonTest, CountersGaugesAndObservedSeriesWithLabels) {
  Registry r;
  auto requests = r.AddCounter("ferry_s3_requests_total", "S3 \"requests\"\nsent.",
                               {"operation", "status"});
  requests.WithLabels({"PutObject", "200"}).Add(3);
  requests.WithLabels({"Get\\Object", "503"}).Add();
  r.AddGauge("ferry_in_flight", "In flight.").Get().Set(2.5);
  Registration observed = r.Observe(MetricType::kCounter, "ferry_transfer_objects_copied_total",
                                    "Copied.", {}, {}, [] { return 7.0; });
  const nlohmann::json doc = nlohmann::json::parse(r.RenderJson());
  ASSERT_EQ(doc.at("families").size(), 3u);
  // name order, as in the exposition
  EXPECT_EQ(doc["families"][0]["name"], "ferry_in_flight");
  const nlohmann::json req = FamilyNamed(doc, "ferry_s3_requests_total");
  EXPECT_EQ(req["type"], "counter");
  EXPECT_EQ(req["help"], "S3 \"requests\"\nsent.");
  ASSERT_EQ(req["samples"].size(), 2u);
  EXPECT_EQ(req["samples"][0]["labels"],
            (nlohmann::json{{"operation", "Get\\Object"}, {"status", "503"}}));
  EXPECT_EQ(req["samples"][0]["value"], 1);
  EXPECT_EQ(req["samples"][1]["labels"]["operation"], "PutObject");
  EXPECT_EQ(req["samples"][1]["value"], 3);
  const nlohmann::json gauge = FamilyNamed(doc, "ferry_in_flight");
  EXPECT_EQ(gauge["type"], "gauge");
  EXPECT_EQ(gauge["samples"][0]["labels"], nlohmann::json::object());
  EXPECT_DOUBLE_EQ(gauge["samples"][0]["value"].get<double>(), 2.5);
  EXPECT_EQ(FamilyNamed(doc, "ferry_transfer_objects_copied_total")["samples"][0]["value"], 7);
}

TEST(MetricsJsonTest, HistogramHasCumulativeBucketsSumAndCount) {
  Registry r;
  auto h = r.AddHistogram("ferry_replication_latency_seconds", "Latency.",
                          {"rule", "destination"}, {0.1, 1, 2.5});
  Histogram& one = h.WithLabels({"r1", "rb:dst"});
  one.Observe(0.05);
  one.Observe(0.5);
  one.Observe(0.7);
  one.Observe(100);
  const nlohmann::json f =
      FamilyNamed(nlohmann::json::parse(r.RenderJson()), "ferry_replication_latency_seconds");
  EXPECT_EQ(f["type"], "histogram");
  ASSERT_EQ(f["samples"].size(), 1u);
  const nlohmann::json& s = f["samples"][0];
  EXPECT_EQ(s["labels"], (nlohmann::json{{"rule", "r1"}, {"destination", "rb:dst"}}));
  EXPECT_EQ(s["le"], (nlohmann::json{0.1, 1, 2.5}));
  EXPECT_EQ(s["cumulative"], (nlohmann::json{1, 3, 3, 4}));
  EXPECT_DOUBLE_EQ(s["sum"].get<double>(), 101.25);
  EXPECT_EQ(s["count"], 4);
  EXPECT_FALSE(s.contains("value"));
}

TEST(MetricsJsonTest, NonFiniteValuesAreNullAndControlCharactersEscaped) {
  Registry r;
  r.AddGauge("g_nan", "h").Get().Set(std::numeric_limits<double>::quiet_NaN());
  r.AddGauge("g_inf", "tab\there \x01").Get().Set(std::numeric_limits<double>::infinity());
  const std::string text = r.RenderJson();
  const nlohmann::json doc = nlohmann::json::parse(text);  // valid JSON
  EXPECT_TRUE(FamilyNamed(doc, "g_nan")["samples"][0]["value"].is_null());
  EXPECT_TRUE(FamilyNamed(doc, "g_inf")["samples"][0]["value"].is_null());
  EXPECT_EQ(FamilyNamed(doc, "g_inf")["help"], "tab\there \x01");
}

TEST(MetricsJsonTest, EmptyRegistryHasNoFamilies) {
  Registry r;
  EXPECT_EQ(nlohmann::json::parse(r.RenderJson()),
            (nlohmann::json{{"families", nlohmann::json::array()}}));
}

}  // namespace
}  // namespace ferry::obs
