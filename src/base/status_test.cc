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

// The one retry rule (base/status.h), code by code.
TEST(StatusTest, ClassifyTable) {
  struct Row {
    Status status;
    Retryability want;
  };
  const Row rows[] = {
      {Status::Unavailable("503 SlowDown"), Retryability::kRetryRequest},
      {Status::FailedPrecondition("source changed"), Retryability::kRetryWork},
      {Status::DataLoss("checksum mismatch"), Retryability::kRetryWork},
      {Status::NotFound("object not found"), Retryability::kRetryWork},
      {Status::NotFound("k").WithSubject(ErrorSubject::kObject), Retryability::kRetryWork},
      {Status::NotFound("bucket not found").WithSubject(ErrorSubject::kBucket),
       Retryability::kFinal},
      {Status::Cancelled("given back"), Retryability::kRetryWork},
      {Status::Internal("odd reply"), Retryability::kRetryWork},
      {Status::PermissionDenied("access denied"), Retryability::kFinal},
      {Status::Unauthenticated("bad password"), Retryability::kFinal},
      {Status::InvalidArgument("bad key"), Retryability::kFinal},
      {Status::NotSupported("no tags"), Retryability::kFinal},
      {Status::AlreadyExists("bucket exists"), Retryability::kFinal},
      {Status::Ok(), Retryability::kFinal},
  };
  for (const Row& r : rows) {
    EXPECT_EQ(Classify(r.status), r.want)
        << r.status.ToString() << " is " << RetryabilityName(Classify(r.status));
    EXPECT_EQ(IsRetryable(r.status), r.want != Retryability::kFinal) << r.status.ToString();
    EXPECT_EQ(r.status.transient(), r.want == Retryability::kRetryRequest) << r.status.ToString();
  }
}

TEST(StatusTest, SubjectSurvivesContextAndStaysOffOk) {
  Status s = Status::NotFound("bucket not found: b").WithSubject(ErrorSubject::kBucket);
  EXPECT_EQ(s.WithContext("source").subject(), ErrorSubject::kBucket);
  EXPECT_EQ(Classify(s.WithContext("source")), Retryability::kFinal);
  EXPECT_EQ(Status::Ok().WithSubject(ErrorSubject::kBucket).subject(),
            ErrorSubject::kUnspecified);
}

}  // namespace
}  // namespace ferry
