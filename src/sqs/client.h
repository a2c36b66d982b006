// SqsClient: the SQS calls of protocol.h sent to one SQS endpoint:
// POST / with the call's JSON, signed with SigV4 for service "sqs" (s3::SendSigned: the path is
// "/", the payload hashed), through the process's HttpTransport.
//
// No retries here: one call is one request. The poller (serve/sqs_poller.h) backs off and tries
// again. Errors: the transport's (kUnavailable for network faults, kCancelled when `stop` was
// requested) or the reply's (SqsError); an unreadable 2xx reply is kUnavailable.
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
#include "s3/service_call.h"
#include "s3/types.h"
#include "sqs/protocol.h"

namespace ferry::sqs {

// Where the calls go, the region that signs them and the credentials (s3/service_call.h).
using SqsEndpoint = s3::ServiceEndpoint;

class SqsClient {
 public:
  // `http` and `clock` (the signature's time) must outlive the client.
  SqsClient(SqsEndpoint endpoint, http::HttpTransport& http, Clock& clock);

  const SqsEndpoint& endpoint() const { return endpoint_; }

  Result<std::vector<Message>> Receive(const ReceiveRequest& request,
                                            std::stop_token stop);
  // At most kMaxBatch entries. The entries SQS did not delete (ids with their codes).
  Result<std::vector<DeleteFailure>> DeleteBatch(const std::string& queue_url,
                                                      const std::vector<DeleteEntry>& entries,
                                                      std::stop_token stop);
  Status Send(const std::string& queue_url, const std::string& body,
              const std::vector<std::pair<std::string, std::string>>& attributes,
              std::stop_token stop);
  Result<std::vector<std::pair<std::string, std::string>>> GetAttributes(
      const std::string& queue_url, const std::vector<std::string>& names, std::stop_token stop);

  // The queues' own calls (`ferry events setup|remove`). GetQueueUrl: kNotFound when there is
  // no queue of that name; CreateQueue: the queue's URL (also of an existing one with the same
  // attributes).
  Result<std::string> GetQueueUrl(const std::string& name, const std::string& owner_account,
                                  std::stop_token stop);
  Result<std::string> CreateQueue(
      const std::string& name, const std::vector<std::pair<std::string, std::string>>& attributes,
      std::stop_token stop);
  Status SetAttributes(const std::string& queue_url,
                       const std::vector<std::pair<std::string, std::string>>& attributes,
                       std::stop_token stop);
  Status DeleteQueue(const std::string& queue_url, std::stop_token stop);

 private:
  // The 2xx reply's body of `call` about `queue_url`; `timeout` bounds the whole request.
  Result<std::string> Post(const Call& call, const std::string& queue_url,
                           std::chrono::milliseconds timeout, std::stop_token stop);

  const SqsEndpoint endpoint_;
  http::HttpTransport& http_;
  Clock& clock_;
};

}  // namespace ferry::sqs
