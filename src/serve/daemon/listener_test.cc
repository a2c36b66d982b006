// listener.h: which listen addresses are loopback only, and who may read the admin paths.
#include "serve/daemon/listener.h"

#include <gtest/gtest.h>

namespace ferry::serve::daemon {
namespace {

http::ServerRequest Get(const std::string& path, const std::string& authorization = "") {
  http::ServerRequest r;
  r.method = "GET";
  r.path = path;
  if (!authorization.empty()) r.headers["authorization"] = authorization;
  return r;
}

TEST(LoopbackOnlyTest, LoopbackAddressesOnly) {
  EXPECT_TRUE(LoopbackOnly("127.0.0.1:9380"));
  EXPECT_TRUE(LoopbackOnly("127.1.2.3:9380"));
  EXPECT_TRUE(LoopbackOnly("9380"));  // a port alone binds 127.0.0.1
  EXPECT_TRUE(LoopbackOnly("[::1]:9380"));
  EXPECT_FALSE(LoopbackOnly("0.0.0.0:9380"));
  EXPECT_FALSE(LoopbackOnly("[::]:9380"));
  EXPECT_FALSE(LoopbackOnly("10.1.2.3:9380"));
  EXPECT_FALSE(LoopbackOnly("not an address"));
}

TEST(AdminAccessTest, LoopbackListenerWithoutTokenAnswers) {
  AdminAccess access;
  access.set({.token = "", .admin_listener = false, .public_loopback = true});
  EXPECT_FALSE(access.Refusal(Get("/metrics"), false).has_value());
}

TEST(AdminAccessTest, ReachableListenerWithoutTokenRefuses403) {
  AdminAccess access;
  access.set({.token = "", .admin_listener = false, .public_loopback = false});
  auto refused = access.Refusal(Get("/api/status"), false);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, 403);
  EXPECT_NE(refused->body.find("admin_listen"), std::string::npos);
}

TEST(AdminAccessTest, AdminListenerTakesThePathsAway) {
  AdminAccess access;
  access.set({.token = "", .admin_listener = true, .public_loopback = true});
  auto refused = access.Refusal(Get("/metrics"), false);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, 404);
  EXPECT_FALSE(access.Refusal(Get("/metrics"), true).has_value());
}

TEST(AdminAccessTest, TokenAskedOfEveryRequest) {
  AdminAccess access;
  access.set({.token = "s3cret", .admin_listener = false, .public_loopback = false});
  for (const std::string& header : {std::string(), std::string("Bearer wrong!"),
                                    std::string("Bearer s3cre"), std::string("Basic s3cret"),
                                    std::string("Bearer ")}) {
    auto refused = access.Refusal(Get("/metrics", header), false);
    ASSERT_TRUE(refused.has_value()) << header;
    EXPECT_EQ(refused->code, 401) << header;
    ASSERT_EQ(refused->headers.size(), 1u);
    EXPECT_EQ(refused->headers[0].first, "WWW-Authenticate");
  }
  EXPECT_FALSE(access.Refusal(Get("/metrics", "Bearer s3cret"), false).has_value());
  EXPECT_FALSE(access.Refusal(Get("/metrics", "Bearer s3cret"), true).has_value());
}

TEST(AdminAccessTest, NewRulesReplaceTheOld) {
  AdminAccess access;
  access.set({.token = "a", .admin_listener = false, .public_loopback = true});
  ASSERT_TRUE(access.Refusal(Get("/metrics"), false).has_value());
  access.set({.token = "", .admin_listener = false, .public_loopback = true});
  EXPECT_FALSE(access.Refusal(Get("/metrics"), false).has_value());
}

}  // namespace
}  // namespace ferry::serve::daemon
