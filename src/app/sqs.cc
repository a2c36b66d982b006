// [[serve.sqs]] resolved (sqs.h).
#include "app/sqs.h"

#include "app/wiring.h"
#include "obs/log.h"
#include "s3/credentials.h"

namespace ferry::app {

Result<std::vector<SqsQueue>> ResolveSqsQueues(const Config& config,
                                               http::HttpTransport& http) {
  std::vector<SqsQueue> out;
  for (const SqsQueueConfig& q : config.serve.sqs) {
    const RemoteConfig* remote = nullptr;
    if (!q.remote.empty()) {
      auto it = config.remotes.find(q.remote);
      if (it == config.remotes.end()) {
        return Status::InvalidArgument("[[serve.sqs]] " + q.queue_url + ": unknown remote '" +
                                       q.remote + "'");
      }
      remote = &it->second;
    }
    SqsQueue queue;
    std::optional<http::TlsSettings> tls;  // the entry's own, else the remote's
    if (!q.ca_bundle.empty() || q.insecure_skip_verify) {
      const std::string owner = "[[serve.sqs]] " + q.queue_url;
      if (!q.ca_bundle.empty()) FERRY_RETURN_IF_ERROR(CheckCaBundleFile(q.ca_bundle, owner));
      if (q.insecure_skip_verify) {
        obs::Log(obs::Level::kWarn, owner + ": insecure_skip_verify = true: the queue "
                                    "endpoint's certificate is not checked");
      }
      tls.emplace();
      tls->ca_bundle = q.ca_bundle;
      tls->verify = !q.insecure_skip_verify;
      tls->untrusted_hint = q.ca_bundle.empty()
                                ? "set ca_bundle for " + owner
                                : owner + " trusts only the CAs of its ca_bundle " + q.ca_bundle;
    }
    auto endpoint = ResolveServiceEndpoint({.service = "sqs",
                                            .remote = remote,
                                            .queue_url = q.queue_url,
                                            .endpoint = q.endpoint,
                                            .region = q.region,
                                            .tls = std::move(tls)},
                                           http);
    if (!endpoint.ok()) return endpoint.status().WithContext("[[serve.sqs]] " + q.queue_url);
    queue.endpoint = std::move(endpoint).value();
    queue.options.queue_url = q.queue_url;
    queue.options.dead_letter_queue_url = q.dead_letter_queue_url;
    queue.options.wait_seconds = q.wait_seconds;
    queue.options.max_receives = q.max_receives;
    out.push_back(std::move(queue));
  }
  return out;
}

Result<s3::ServiceEndpoint> ResolveServiceEndpoint(const ServiceEndpointRequest& request,
                                                  http::HttpTransport& http) {
  const RemoteConfig* remote = request.remote;
  s3::ServiceEndpoint out;
  std::string& region = out.region;
  region = request.region;
  if (region.empty() && remote != nullptr) region = remote->region;
  if (region.empty()) region = sqs::RegionOfQueueUrl(request.queue_url);
  if (region.empty()) region = s3::RegionFromEnvironment(remote != nullptr ? remote->profile : "");
  if (region.empty()) region = "us-east-1";
  if (!request.endpoint.empty()) {
    out.url = request.endpoint;
  } else if (!request.queue_url.empty()) {
    out.url = sqs::UrlOrigin(request.queue_url);
  } else if (remote != nullptr && !remote->endpoint.empty()) {
    out.url = remote->endpoint;
  } else {
    out.url = "https://" + request.service + "." + region + ".amazonaws.com" +
              (region.starts_with("cn-") ? ".cn" : "");
  }
  while (!out.url.empty() && out.url.back() == '/') out.url.pop_back();
  if (request.tls) {
    out.tls = request.tls;
  } else if (remote != nullptr) {
    out.tls = RemoteTls(remote);
  }
  auto creds = RemoteCredentials({remote, out.url, region, out.tls, false}, http);
  if (!creds.ok()) return creds.status();
  out.credentials = std::move(creds->provider);
  return out;
}

}  // namespace ferry::app
