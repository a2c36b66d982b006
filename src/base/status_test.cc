#include "base/status.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  FERRY_ASSIGN_OR_RETURN(int h, Half(x));
  FERRY_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, WithContextPrefixesMessageAndKeepsCode) {
  Status s = Status::NotFound("no such key").WithContext("GET b/k");
  EXPECT_EQ(s.code(), ErrorCode::kNotFound);
  EXPECT_EQ(s.message(), "GET b/k: no such key");
  EXPECT_TRUE(Status::Ok().WithContext("x").ok());
}

TEST(StatusTest, AssignOrReturnPropagatesFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidArgument);
}

TEST(StatusTest, OnlyUnavailableIsTransient) {
  EXPECT_TRUE(Status::Unavailable("x").transient());
  EXPECT_FALSE(Status::PermissionDenied("x").transient());
  EXPECT_FALSE(Status::Ok().transient());
}

}  // namespace
}  // namespace ferry
