// --acl, --grants and --default-retention parsing (storage/access.h), and ObjectLock::locked_at.
#include "storage/access.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ferry::storage {
namespace {

TEST(AccessTest, CannedAcls) {
  for (const char* name : {"private", "public-read", "public-read-write", "authenticated-read",
                           "bucket-owner-read", "bucket-owner-full-control"}) {
    auto acl = ParseCannedAcl(name);
    ASSERT_TRUE(acl.ok()) << name;
    EXPECT_EQ(*acl, name);
  }
  auto bad = ParseCannedAcl("public");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("\"public\""), std::string::npos);
  EXPECT_EQ(bad.status().message().find('\n'), std::string::npos);
}

TEST(AccessTest, GrantsInTheAwsCliForm) {
  const std::vector<std::string> grants = {
      "read=id=alice", "READ=uri=http://acs.amazonaws.com/groups/global/AllUsers",
      "full=id=bob", "readacp=emailaddress=a@example.com", "writeacp=id=carol"};
  auto acl = ParseGrants(grants);
  ASSERT_TRUE(acl.ok()) << acl.status().ToString();
  EXPECT_EQ(acl->grant_read,
            "id=\"alice\", uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"");
  EXPECT_EQ(acl->grant_full_control, "id=\"bob\"");
  EXPECT_EQ(acl->grant_read_acp, "emailaddress=\"a@example.com\"");
  EXPECT_EQ(acl->grant_write_acp, "id=\"carol\"");
  EXPECT_TRUE(acl->canned.empty());
  EXPECT_TRUE(ParseGrants({})->empty());
  for (const char* bad : {"read", "read=id", "read=id=", "write=id=a", "read=user=a",
                          "read=id=a\"b", "read=id=a,id=b"}) {
    const std::vector<std::string> one = {bad};
    auto r = ParseGrants(one);
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument) << bad;
  }
}

TEST(AccessTest, RetentionRules) {
  auto r = ParseRetentionRule("governance:30");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->mode, "GOVERNANCE");
  EXPECT_EQ(r->days, 30);
  EXPECT_EQ(ParseRetentionRule("COMPLIANCE:365")->mode, "COMPLIANCE");
  for (const char* bad : {"GOVERNANCE", "GOVERNANCE:", "GOVERNANCE:0", "LEGAL:3",
                          "GOVERNANCE:36501", "GOVERNANCE:3d", ":3"}) {
    EXPECT_FALSE(ParseRetentionRule(bad).ok()) << bad;
  }
}

TEST(AccessTest, LockedAt) {
  const auto now = std::chrono::system_clock::time_point(std::chrono::hours(1000));
  ObjectLock none;
  EXPECT_FALSE(none.locked_at(now));
  ObjectLock retained{"GOVERNANCE", now + std::chrono::seconds(1), false};
  EXPECT_TRUE(retained.locked_at(now));
  EXPECT_FALSE(retained.locked_at(now + std::chrono::seconds(1)));
  ObjectLock held{"", {}, true};
  EXPECT_TRUE(held.locked_at(now));
}

}  // namespace
}  // namespace ferry::storage
