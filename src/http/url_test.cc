#include "http/url.h"

#include <gtest/gtest.h>

namespace ferry::http {
namespace {

TEST(ParseUrlTest, ThePartsAsLibcurlReadsThem) {
  auto u = ParseUrl("HTTP://127.1:8080/a/b?q=1#f");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->host, "127.0.0.1");  // normalised as libcurl connects to it
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->path, "/a/b");
  EXPECT_FALSE(u->has_login);
  u = ParseUrl("https://[0:0:0:0:0:0:0:1]");
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "");
  EXPECT_EQ(u->path, "/");
  EXPECT_EQ(ParseUrl("http://2130706433/")->host, "127.0.0.1");
}

TEST(ParseUrlTest, TheHostIsTheOneAfterTheLogin) {
  for (const char* url : {"http://127.0.0.1@evil.example/", "http://[::1]@evil.example/",
                          "http://127.0.0.1:80\\@evil.example/"}) {
    auto u = ParseUrl(url);
    ASSERT_TRUE(u.ok()) << url;
    EXPECT_EQ(u->host, "evil.example") << url;
    EXPECT_TRUE(u->has_login) << url;
  }
  for (const char* url : {"http://@h/", "http://:@h/", "http://;o@h/", "http://u:p@h/"}) {
    EXPECT_TRUE(ParseUrl(url)->has_login) << url;
  }
  EXPECT_EQ(ParseUrl("http://evil.example#@127.0.0.1/")->host, "evil.example");
}

TEST(ParseUrlTest, WhatLibcurlRefusesIsOneLineWithoutTheUrl) {
  for (const char* url : {"127.0.0.1/x", "//h/x", "http://h:99999/", "http://h /SECRET",
                          "http:SECRET"}) {
    auto u = ParseUrl(url);
    ASSERT_FALSE(u.ok()) << url;
    EXPECT_EQ(u.status().code(), ErrorCode::kInvalidArgument) << url;
    EXPECT_EQ(u.status().message().find("SECRET"), std::string::npos) << u.status().message();
    EXPECT_TRUE(u.status().message().starts_with("not a URL: ")) << u.status().message();
  }
}

}  // namespace
}  // namespace ferry::http
