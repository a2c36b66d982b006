#include "s3/errors.h"

#include <string>

#include "s3/uri.h"

namespace ferry::s3 {
namespace {

std::string Resource(const ErrorTarget& t) {
  if (t.bucket.empty()) return std::string(t.endpoint);
  return DisplayName(t.bucket, t.key);
}

// One line, bounded: server messages may contain newlines or be long.
std::string OneLine(std::string_view s) {
  constexpr size_t kMax = 300;
  std::string out;
  for (char c : s.substr(0, kMax)) out.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  if (s.size() > kMax) out.append("...");
  return out;
}

ErrorCode CodeFor(int status, std::string_view code) {
  if (code == "NoSuchKey" || code == "NoSuchBucket" || code == "NoSuchUpload" ||
      code == "NoSuchVersion" || code == "NoSuchTagSet" || code == "NoSuchTagSetError") {
    return ErrorCode::kNotFound;
  }
  if (code == "AccessDenied" || code == "SignatureDoesNotMatch" || code == "InvalidAccessKeyId" ||
      code == "RequestTimeTooSkewed" || code == "InvalidToken" || code == "ExpiredToken") {
    return ErrorCode::kPermissionDenied;
  }
  if (code == "PreconditionFailed") return ErrorCode::kFailedPrecondition;
  // The body did not match its Content-MD5, its signed SHA-256 payload hash (the check that
  // replaces Content-MD5 on signed requests) or the declared length: it was corrupted or cut
  // on the way, or the source's declared MD5 does not describe the bytes read.
  if (code == "BadDigest" || code == "XAmzContentSHA256Mismatch" || code == "IncompleteBody") {
    return ErrorCode::kDataLoss;
  }
  if (code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" ||
      code == "ServiceUnavailable" || code == "OperationAborted") {
    return ErrorCode::kUnavailable;
  }
  if (code == "BucketAlreadyExists" || code == "BucketAlreadyOwnedByYou") {
    return ErrorCode::kAlreadyExists;
  }
  // A feature the store lacks: tags on Swift (501 NotImplemented), a storage class it does not
  // have (Swift, MinIO: 400 InvalidStorageClass). The engine copies without it and reports it.
  if (code == "NotImplemented" || code == "InvalidStorageClass") return ErrorCode::kNotSupported;
  // A range that starts past the end: the object is shorter than the reader was told.
  if (code == "InvalidRange" || status == 416) return ErrorCode::kDataLoss;
  if (status == 404) return ErrorCode::kNotFound;
  if (status == 401 || status == 403) return ErrorCode::kPermissionDenied;
  if (status == 412 || status == 304) return ErrorCode::kFailedPrecondition;
  if (status == 501) return ErrorCode::kNotSupported;
  if (status == 429 || status >= 500 || status < 300) return ErrorCode::kUnavailable;
  return ErrorCode::kInvalidArgument;
}

}  // namespace

Status StatusFromS3Error(int http_status, const S3ErrorInfo& error, const ErrorTarget& target) {
  const std::string_view code = error.code;
  const ErrorCode ec = CodeFor(http_status, code);
  std::string m;
  bool with_server_message = false;
  if (code == "SignatureDoesNotMatch") {
    m = "wrong credentials for " + std::string(target.endpoint);
  } else if (code == "InvalidAccessKeyId") {
    m = "unknown access key " + std::string(target.access_key_id) + " for " +
        std::string(target.endpoint);
  } else if (code == "RequestTimeTooSkewed") {
    m = "local clock too far from the server's for " + std::string(target.endpoint);
  } else if (code == "NoSuchBucket") {
    m = "bucket not found: " + DisplayName(target.bucket, {});
  } else if (code == "NoSuchUpload") {
    m = "upload not found: " + std::string(target.upload_id) + " of " + Resource(target);
  } else if (code == "NoSuchKey") {
    m = "object not found: " + Resource(target);
  } else {
    switch (ec) {
      case ErrorCode::kNotFound:
        m = "not found: " + Resource(target);
        break;
      case ErrorCode::kPermissionDenied:
        // Without a code (HEAD replies have no body) a bad signature looks the same.
        m = (code.empty() ? "access denied or wrong credentials for " : "access denied for ") +
            Resource(target);
        break;
      case ErrorCode::kFailedPrecondition:
        m = "precondition failed for " + Resource(target);
        break;
      case ErrorCode::kAlreadyExists:
        m = "already exists: " + Resource(target);
        break;
      case ErrorCode::kUnavailable:
        m = "server busy or failing for " + Resource(target);
        with_server_message = true;
        break;
      default:
        m = "request rejected for " + Resource(target);
        with_server_message = true;
    }
  }
  // Per-key errors of a DeleteResult have no HTTP status of their own (http_status 0).
  m.append(" (");
  if (http_status > 0) m.append(std::to_string(http_status));
  if (http_status > 0 && !code.empty()) m.append(" ");
  m.append(code);
  if (with_server_message && !error.message.empty()) m.append(": ").append(OneLine(error.message));
  m.append(")");
  Status status(ec, std::move(m));
  // A missing bucket is final for every retry layer; a missing key may be a race (base/status.h).
  if (ec == ErrorCode::kNotFound) {
    const bool bucket = code == "NoSuchBucket" || (code.empty() && target.key.empty() &&
                                                   target.upload_id.empty() &&
                                                   !target.bucket.empty());
    status = status.WithSubject(bucket ? ErrorSubject::kBucket : ErrorSubject::kObject);
  }
  return status;
}

Status StatusFromReply(int http_status, std::string_view body, const ErrorTarget& target) {
  return StatusFromS3Error(http_status, ParseError(body), target);
}

}  // namespace ferry::s3
