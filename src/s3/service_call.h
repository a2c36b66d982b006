// One call to an AWS service other than S3 (SQS, SNS): where it goes, how it is signed, and
// the send itself. The clients of those services (sqs/client.h, sns/client.h) build their
// requests (JSON or form bodies, pure) and map their replies; this is what they share.
//
//   SendSigned: POST `body` to endpoint.url + "/" with `headers`, signed with SigV4 for
//   `service` in endpoint.region (the path normalized and the payload hashed, as every AWS
//   service but S3 wants) unless the credentials are anonymous or absent, through `http`.
//   The reply (any status) with its body, at most 4 MiB.
//
// No retries; errors are the transport's (kUnavailable, kCancelled) or the credentials'.
// Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"
#include "s3/client.h"

namespace ferry::s3 {

struct ServiceEndpoint {
  std::string url;     // scheme://host[:port] where the calls go (no path)
  std::string region;  // signs the calls
  // Fetched for every call (temporary credentials are refreshed); null: unsigned calls.
  std::shared_ptr<CredentialsProvider> credentials;
  // How an https endpoint's certificate is checked (a remote's ca_bundle or
  // insecure_skip_verify, a queue's own); nullopt: the transport's defaults.
  std::optional<http::TlsSettings> tls;
};

struct ServiceReply {
  int status = 0;
  http::Headers headers;
  std::string body;
};

Result<ServiceReply> SendSigned(const ServiceEndpoint& endpoint, std::string_view service,
                                http::Headers headers, const std::string& body,
                                std::chrono::milliseconds timeout, http::HttpTransport& http,
                                Clock& clock, std::stop_token stop);

}  // namespace ferry::s3
