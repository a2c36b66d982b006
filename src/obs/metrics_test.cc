#include "obs/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace ferry::obs {
namespace {

TEST(MetricsTest, CountersAndGaugesRenderWithHelpTypeAndLabels) {
  Registry r;
  auto requests = r.AddCounter("ferry_s3_requests_total", "S3 requests sent.",
                               {"operation", "status"});
  requests.WithLabels({"PutObject", "200"}).Add(3);
  requests.WithLabels({"GetObject", "503"}).Add();
  r.AddGauge("ferry_in_flight", "Requests in flight.").Get().Set(2.5);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP ferry_in_flight Requests in flight.\n"
            "# TYPE ferry_in_flight gauge\n"
            "ferry_in_flight 2.5\n"
            "# HELP ferry_s3_requests_total S3 requests sent.\n"
            "# TYPE ferry_s3_requests_total counter\n"
            "ferry_s3_requests_total{operation=\"GetObject\",status=\"503\"} 1\n"
            "ferry_s3_requests_total{operation=\"PutObject\",status=\"200\"} 3\n");
}

TEST(MetricsTest, SameLabelsGiveTheSameSeriesAndSameNameTheSameFamily) {
  Registry r;
  Counter& a = r.AddCounter("c_total", "h", {"x"}).WithLabels({"1"});
  Counter& b = r.AddCounter("c_total", "h", {"x"}).WithLabels({"1"});
  EXPECT_EQ(&a, &b);
  a.Add(2);
  EXPECT_EQ(b.value(), 2u);
}

TEST(MetricsTest, HistogramRendersCumulativeBucketsSumAndCount) {
  Registry r;
  auto h = r.AddHistogram("ferry_s3_request_seconds", "Latency.", {"operation"}, {0.1, 1, 2.5});
  Histogram& put = h.WithLabels({"PutObject"});
  put.Observe(0.05);
  put.Observe(0.1);  // le is inclusive
  put.Observe(2);
  put.Observe(7);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP ferry_s3_request_seconds Latency.\n"
            "# TYPE ferry_s3_request_seconds histogram\n"
            "ferry_s3_request_seconds_bucket{operation=\"PutObject\",le=\"0.1\"} 2\n"
            "ferry_s3_request_seconds_bucket{operation=\"PutObject\",le=\"1\"} 2\n"
            "ferry_s3_request_seconds_bucket{operation=\"PutObject\",le=\"2.5\"} 3\n"
            "ferry_s3_request_seconds_bucket{operation=\"PutObject\",le=\"+Inf\"} 4\n"
            "ferry_s3_request_seconds_sum{operation=\"PutObject\"} 9.15\n"
            "ferry_s3_request_seconds_count{operation=\"PutObject\"} 4\n");
}

TEST(MetricsTest, HistogramWithoutLabels) {
  Registry r;
  r.AddHistogram("h_seconds", "h", {}, {1}).Get().Observe(0.5);
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP h_seconds h\n# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"1\"} 1\nh_seconds_bucket{le=\"+Inf\"} 1\n"
            "h_seconds_sum 0.5\nh_seconds_count 1\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  Registry r;
  r.AddCounter("e_total", "a \\ b\nc \"q\"", {"k"}).WithLabels({"x\"y\\z\nw"}).Add();
  EXPECT_EQ(r.RenderPrometheus(),
            "# HELP e_total a \\\\ b\\nc \"q\"\n# TYPE e_total counter\n"
            "e_total{k=\"x\\\"y\\\\z\\nw\"} 1\n");
}

TEST(MetricsTest, FormatsSpecialValues) {
  EXPECT_EQ(FormatSampleValue(0), "0");
  EXPECT_EQ(FormatSampleValue(12345678901.0), "12345678901");
  EXPECT_EQ(FormatSampleValue(0.25), "0.25");
  EXPECT_EQ(FormatSampleValue(1.0 / 0.0), "+Inf");
  EXPECT_EQ(FormatSampleValue(-1.0 / 0.0), "-Inf");
  EXPECT_EQ(FormatSampleValue(0.0 / 0.0), "NaN");
}

TEST(MetricsTest, ObservedSeriesReadAtRenderTimeAndGoneWithTheirRegistration) {
  Registry r;
  std::atomic<uint64_t> copied{0};
  {
    Registration reg = r.Observe(MetricType::kCounter, "ferry_objects_total", "Objects.",
                                 {"result"}, {"copied"}, [&] { return double(copied.load()); });
    copied = 7;
    EXPECT_NE(r.RenderPrometheus().find("ferry_objects_total{result=\"copied\"} 7\n"),
              std::string::npos);
    copied = 9;
    EXPECT_NE(r.RenderPrometheus().find("ferry_objects_total{result=\"copied\"} 9\n"),
              std::string::npos);
  }
  EXPECT_EQ(r.RenderPrometheus().find("result=\"copied\""), std::string::npos);
}

TEST(MetricsTest, DetachedSeriesKeepTheirLastValue) {
  Registry r;
  auto copied = std::make_unique<std::atomic<uint64_t>>(5);
  Registration reg = r.Observe(MetricType::kCounter, "done_total", "d", {}, {},
                               [p = copied.get()] { return double(p->load()); });
  reg.Detach();
  copied.reset();  // the function is never called again
  EXPECT_NE(r.RenderPrometheus().find("done_total 5\n"), std::string::npos);
  // A second run in the same process adds to it.
  std::atomic<uint64_t> again{2};
  Registration second = r.Observe(MetricType::kCounter, "done_total", "d", {}, {},
                                  [&] { return double(again.load()); });
  EXPECT_NE(r.RenderPrometheus().find("done_total 7\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentUpdatesAreAllCounted) {
  Registry r;
  auto fam = r.AddCounter("n_total", "n", {"t"});
  auto hist = r.AddHistogram("x_seconds", "x", {}, {1});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10000; ++i) {
        fam.WithLabels({t % 2 == 0 ? "even" : "odd"}).Add();
        hist.Get().Observe(0.5);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(fam.WithLabels({"even"}).value(), 20000u);
  EXPECT_EQ(fam.WithLabels({"odd"}).value(), 20000u);
  EXPECT_EQ(hist.Get().Read().count, 40000u);
  EXPECT_DOUBLE_EQ(hist.Get().Read().sum, 20000.0);
}

TEST(MetricsTest, WritesTheExpositionToAFile) {
  Registry r;
  r.AddCounter("w_total", "w").Get().Add(4);
  const std::string path = testing::TempDir() + "/ferry-metrics-test.prom";
  ASSERT_TRUE(WriteExpositionFile(r, path).ok());
  std::FILE* f = std::fopen(path.c_str(), "r");
  ASSERT_NE(f, nullptr);
  char buf[256] = {};
  const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
  std::fclose(f);
  EXPECT_EQ(std::string(buf, n), "# HELP w_total w\n# TYPE w_total counter\nw_total 4\n");
  EXPECT_EQ(WriteExpositionFile(r, "/nonexistent-dir/x.prom").code(),
            ErrorCode::kPermissionDenied);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ferry::obs

namespace ferry::obs {
namespace {

TEST(MetricsTest, TotalSumsAFamilyOrTheSeriesWithOneLabelValue) {
  Registry r;
  auto requests = r.AddCounter("req_total", "h", {"operation", "status"});
  requests.WithLabels({"GetObject", "200"}).Add(5);
  requests.WithLabels({"PutObject", "error"}).Add(2);
  requests.WithLabels({"GetObject", "error"}).Add(1);
  double observed = 7;
  Registration reg = r.Observe(MetricType::kCounter, "req_total", "h", {"operation", "status"},
                               {"HeadObject", "error"}, [&] { return observed; });
  EXPECT_EQ(r.Total("req_total"), 15);
  EXPECT_EQ(r.Total("req_total", "status", "error"), 10);
  EXPECT_EQ(r.Total("req_total", "operation", "GetObject"), 6);
  EXPECT_EQ(r.Total("req_total", "nope", "x"), 0);
  EXPECT_EQ(r.Total("missing_total"), 0);
}

}  // namespace
}  // namespace ferry::obs
