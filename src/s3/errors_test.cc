#include "s3/errors.h"

#include <gtest/gtest.h>

namespace ferry::s3 {
namespace {

const ErrorTarget kObject{"http://127.0.0.1:7480", "bucket", "key", "", "AKIAEXAMPLE"};
const ErrorTarget kBucket{"http://127.0.0.1:7480", "b", "", "", "AKIAEXAMPLE"};

std::string ErrorXml(const std::string& code) {
  return "<Error><Code>" + code + "</Code><Message/></Error>";
}

TEST(ErrorsTest, MapsCodesAndStatuses) {
  struct Case {
    int status;
    const char* code;
    ErrorCode want;
  } cases[] = {
      {404, "NoSuchKey", ErrorCode::kNotFound},
      {404, "NoSuchBucket", ErrorCode::kNotFound},
      {404, "NoSuchUpload", ErrorCode::kNotFound},
      {404, "", ErrorCode::kNotFound},  // HEAD: no body
      {403, "AccessDenied", ErrorCode::kPermissionDenied},
      {403, "SignatureDoesNotMatch", ErrorCode::kPermissionDenied},
      {403, "InvalidAccessKeyId", ErrorCode::kPermissionDenied},
      {403, "", ErrorCode::kPermissionDenied},
      {412, "PreconditionFailed", ErrorCode::kFailedPrecondition},
      {412, "", ErrorCode::kFailedPrecondition},
      {500, "InternalError", ErrorCode::kUnavailable},
      {502, "", ErrorCode::kUnavailable},
      {503, "SlowDown", ErrorCode::kUnavailable},
      {503, "ServiceUnavailable", ErrorCode::kUnavailable},
      {504, "", ErrorCode::kUnavailable},
      {400, "RequestTimeout", ErrorCode::kUnavailable},
      {429, "", ErrorCode::kUnavailable},
      {400, "InvalidArgument", ErrorCode::kInvalidArgument},
      {400, "BadDigest", ErrorCode::kDataLoss},  // corrupted on the way: retried by the engine
      {400, "XAmzContentSHA256Mismatch", ErrorCode::kDataLoss},  // the signed payload's check
      {416, "InvalidRange", ErrorCode::kDataLoss},
      {409, "BucketAlreadyOwnedByYou", ErrorCode::kAlreadyExists},
      {409, "BucketNotEmpty", ErrorCode::kInvalidArgument},
      {501, "NotImplemented", ErrorCode::kNotSupported},
      {400, "InvalidStorageClass", ErrorCode::kNotSupported},
      {200, "InternalError", ErrorCode::kUnavailable},  // error inside a 200 reply
      {200, "SomethingNew", ErrorCode::kUnavailable},
  };
  for (const Case& c : cases) {
    const std::string body = *c.code ? ErrorXml(c.code) : "";
    EXPECT_EQ(StatusFromReply(c.status, body, kObject).code(), c.want) << c.status << " " << c.code;
  }
}

TEST(ErrorsTest, MessagesAreOneClearLine) {
  EXPECT_EQ(StatusFromReply(403, ErrorXml("AccessDenied"), kObject).message(),
            "access denied for s3://bucket/key (403 AccessDenied)");
  EXPECT_EQ(StatusFromReply(404, ErrorXml("NoSuchBucket"), kBucket).message(),
            "bucket not found: s3://b (404 NoSuchBucket)");
  EXPECT_EQ(StatusFromReply(404, ErrorXml("NoSuchKey"), kObject).message(),
            "object not found: s3://bucket/key (404 NoSuchKey)");
  EXPECT_EQ(StatusFromReply(403, ErrorXml("SignatureDoesNotMatch"), kObject).message(),
            "wrong credentials for http://127.0.0.1:7480 (403 SignatureDoesNotMatch)");
  EXPECT_EQ(StatusFromReply(403, ErrorXml("InvalidAccessKeyId"), kObject).message(),
            "unknown access key AKIAEXAMPLE for http://127.0.0.1:7480 (403 InvalidAccessKeyId)");
  EXPECT_EQ(StatusFromReply(404, "", kObject).message(), "not found: s3://bucket/key (404)");
  EXPECT_EQ(StatusFromReply(412, ErrorXml("PreconditionFailed"), kObject).message(),
            "precondition failed for s3://bucket/key (412 PreconditionFailed)");
  const ErrorTarget upload{"http://h", "b", "k", "u-1", ""};
  EXPECT_EQ(StatusFromReply(404, ErrorXml("NoSuchUpload"), upload).message(),
            "upload not found: u-1 of s3://b/k (404 NoSuchUpload)");
  const ErrorTarget service{"http://h", "", "", "", ""};
  EXPECT_EQ(StatusFromReply(403, "", service).message(),
            "access denied or wrong credentials for http://h (403)");
}

TEST(ErrorsTest, ServerMessageIsKeptForRejectedRequestsOnOneLine) {
  const Status s = StatusFromReply(
      400,
      "<Error><Code>InvalidStorageClass</Code><Message>The storage class\nyou specified"
      "</Message></Error>",
      kObject);
  EXPECT_EQ(s.message(),
            "request rejected for s3://bucket/key (400 InvalidStorageClass: The storage class you "
            "specified)");
}

// A missing bucket must fail every retry layer at once; a missing key may be a race.
TEST(ErrorsTest, MissingBucketIsFinalMissingKeyIsNot) {
  const Status no_bucket = StatusFromReply(404, ErrorXml("NoSuchBucket"), kObject);
  EXPECT_EQ(no_bucket.subject(), ErrorSubject::kBucket);
  EXPECT_EQ(Classify(no_bucket), Retryability::kFinal);
  const Status head_bucket = StatusFromReply(404, "", kBucket);  // HEAD bucket: no body
  EXPECT_EQ(Classify(head_bucket), Retryability::kFinal);
  const Status no_key = StatusFromReply(404, ErrorXml("NoSuchKey"), kObject);
  EXPECT_EQ(no_key.subject(), ErrorSubject::kObject);
  EXPECT_EQ(Classify(no_key), Retryability::kRetryWork);
  EXPECT_EQ(Classify(StatusFromReply(404, "", kObject)), Retryability::kRetryWork);
  EXPECT_EQ(Classify(StatusFromReply(403, ErrorXml("AccessDenied"), kObject)),
            Retryability::kFinal);
  EXPECT_EQ(Classify(StatusFromReply(503, ErrorXml("SlowDown"), kObject)),
            Retryability::kRetryRequest);
}

TEST(ErrorsTest, PerKeyErrorsHaveNoStatus) {
  const Status s = StatusFromS3Error(0, {"AccessDenied", "Access Denied"}, kObject);
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "access denied for s3://bucket/key (AccessDenied)");
}

}  // namespace
}  // namespace ferry::s3
