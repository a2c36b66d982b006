// [[serve.sqs]] (config_sqs.h).
#include "app/config_sqs.h"

#include <optional>
#include <string_view>

#include "app/config_keys.h"

namespace ferry::app {
namespace {

constexpr std::string_view kSqsKeys[] = {"queue_url",    "remote",
                                         "endpoint",     "region",
                                         "wait_seconds", "dead_letter_queue_url",
                                         "max_receives", "ca_bundle",
                                         "insecure_skip_verify"};

// http(s)://host[:port]/path with a non-empty host and path (a queue URL).
bool QueueUrlShape(std::string_view url) {
  for (std::string_view scheme : {"https://", "http://"}) {
    if (!url.starts_with(scheme)) continue;
    const std::string_view rest = url.substr(scheme.size());
    const size_t slash = rest.find('/');
    return slash != std::string_view::npos && slash > 0 && slash + 1 < rest.size() &&
           rest.find_first_of(" ?#") == std::string_view::npos;
  }
  return false;
}

}  // namespace

Status ParseSqsQueues(const toml::node& node, const std::string& src,
                      const std::map<std::string, RemoteConfig>& remotes,
                      std::vector<SqsQueueConfig>& out) {
  const toml::array* list = node.as_array();
  if (list == nullptr) {
    return Status::InvalidArgument(src + ": [serve] 'sqs' must be [[serve.sqs]] tables");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string where = src + ": [[serve.sqs]] #" + std::to_string(i + 1);
    const toml::table* t = (*list)[i].as_table();
    if (t == nullptr) return Status::InvalidArgument(where + " must be a table");
    for (const auto& [k, v] : *t) {
      bool known = false;
      for (std::string_view want : kSqsKeys) known = known || k.str() == want;
      if (!known) {
        return Status::InvalidArgument(where + ": unknown key '" + std::string(k.str()) + "'");
      }
    }
    SqsQueueConfig q;
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "queue_url", q.queue_url, where));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "remote", q.remote, where));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "endpoint", q.endpoint, where));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "region", q.region, where));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "dead_letter_queue_url", q.dead_letter_queue_url, where));
    FERRY_RETURN_IF_ERROR(ReadWholeNumber(*t, "wait_seconds", 0, 20, q.wait_seconds, where));
    FERRY_RETURN_IF_ERROR(ReadWholeNumber(*t, "max_receives", 1, 1000, q.max_receives, where));
    FERRY_RETURN_IF_ERROR(ReadNonEmptyString(*t, "ca_bundle", q.ca_bundle, where));
    if (const toml::node* n = t->get("insecure_skip_verify")) {
      if (!n->is_boolean()) {
        return Status::InvalidArgument(where + ": 'insecure_skip_verify' must be true or false");
      }
      q.insecure_skip_verify = n->value<bool>().value_or(false);
    }
    if (!q.ca_bundle.empty() && q.insecure_skip_verify) {
      return Status::InvalidArgument(where + ": 'ca_bundle' and 'insecure_skip_verify = true' "
                                             "together: with no check the bundle is not used");
    }
    if (q.queue_url.empty()) return Status::InvalidArgument(where + ": 'queue_url' is missing");
    if (!QueueUrlShape(q.queue_url)) {
      return Status::InvalidArgument(where + ": 'queue_url' must be an http(s)://host/path URL");
    }
    if (!q.dead_letter_queue_url.empty()) {
      if (!QueueUrlShape(q.dead_letter_queue_url)) {
        return Status::InvalidArgument(where +
                                       ": 'dead_letter_queue_url' must be an http(s)://host/path URL");
      }
      if (q.dead_letter_queue_url == q.queue_url) {
        return Status::InvalidArgument(where + ": 'dead_letter_queue_url' is the queue itself");
      }
    } else if (t->get("max_receives") != nullptr) {
      return Status::InvalidArgument(
          where + ": 'max_receives' needs 'dead_letter_queue_url' (without it the queue's "
                  "RedrivePolicy moves refused messages, after its maxReceiveCount)");
    }
    if (!q.endpoint.empty() && !q.endpoint.starts_with("http://") &&
        !q.endpoint.starts_with("https://")) {
      return Status::InvalidArgument(where + ": 'endpoint' must start with http:// or https://");
    }
    if (!q.remote.empty() && remotes.find(q.remote) == remotes.end()) {
      return Status::InvalidArgument(where + ": unknown remote '" + q.remote + "'");
    }
    for (const SqsQueueConfig& other : out) {
      if (other.queue_url == q.queue_url) {
        return Status::InvalidArgument(where + ": queue " + q.queue_url + " is listed twice");
      }
    }
    out.push_back(std::move(q));
  }
  return Status::Ok();
}

}  // namespace ferry::app
