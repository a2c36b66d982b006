// Internal to the s3 module: the shared call path of S3Client (S3Client::Call) and helpers used
// by several operations in s3/ops/. Not for use outside src/s3/.
//
// Every operation describes its request as a RequestSpec (pure data), hands it to
// S3Client::Call::Run, and parses the Reply with a pure function. Thread-safe like S3Client.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/status.h"
#include "http/transport.h"
#include "s3/client.h"
#include "s3/errors.h"
#include "s3/uri.h"

namespace ferry::s3 {

// The longest pause a reply's Retry-After is followed for (longer ones are cut to it).
inline constexpr uint64_t kMaxRetryAfterSeconds = 60;

// The pause a throttling reply asks for: Retry-After in seconds or as an HTTP date (after
// `now`), at most kMaxRetryAfterSeconds; 0 when it asks for none or cannot be read.
std::chrono::milliseconds RetryAfter(const http::Headers& headers,
                                     std::chrono::system_clock::time_point now);

// A successful (2xx) reply.
struct Reply {
  int status = 0;
  http::Headers headers;
  std::string body;  // empty when the body went to RequestSpec::sink
};

// One S3 request as an operation describes it.
struct RequestSpec {
  std::string method = "GET";
  std::string_view bucket;  // empty: the service
  std::string_view key;     // empty: the bucket
  QueryParams query;        // raw names and values; encoded and sorted by BuildUrl
  http::Headers headers;    // operation headers (Content-MD5, x-amz-meta-*, Range, ...)
  std::span<const std::byte> body;
  std::string_view upload_id;  // for error messages only
  // When set, the body of a 2xx reply goes to this sink (GetObject) instead of Reply::body.
  // Error bodies never reach it. It is rewound before a retry (BodySink::Rewind).
  http::BodySink* sink = nullptr;
  // Treat an <Error> document inside a 200 reply as a failure (CopyObject, UploadPartCopy,
  // CompleteMultipartUpload: S3 may report late failures that way).
  bool error_in_200 = false;
  // Total attempts; 0 means options().retry.max_attempts.
  int max_attempts = 0;
  // The S3 operation's name for metrics ("PutObject"); empty: derived by OperationName.
  std::string_view operation;
  // The service of the SigV4 credential scope; empty: "s3" ("s3express" for directory
  // buckets). RGW's topic actions are signed for "sns" (s3/ops/topics.cc).
  std::string_view signing_service;
  // A write whose reply was lost (a network fault, a 5xx other than 503) may have been done
  // by the server: sent again, it would add a second version to a versioned bucket. When set,
  // it is asked after such a failure, before any retry: a reply when the write is found done
  // (returned as the request's), nullopt when not (retried as usual), an error when that
  // cannot be told (the failure is returned, not retried: sent again, it could be done twice).
  std::function<Result<std::optional<Reply>>()> done_despite_failure;
};

// The S3 API operation a request is (for the metrics' `operation` label), from its method,
// bucket/key, query parameters and x-amz-copy-source: "GetObject", "UploadPartCopy",
// "ListObjectsV2", ... RequestSpec::operation when set. Pure.
std::string_view OperationName(const RequestSpec& spec);

struct S3Client::Call {
  // Builds the URL, sets x-amz-content-sha256 (hex SHA-256 of the body; UNSIGNED-PAYLOAD only
  // over https when S3Options allows), signs with credentials fetched from the provider for
  // each attempt, and sends. Transient failures (kUnavailable: network faults, 5xx, SlowDown,
  // RequestTimeout, InternalError) are retried with full-jitter backoff slept on the client's
  // Clock, up to the attempt limit. Returns the 2xx reply, or the mapped error of the last
  // attempt (see s3/errors.h). kCancelled when `stop` is requested.
  static Result<Reply> Run(S3Client& client, const RequestSpec& spec, std::stop_token stop);

  // Sleeps the backoff before retry number `attempt` (1 = first retry) on the client's clock.
  // kCancelled when `stop` is requested meanwhile.
  // Waits before attempt `attempt` + 1: the retry policy's backoff, or the pause the reply
  // asked for (Retry-After) when that is longer.
  static Status Backoff(S3Client& client, int attempt, std::chrono::milliseconds at_least,
                        std::stop_token stop);

  // Counts one attempt's reply in the client's metrics (`http_status` 0: no reply), with the
  // `reply_bytes` of its body read out of the store.
  static void CountReply(S3Client& client, std::string_view operation, int http_status,
                         std::string_view error_body, uint64_t reply_bytes);

  static const S3Options& Options(const S3Client& client) { return client.options_; }

  // Whether Run sends a signed payload hash (x-amz-content-sha256 = the body's SHA-256, under
  // the signature): the server then refuses a body that is not the one hashed, so Content-MD5
  // adds nothing. False for UNSIGNED-PAYLOAD (https with S3Options allowing it) and anonymous
  // (unsigned) requests, where Content-MD5 is what makes the server check the body.
  static bool SignsPayload(S3Client& client);

  // Run's steps (s3/client.cc). What stays the same across a call's attempts, and one
  // attempt's request signed with the credentials (or session) it was signed with.
  struct Plan;
  struct Attempt;
  static Plan PlanOf(S3Client& client, const RequestSpec& spec);
  // Builds the attempt's request and signs it; the credentials' (or session's) error if they
  // cannot be had.
  static Status Prepare(S3Client& client, const RequestSpec& spec, const Plan& plan,
                        std::stop_token stop, Attempt& out);
  // The pause a throttling reply (429, 503) asked for with Retry-After (0 when none); every
  // request of the process to the endpoint is paused that long (http/limits.h).
  static std::chrono::milliseconds PauseAsked(S3Client& client, const Plan& plan,
                                              const Result<http::HttpResponse>& sent);
};

// An ETag in double quotes, as If-Match style headers want it ("" stays "").
std::string Quoted(std::string_view etag);

// Content-MD5 header value: base64 of the body's MD5.
std::string ContentMd5(std::span<const std::byte> body);

// Adds the headers of WriteOptions: content headers, x-amz-meta-*, x-amz-tagging (URL query
// form), x-amz-storage-class, the object lock and ACL headers (AddLockHeaders, AddAclHeaders).
// Content-MD5 is the caller's business.
void AddWriteHeaders(const WriteOptions& options, http::Headers& headers);
// x-amz-object-lock-mode and -retain-until-date (when lock.mode is set) and
// x-amz-object-lock-legal-hold: ON (when lock.legal_hold); nothing for an empty lock.
void AddLockHeaders(const ObjectLock& lock, http::Headers& headers);
// x-amz-acl and the x-amz-grant-* headers that are set.
void AddAclHeaders(const WriteAcl& acl, http::Headers& headers);

// "k1=v1&k2=v2" with names and values URI-encoded (x-amz-tagging).
std::string TaggingHeaderValue(const Tags& tags);

// The additional checksum a reply declares (x-amz-checksum-<algorithm>, x-amz-checksum-type);
// nullopt when none, or when malformed.
std::optional<checksum::Declared> ParseChecksumHeaders(const http::Headers& headers);
// x-amz-checksum-mode: ENABLED, which HEAD and GET need for S3 to tell the checksum.
inline void AskForChecksum(http::Headers& headers) {
  headers.Set("x-amz-checksum-mode", "ENABLED");
}

// The additional checksum algorithm of an upload: `asked`, else CRC32C for a directory bucket
// (which requires one), else none.
inline std::optional<checksum::Algorithm> UploadChecksum(
    bool directory_bucket, std::optional<checksum::Algorithm> asked) {
  if (asked) return asked;
  if (directory_bucket) return checksum::Algorithm::kCrc32c;
  return std::nullopt;
}

// An additional checksum a write sent, to compare with what the store echoes.
struct SentChecksum {
  checksum::Algorithm algorithm = checksum::Algorithm::kCrc32c;
  std::string value;
};
// Sets x-amz-checksum-<algorithm> to `known_value`, or to the checksum of `body` when empty,
// and x-amz-sdk-checksum-algorithm.
SentChecksum AddChecksumHeaders(checksum::Algorithm algorithm, std::string_view known_value,
                                std::span<const std::byte> body, http::Headers& headers);
// kDataLoss when `reply` echoes another value of the algorithm than was sent (`what` names the
// object or part); no echo is not checked.
Status CheckEchoedChecksum(const http::Headers& reply, const SentChecksum& sent,
                           std::string_view what);

// What GET/HEAD reply headers say about the object. `size` is the total object size from
// Content-Range when present (range GET), else Content-Length.
ObjectHead ParseObjectHead(const http::Headers& headers);

// Whether an object found at a key after a write whose reply was lost carries the user
// metadata that write sent: the same names, and the same values for ferry's own (plain ASCII:
// a replica's marks, the checksum, the mtime; users' values may come back encoded otherwise).
bool SentMetadataFound(const std::map<std::string, std::string>& found,
                       const std::map<std::string, std::string>& sent);

// The multipart ETag S3 computes for these parts: hex MD5 of the concatenated binary part MD5s,
// then "-<count>". "" when a part ETag is not a 32-digit hex MD5 (e.g. SSE-KMS).
std::string ExpectedMultipartEtag(std::span<const CompletedPart> parts);

}  // namespace ferry::s3
