// dashboard::Handle: the embedded page and files with their ETag, /api/metrics, other paths
// left to the caller.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "dashboard/dashboard.h"

namespace ferry::dashboard {
namespace {

http::ServerRequest Get(std::string path) {
  http::ServerRequest r;
  r.method = "GET";
  r.path = std::move(path);
  return r;
}

std::string HeaderOf(const http::ServerResponse& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

TEST(DashboardTest, ServesThePageAndItsAssetsEmbedded) {
  obs::Registry registry;
  auto page = Handle(Get("/"), registry);
  ASSERT_TRUE(page.has_value());
  EXPECT_EQ(page->code, 200);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<html"), std::string::npos);
  // every file the page names is served
  for (const char* name : {"/assets/app.js", "/assets/style.css", "/assets/uPlot.iife.min.js",
                           "/assets/uPlot.min.css"}) {
    auto a = Handle(Get(name), registry);
    ASSERT_TRUE(a.has_value()) << name;
    EXPECT_EQ(a->code, 200) << name;
    EXPECT_GT(a->body.size(), 100u) << name;
    EXPECT_NE(page->body.find(std::string(name).substr(1)), std::string::npos) << name;
  }
  EXPECT_EQ(Handle(Get("/assets/app.js"), registry)->content_type,
            "text/javascript; charset=utf-8");
  EXPECT_EQ(Handle(Get("/assets/style.css"), registry)->content_type, "text/css; charset=utf-8");
  for (const Asset& a : Assets()) {
    EXPECT_EQ(Handle(Get(std::string(a.path)), registry)->body, a.bytes) << a.path;
  }
}

TEST(DashboardTest, EtagGivesNotModified) {
  obs::Registry registry;
  auto first = Handle(Get("/assets/app.js"), registry);
  const std::string etag = HeaderOf(*first, "ETag");
  ASSERT_EQ(etag.size(), 18u);  // 16 hex digits, quoted
  EXPECT_EQ(HeaderOf(*first, "Cache-Control"), "no-cache");
  http::ServerRequest again = Get("/assets/app.js");
  again.headers["if-none-match"] = etag;
  auto second = Handle(again, registry);
  EXPECT_EQ(second->code, 304);
  EXPECT_TRUE(second->body.empty());
  again.headers["if-none-match"] = "\"other\"";
  EXPECT_EQ(Handle(again, registry)->code, 200);
  // files differ, so do their tags
  EXPECT_NE(HeaderOf(*Handle(Get("/"), registry), "ETag"), etag);
}

TEST(DashboardTest, ApiMetricsIsTheRegistryAsJson) {
  obs::Registry registry;
  registry.AddCounter("ferry_events_recorded_total", "Events recorded.").Get().Add(4);
  auto reply = Handle(Get("/api/metrics"), registry);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->code, 200);
  EXPECT_EQ(reply->content_type, "application/json");
  const auto doc = nlohmann::json::parse(reply->body);
  EXPECT_EQ(doc["families"][0]["name"], "ferry_events_recorded_total");
  EXPECT_EQ(doc["families"][0]["samples"][0]["value"], 4);
}

TEST(DashboardTest, OtherPathsAreTheCallersAndOtherMethodsRefused) {
  obs::Registry registry;
  EXPECT_FALSE(Handle(Get("/metrics"), registry).has_value());
  EXPECT_FALSE(Handle(Get("/api/status"), registry).has_value());
  EXPECT_FALSE(Handle(Get("/assets/nope.js"), registry).has_value());
  EXPECT_FALSE(Handle(Get("/index.html/"), registry).has_value());
  http::ServerRequest post = Get("/api/metrics");
  post.method = "POST";
  EXPECT_EQ(Handle(post, registry)->code, 405);
  post.path = "/";
  EXPECT_EQ(Handle(post, registry)->code, 405);
  http::ServerRequest head = Get("/");
  head.method = "HEAD";
  EXPECT_EQ(Handle(head, registry)->code, 200);
}

TEST(DashboardTest, ProcessStatusSaysThereIsNoStore) {
  const auto doc = nlohmann::json::parse(ProcessStatusJson("wor\"ker", 0));
  EXPECT_EQ(doc["store"], false);
  EXPECT_EQ(doc["command"], "wor\"ker");
  EXPECT_EQ(doc["started"], "1970-01-01T00:00:00Z");
  EXPECT_GT(doc["pid"].get<int>(), 0);
}

}  // namespace
}  // namespace ferry::dashboard
