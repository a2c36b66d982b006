// SqsClient: the SQS calls of the SQS intake (sqs_protocol.h) sent to one SQS endpoint:
// POST / with the call's JSON, signed with SigV4 for service "sqs" (s3/sigv4.h; the path is
// "/", the payload hashed), through the process's HttpTransport.
//
// No retries here: one call is one request. The poller (sqs_poller.h) backs off and tries
// again. Errors: the transport's (kUnavailable for network faults, kCancelled when `stop` was
// requested) or the reply's (sqs::SqsError); an unreadable 2xx reply is kUnavailable.
//
// A long poll (Receive) holds its request for up to wait_seconds: it runs on the caller's
// thread (the poller's own), never on the executor's workers.
//
// Thread-safety: calls may be made from any thread at once.
#pragma once

#include <chrono>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <memory>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"
#include "s3/client.h"
#include "s3/types.h"
#include "serve/sqs_protocol.h"

namespace ferry::serve {

struct SqsEndpoint {
  std::string url;     // scheme://host[:port] where the calls go (no path)
  std::string region;  // signs the calls
  // Fetched for every call (temporary credentials are refreshed); null: unsigned calls.
  std::shared_ptr<s3::CredentialsProvider> credentials;
};

class SqsClient {
 public:
  // `http` and `clock` (the signature's time) must outlive the client.
  SqsClient(SqsEndpoint endpoint, http::HttpTransport& http, Clock& clock);

  const SqsEndpoint& endpoint() const { return endpoint_; }

  Result<std::vector<sqs::Message>> Receive(const sqs::ReceiveRequest& request,
                                            std::stop_token stop);
  // At most sqs::kMaxBatch entries. The entries SQS did not delete (ids with their codes).
  Result<std::vector<sqs::DeleteFailure>> DeleteBatch(const std::string& queue_url,
                                                      const std::vector<sqs::DeleteEntry>& entries,
                                                      std::stop_token stop);
  Status Send(const std::string& queue_url, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& attributes,
              std::stop_token stop);
  Result<std::vector<std::pair<std::string, std::string>>> GetAttributes(
      const std::string& queue_url, const std::vector<std::string>& names, std::stop_token stop);

 private:
  // The 2xx reply's body of `call` about `queue_url`; `timeout` bounds the whole request.
  Result<std::string> Post(const sqs::Call& call, const std::string& queue_url,
                           std::chrono::milliseconds timeout, std::stop_token stop);

  const SqsEndpoint endpoint_;
  http::HttpTransport& http_;
  Clock& clock_;
};

}  // namespace ferry::serve
