// The [[serve.sqs]] queues of the config (app/config.h) made ready for serve::SqsPoller: where
// each one's calls go, the region and credentials that sign them, and the poller's options.
//
//   endpoint:    the entry's `endpoint`, else the queue URL's scheme://host[:port] (AWS's queue
//                URLs name their region's SQS endpoint; moto's name the server itself)
//   region:      the entry's `region`, else its remote's, else the queue URL's
//                (sqs.REGION.amazonaws.com), else the AWS environment's, else us-east-1
//   credentials: the remote's (app::RemoteCredentials), else the AWS environment chain
//
// Errors: kInvalidArgument (a remote's credential variables unset), kNotFound (no credentials
// anywhere), naming the queue. Reads the environment; called once at start-up.
#pragma once

#include <vector>

#include "app/config.h"
#include "base/status.h"
#include "serve/sqs_poller.h"

namespace ferry::app {

struct SqsQueue {
  sqs::SqsEndpoint endpoint;
  serve::SqsPollerOptions options;  // clock and registry left null (the process's)
};

// The calls of the credential chain (STS, metadata) go through `http`, the process's one
// transport, which must outlive the queues' providers.
Result<std::vector<SqsQueue>> ResolveSqsQueues(const Config& config, http::HttpTransport& http);

// One endpoint of an AWS service other than S3 (SQS; SNS for `ferry events setup
// --sns-topic`), by the rules above: `ferry events setup|show|remove` use it too.
struct ServiceEndpointRequest {
  std::string service = "sqs";           // "sqs" or "sns": the default host's first label
  const RemoteConfig* remote = nullptr;  // null: the AWS environment chain
  std::string queue_url;                 // "" when only a name is known (SQS)
  std::string endpoint;                  // given: wins
  std::string region;                    // given: wins
  // How the endpoint's certificate is checked (given: wins); else the remote's (RemoteTls),
  // else the transport's defaults.
  std::optional<http::TlsSettings> tls;
};
// Without an endpoint nor a queue URL: the remote's endpoint when it has one (moto and other
// stores serving SQS and SNS on their S3 endpoint), else https://SERVICE.REGION.amazonaws.com
// (.com.cn for cn-* regions). Errors as ResolveSqsQueues', without the queue's name.
Result<s3::ServiceEndpoint> ResolveServiceEndpoint(const ServiceEndpointRequest& request,
                                                  http::HttpTransport& http);

}  // namespace ferry::app
