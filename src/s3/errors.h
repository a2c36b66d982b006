// The one mapping from S3 replies (HTTP status + XML <Code>) to Status, as documented in
// s3/client.h. Messages are one line, name the bucket/key (or the endpoint for credential
// problems) and end with "(<status> <Code>)"; they never contain secrets or signatures.
//
// Called by the S3 client's shared call path (s3/client.cc) and by operations that parse
// per-key errors (DeleteObjects). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"
#include "s3/xml.h"

namespace ferry::s3 {

// What a failed request was about, for messages.
struct ErrorTarget {
  std::string_view endpoint;  // "http://127.0.0.1:7480"
  std::string_view bucket;
  std::string_view key;
  std::string_view upload_id;
  std::string_view access_key_id;  // named for InvalidAccessKeyId (an id, not a secret)
};

// Codes first, then the HTTP status:
//   NoSuchKey/NoSuchBucket/NoSuchUpload/NoSuchVersion/NoSuchTagSet, 404  -> kNotFound
//   AccessDenied/SignatureDoesNotMatch/InvalidAccessKeyId/RequestTimeTooSkewed, 401, 403
//                                                                        -> kPermissionDenied
//   PreconditionFailed, 412, 304                                         -> kFailedPrecondition
//   SlowDown/RequestTimeout/InternalError/ServiceUnavailable/OperationAborted,
//   429, 500, 502, 503, 504 and other 5xx                                -> kUnavailable
//   BucketAlreadyExists/BucketAlreadyOwnedByYou                          -> kAlreadyExists
//   NotImplemented, 501                                                  -> kNotSupported
//   anything else (400, other 4xx, 3xx)                                  -> kInvalidArgument
// `http_status` may be 200 for an <Error> sent inside a 200 reply, or 0 for a per-key error of
// a DeleteResult; both map by code, and an unknown code then counts as transient (S3 uses
// this for InternalError during copies).
// A kNotFound carries its subject (base/status.h ErrorSubject): kBucket for NoSuchBucket or a
// bodiless 404 of a request about the bucket itself (HEAD bucket), kObject otherwise; a missing
// bucket is final for every retry layer, a missing key is not.
Status StatusFromS3Error(int http_status, const S3ErrorInfo& error, const ErrorTarget& target);

// Parses `body` as an <Error> document (it may be empty, e.g. for HEAD) and maps it.
Status StatusFromReply(int http_status, std::string_view body, const ErrorTarget& target);

// A server's error message made fit for ours (S3's <Message>, SQS's "message"): some servers
// quote the request back, and a request carries credentials. The result is one line (line
// ends and tabs as spaces), cut where the server starts quoting the request it computed (AWS:
// "The Canonical String for this request should have been ...", "The String-to-Sign ..."),
// with the value after Authorization, x-amz-security-token, x-amz-s3session-token, Signature
// and Credential (":" or "=", any case; also X-Amz-Signature= of a URL) replaced by
// "<redacted>", then at most `max` bytes ("..." appended when cut there). Only the first
// max(max, 4096) bytes of `message` are looked at (a value cut there is redacted too).
std::string QuotableServerMessage(std::string_view message, size_t max = 300);

}  // namespace ferry::s3
