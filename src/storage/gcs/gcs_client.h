// GcsClient: the GCS JSON API of one endpoint and set of credentials over the process's
// HttpTransport: URLs, the OAuth2 token on every request (GcsTokenSource; none when
// anonymous), retries of transient failures (5xx, 429, 408, network faults: retry::Policy with
// full jitter, Retry-After honoured; a 401 once more with a fresh token), and error replies
// mapped to a Status with one clear line (docs/design/gcs.md §2).
//
// Thread-safety: Send may be called from many threads at once; the client owns no thread.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"
#include "retry/policy.h"
#include "storage/gcs/gcs_auth.h"
#include "storage/rest/rest_client.h"

namespace ferry::storage::gcs {

struct GcsOptions {
  GcsCredentials credentials;
  retry::Policy retry{};
  Clock* clock = nullptr;  // null: the system clock (ClockOr)
  // TLS settings of an https endpoint (a remote's ca_bundle); nullopt: the transport's own.
  std::optional<http::TlsSettings> tls;
};

// One request: what it is for (messages), where it goes, what it carries.
struct GcsCall {
  std::string operation;  // "objects.get", for messages
  std::string what;       // "gs://bucket/key", for messages
  std::string method = "GET";
  // The path under the endpoint, its segments already percent-encoded ("/storage/v1/b/B/o");
  // or, when `url` is set, the whole URL (a resumable upload's session URI) instead.
  std::string path;
  std::string url;
  std::vector<std::pair<std::string, std::string>> query;  // raw names and values
  http::Headers headers;
  std::span<const std::byte> body;
  // Receives a 2xx reply's body; null: it is collected into GcsReply::body (JSON replies).
  http::BodySink* sink = nullptr;
  // Statuses other than 2xx that are replies, not errors (308 of a resumable upload).
  int also_ok = 0;
  // One attempt only (a 401 still gets its one retry with a fresh token): for a request the
  // caller recovers from itself (a resumable chunk, which must not be sent twice blindly).
  bool single_attempt = false;
};

struct GcsReply {
  int status = 0;
  http::Headers headers;
  std::string body;  // when GcsCall::sink was null
};

class GcsClient {
 public:
  GcsClient(GcsOptions options, http::HttpTransport& http);
  ~GcsClient();

  // Sends `call` (retrying transient failures) and returns a 2xx (or `also_ok`) reply; any
  // other is its Status (MapGcsError). A sink that saw part of a failed attempt's body is
  // rewound before the next, or the failure is returned as is when it cannot be.
  Result<GcsReply> Send(const GcsCall& call, std::stop_token stop);

  const std::string& endpoint() const { return options_.credentials.endpoint; }
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }
  // A caller that retries a single_attempt call itself counts it here, with the policy and
  // clock the client's own retries use.
  void CountRetry() { retries_.fetch_add(1, std::memory_order_relaxed); }
  const retry::Policy& retry_policy() const { return options_.retry; }
  Clock& clock() { return clock_; }

 private:
  Result<GcsReply> SendOnce(const GcsCall& call, std::stop_token stop,
                            rest::Attempt& attempt);

  GcsOptions options_;
  http::HttpTransport& http_;
  Clock& clock_;
  std::unique_ptr<GcsTokenSource> tokens_;  // null when anonymous
  std::atomic<uint64_t> retries_{0};
};

// The Status of a non-2xx reply; `reason` is the JSON error's errors[0].reason. 404 of a
// bucket (reason/message says so) is kNotFound about the bucket (final), other 404s about the
// object, as is 410 (a session gone); 401 kUnauthenticated; 403 kPermissionDenied; 409
// kAlreadyExists; 412
// kFailedPrecondition (a precondition: a create-only write of an existing object, or a
// changed generation); 416 kDataLoss; 400 with a checksum mismatch kDataLoss; 501
// kNotSupported; 408, 429 and other 5xx kUnavailable; other 4xx kInvalidArgument.
Status MapGcsError(int http_status, std::string_view reason, std::string_view message,
                   std::string_view what);

// Percent-encodes an object name as one path segment ('/' too), as the JSON API wants.
std::string EncodeObjectName(std::string_view name);

}  // namespace ferry::storage::gcs
