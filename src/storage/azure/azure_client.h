// AzureClient: one Azure storage account's Blob API over the process's HttpTransport: URLs,
// Shared Key or SAS on every request, retries of transient failures (5xx, 429, network faults:
// retry::Policy with full jitter, Retry-After honoured), and the mapping of error replies to a
// Status with one clear line (docs/design/azure.md §2).
//
// Thread-safety: Send may be called from many threads at once; the client owns no thread.
#pragma once

#include <atomic>
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
#include "storage/azure/azure_auth.h"
#include "storage/rest/rest_client.h"

namespace ferry::storage::azure {

// The x-ms-version every request carries (Azurite accepts it; 2019-12-12 and later take Put
// Blob up to 5000 MiB and blocks up to 4000 MiB).
inline constexpr const char* kAzureApiVersion = "2021-08-06";

struct AzureOptions {
  AzureCredentials credentials;
  retry::Policy retry{};
  Clock* clock = nullptr;  // null: the system clock (ClockOr)
  // TLS settings of an https endpoint (a remote's ca_bundle); nullopt: the transport's own.
  std::optional<http::TlsSettings> tls;
};

// One request: what it is for (messages), where it goes, what it carries.
struct AzureCall {
  std::string operation;  // "Put Blob", for messages
  std::string method = "GET";
  std::string container;  // "" = the account
  std::string blob;       // full blob name; "" = the container
  std::vector<std::pair<std::string, std::string>> query;  // raw names and values
  http::Headers headers;
  std::span<const std::byte> body;
  // Receives a 2xx reply's body; null: it is collected into AzureReply::body (XML replies).
  http::BodySink* sink = nullptr;
};

struct AzureReply {
  int status = 0;
  http::Headers headers;
  std::string body;  // when AzureCall::sink was null
};

class AzureClient {
 public:
  AzureClient(AzureOptions options, http::HttpTransport& http);

  // Sends `call` (retrying transient failures) and returns a 2xx reply; any other reply is
  // its Status (MapAzureError). A sink that saw part of a failed attempt's body is rewound
  // before the next, or the failure is returned as is when it cannot be.
  Result<AzureReply> Send(const AzureCall& call, std::stop_token stop);

  // One subrequest of a Blob Batch (azure_batch.cc): "METHOD PATH HTTP/1.1", `call`'s headers,
  // x-ms-date, x-ms-version, its own Shared Key Authorization and Content-Length: 0, ending in
  // an empty line; `call` has no body. Shared Key only: kNotSupported with a SAS.
  Result<std::string> BatchSubrequest(const AzureCall& call) const;

  const std::string& account() const { return options_.credentials.account; }
  // "az://ACCOUNT/": the start of every Describe() of this account's backends.
  std::string Describe() const { return "az://" + account() + "/"; }
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  Result<AzureReply> SendOnce(const AzureCall& call, std::stop_token stop,
                              rest::Attempt& attempt);
  std::string Url(const AzureCall& call, std::string& path) const;

  AzureOptions options_;
  http::HttpTransport& http_;
  Clock& clock_;
  std::atomic<uint64_t> retries_{0};
};

// The Status of a non-2xx reply: `code` is the x-ms-error-code header or the XML body's
// <Code>. 404 ContainerNotFound is kNotFound about the bucket (final), other 404s about the
// object; 403 AuthenticationFailed kUnauthenticated, other 403s kPermissionDenied; 409
// BlobAlreadyExists kAlreadyExists; 412 kFailedPrecondition; 416 kDataLoss (past the end);
// 400 Md5Mismatch kDataLoss; 5xx and 429 kUnavailable; other 4xx kInvalidArgument.
Status MapAzureError(int http_status, std::string_view code, std::string_view message,
                     std::string_view what);

// "Sun, 22 Nov 2026 00:53:21 GMT": x-ms-date.
std::string FormatRfc1123(std::chrono::system_clock::time_point t);

}  // namespace ferry::storage::azure
