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

// Some servers quote the request back in their messages (AWS's query and JSON services the
// canonical request, session token included; others the Authorization header): none of it
// reaches ours.
TEST(ErrorsTest, ServerMessagesQuoteNoCredentials) {
  const std::string token = "IQoJb3JpZ2luX2VjEXAMPLEtoken";
  const std::string auth =
      "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20260101/us-east-1/s3/aws4_request, "
      "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=0123456789abcdef";
  const std::string xml = "<Error><Code>AuthorizationHeaderMalformed</Code><Message>Bad: "
                          "x-amz-security-token: " + token + "; Authorization: " + auth +
                          "</Message></Error>";
  const Status s = StatusFromReply(400, xml, kObject);
  EXPECT_EQ(s.code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "request rejected for s3://bucket/key (400 AuthorizationHeaderMalformed: Bad: "
            "x-amz-security-token: <redacted>; Authorization: <redacted>, "
            "SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=<redacted>)");

  // AWS's wording: the message up to where the quote starts, in one line
  const std::string aws =
      "The request signature we calculated does not match the signature you provided.\n\n"
      "The Canonical String for this request should have been\n'POST\n/\n\nhost:h\n"
      "x-amz-security-token:" + token + "\n\nhost;x-amz-security-token\nabc'\n\n"
      "The String-to-Sign should have been\n'AWS4-HMAC-SHA256\n...'";
  EXPECT_EQ(QuotableServerMessage(aws),
            "The request signature we calculated does not match the signature you provided.");
  // quoted in other words, on one line: the values are redacted
  EXPECT_EQ(QuotableServerMessage("got X-Amz-Security-Token=" + token + "&X-Amz-Signature=ab12"
                                  " and authorization:Bearer " + token + ", then"),
            "got X-Amz-Security-Token=<redacted>&X-Amz-Signature=<redacted> and "
            "authorization:<redacted>, then");
  // words that only name them are kept, and so is a message without any
  EXPECT_EQ(QuotableServerMessage("InvalidSignatureException: the security token included in "
                                  "the request is invalid; Authorization header missing"),
            "InvalidSignatureException: the security token included in the request is invalid; "
            "Authorization header missing");
  EXPECT_EQ(QuotableServerMessage("a\tb\r\nc  "), "a b  c");
  EXPECT_EQ(QuotableServerMessage(std::string(400, 'x')), std::string(300, 'x') + "...");
  EXPECT_EQ(QuotableServerMessage("abcdef", 3), "abc...");
  // a long message is looked at up to 4 KiB: a value cut there is still redacted
  EXPECT_EQ(QuotableServerMessage("Signature=" + std::string(10000, 'a'), 300),
            "Signature=<redacted>...");
}

TEST(ErrorsTest, PerKeyErrorsHaveNoStatus) {
  const Status s = StatusFromS3Error(0, {"AccessDenied", "Access Denied"}, kObject);
  EXPECT_EQ(s.code(), ErrorCode::kPermissionDenied);
  EXPECT_EQ(s.message(), "access denied for s3://bucket/key (AccessDenied)");
}

}  // namespace
}  // namespace ferry::s3
