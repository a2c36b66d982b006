#include "s3/errors.h"

#include <algorithm>
#include <string>

#include "s3/uri.h"

namespace ferry::s3 {
namespace {

std::string Resource(const ErrorTarget& t) {
  if (t.bucket.empty()) return std::string(t.endpoint);
  return DisplayName(t.bucket, t.key);
}

std::string Lowered(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  return out;
}

// Where a message starts quoting the request as the server computed it.
size_t QuoteStart(const std::string& lower) {
  size_t cut = std::string::npos;
  for (std::string_view marker : {"the canonical string", "canonical request", "string-to-sign",
                                  "string to sign", "stringtosign"}) {
    cut = std::min(cut, lower.find(marker));
  }
  return cut;
}

// An Authorization value has a scheme, a space and the credentials ("Bearer X", "AWS4-HMAC-SHA256
// Credential=..."): a space ends only the other names' values.
bool EndsValue(char c, bool authorization) {
  return (c == ' ' && !authorization) || c == ',' || c == ';' || c == '&' || c == '"' ||
         c == '\'' || c == '<' || c == '>' || c == ')';
}

// `line` (one line) with the value after each credential name replaced by "<redacted>".
std::string RedactCredentials(const std::string& line) {
  const std::string lower = Lowered(line);
  // x-amz-signature and x-amz-credential end in the shorter names
  constexpr std::string_view kNames[] = {"authorization", "x-amz-security-token",
                                         "x-amz-s3session-token", "signature", "credential"};
  std::string out;
  size_t copied = 0;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t name_end = std::string::npos;
    size_t at = std::string::npos;
    bool authorization = false;
    for (std::string_view name : kNames) {
      const size_t f = lower.find(name, pos);
      if (f < at) {
        at = f;
        name_end = f + name.size();
        authorization = name == kNames[0];
      }
    }
    if (at == std::string::npos) break;
    size_t v = name_end;
    while (v < line.size() && line[v] == ' ') ++v;
    if (v >= line.size() || (line[v] != ':' && line[v] != '=')) {
      pos = name_end;
      continue;
    }
    ++v;
    while (v < line.size() && line[v] == ' ') ++v;
    size_t end = v;
    while (end < line.size() && !EndsValue(line[end], authorization)) ++end;
    if (end > v) {
      out.append(line, copied, v - copied).append("<redacted>");
      copied = end;
    }
    pos = std::max(end, name_end);
  }
  out.append(line, copied, std::string::npos);
  return out;
}

}  // namespace

std::string QuotableServerMessage(std::string_view message, size_t max) {
  // what is looked at of a long message (an error body may be megabytes)
  const size_t look = std::max<size_t>(max, 4096);
  const bool cut_short = message.size() > look;
  std::string line;
  line.reserve(std::min(message.size(), look));
  for (char c : message.substr(0, look)) {
    line.push_back(c == '\n' || c == '\r' || c == '\t' ? ' ' : c);
  }
  if (const size_t cut = QuoteStart(Lowered(line)); cut != std::string::npos) line.resize(cut);
  while (!line.empty() && line.back() == ' ') line.pop_back();
  line = RedactCredentials(line);
  if (line.size() > max) {
    line.resize(max);
    line.append("...");
  } else if (cut_short) {
    line.append("...");
  }
  return line;
}

namespace {

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
  // A read or copy of an archived object (GLACIER, DEEP_ARCHIVE, an Intelligent-Tiering
  // archive tier) not restored yet, or a restore of one that is not archived: the object's
  // state, not the caller's rights (docs/design/glacier.md).
  if (code == "InvalidObjectState") return ErrorCode::kFailedPrecondition;
  // A restore asked for while one runs (RestoreObject: kAlreadyInProgress).
  if (code == "RestoreAlreadyInProgress") return ErrorCode::kAlreadyExists;
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
  } else if (code == "InvalidObjectState") {
    m = "object is archived and not restored (or not archived, for a restore): " +
        Resource(target);
  } else if (code == "RestoreAlreadyInProgress") {
    m = "a restore is already in progress for " + Resource(target);
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
  if (with_server_message && !error.message.empty()) {
    m.append(": ").append(QuotableServerMessage(error.message));
  }
  m.append(")");
  if (http_status == 400 && code.empty() && !target.key.empty() && target.upload_id.empty()) {
    // A bodiless 400 about an object (a HEAD): what S3 and RGW answer to a read of an SSE-C
    // object without its key (docs/design/encryption.md).
    m.append(": an SSE-C encrypted object is read only with its customer key (--sse-c-key, "
             "--sse-c-copy-source-key, or the remote's sse_c_key_file)");
  }
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
