// [[serve.sqs]] resolved (sqs.h).
#include "app/sqs.h"

#include "app/wiring.h"
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
    queue.endpoint.url = q.endpoint.empty() ? serve::sqs::UrlOrigin(q.queue_url) : q.endpoint;
    while (!queue.endpoint.url.empty() && queue.endpoint.url.back() == '/') {
      queue.endpoint.url.pop_back();
    }
    std::string& region = queue.endpoint.region;
    region = q.region;
    if (region.empty() && remote != nullptr) region = remote->region;
    if (region.empty()) region = serve::sqs::RegionOfQueueUrl(q.queue_url);
    if (region.empty()) region = s3::RegionFromEnvironment(remote != nullptr ? remote->profile : "");
    if (region.empty()) region = "us-east-1";
    auto creds = RemoteCredentials({remote, queue.endpoint.url, region, std::nullopt, false}, http);
    if (!creds.ok()) return creds.status().WithContext("[[serve.sqs]] " + q.queue_url);
    queue.endpoint.credentials = std::move(creds->provider);
    queue.options.queue_url = q.queue_url;
    queue.options.dead_letter_queue_url = q.dead_letter_queue_url;
    queue.options.wait_seconds = q.wait_seconds;
    queue.options.max_receives = q.max_receives;
    out.push_back(std::move(queue));
  }
  return out;
}

}  // namespace ferry::app
