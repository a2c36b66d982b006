// SetUpBucketSns, RemoveBucketSns, DescribeSnsTopic: the requests, in their order (sns.h).
#include "events/setup/configurations.h"
#include "events/setup/policy.h"
#include "events/setup/setup.h"
#include "events/setup/sns.h"

namespace ferry::events::setup {
namespace {

constexpr const char* kPublish = "SNS:Publish";
constexpr const char* kPending = "PendingConfirmation";

std::string ProtocolOf(std::string_view url) {
  return url.starts_with("https://") ? "https" : "http";
}

bool IsOurs(const sns::Subscription& s, std::string_view url) {
  return s.protocol == ProtocolOf(url) && s.endpoint == url;
}

std::string Said(const SnsSetupResult& r) {
  std::string out = "topic " + r.topic_arn;
  if (r.policy_changed) out += ": its Policy set";
  if (r.subscribed) {
    out += std::string(r.policy_changed ? " and" : ":") + " the endpoint subscribed";
  }
  return out;
}

}  // namespace

std::string SnsTopicNameOfArn(std::string_view arn) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t colon = arn.find(':');
    parts.push_back(arn.substr(0, colon));
    if (colon == std::string_view::npos) break;
    arn.remove_prefix(colon + 1);
  }
  if (parts.size() != 6 || parts[0] != "arn" || parts[2] != "sns") return "";
  for (std::string_view p : parts) {
    if (p.empty()) return "";
  }
  return std::string(parts[5]);
}

Result<std::string> SnsTopicNameOf(std::string_view name_or_arn) {
  if (name_or_arn.starts_with("arn:")) {
    std::string name = SnsTopicNameOfArn(name_or_arn);
    if (name.empty() || !ValidateTopicName(name).ok()) {
      return Status::InvalidArgument("--sns-topic: '" + std::string(name_or_arn.substr(0, 200)) +
                                     "' is not an SNS topic ARN "
                                     "(arn:aws:sns:REGION:ACCOUNT:NAME)");
    }
    return name;
  }
  if (!ValidateTopicName(name_or_arn).ok()) {
    return Status::InvalidArgument("--sns-topic: '" + std::string(name_or_arn.substr(0, 200)) +
                                   "' is not a topic name or ARN (1 to 256 letters, digits, "
                                   "'-', '_')");
  }
  return std::string(name_or_arn);
}

Result<SnsSetupResult> SetUpBucketSns(s3::S3Client& client, sns::SnsClient& sns,
                                      const SnsSetupRequest& request, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(const std::string name, SnsTopicNameOf(request.topic));
  FERRY_RETURN_IF_ERROR(ValidateEndpointUrl(request.endpoint_url));
  if (!request.source_account.empty()) {
    FERRY_RETURN_IF_ERROR(ValidateAccountId(request.source_account));
  }
  SnsSetupResult result;
  result.configuration_id = ConfigurationIdFor(name);
  result.events = request.events.empty() ? DefaultEvents() : request.events;

  // The bucket first: a missing bucket or a refused request leaves no topic behind.
  std::string xml;
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> before,
                         internal::Configurations(client, request.bucket, &xml, stop));
  FERRY_RETURN_IF_ERROR(
      internal::CheckIdFree(before, request.bucket, result.configuration_id, "topic"));

  if (request.topic.starts_with("arn:")) {
    result.topic_arn = request.topic;
  } else {
    FERRY_ASSIGN_OR_RETURN(result.topic_arn, sns.CreateTopic(name, stop));
  }
  FERRY_ASSIGN_OR_RETURN(sns::Fields attrs, sns.GetTopicAttributes(result.topic_arn, stop));

  Status failed = Status::Ok();
  Result<std::string> policy = MergePolicyStatement(AttributeValue(attrs, "Policy"),
                                                    {.bucket = request.bucket,
                                                     .resource_arn = result.topic_arn,
                                                     .source_account = request.source_account,
                                                     .action = kPublish},
                                                    &result.policy_changed);
  failed = policy.status();
  if (failed.ok() && result.policy_changed) {
    failed = sns.SetTopicAttribute(result.topic_arn, "Policy", *policy, stop);
    if (!failed.ok()) result.policy_changed = false;
  }
  // The subscription: a confirmed one of the URL is kept; none or a pending one is (re)sent.
  if (failed.ok()) {
    Result<std::vector<sns::Subscription>> subs =
        sns.ListSubscriptionsByTopic(result.topic_arn, stop);
    failed = subs.status();
    if (subs.ok()) {
      for (const sns::Subscription& s : *subs) {
        if (IsOurs(s, request.endpoint_url) && s.arn != kPending) {
          result.confirmed = true;
          result.subscription_arn = s.arn;
        }
      }
    }
  }
  if (failed.ok() && !result.confirmed) {
    Result<std::string> arn = sns.Subscribe(result.topic_arn, ProtocolOf(request.endpoint_url),
                                            request.endpoint_url, stop);
    failed = arn.status();
    if (arn.ok()) {
      result.subscribed = true;
      result.subscription_arn = *arn;
      // Confirmed at once (a store that needs no confirmation) or pending: what SNS lists.
      Result<std::vector<sns::Subscription>> now =
          sns.ListSubscriptionsByTopic(result.topic_arn, stop);
      if (now.ok()) {
        for (const sns::Subscription& s : *now) {
          if (IsOurs(s, request.endpoint_url) && s.arn != kPending) result.confirmed = true;
        }
      }
      if (!result.confirmed) result.subscription_arn = kPending;
    }
  }
  if (failed.ok()) {
    const s3::NotificationConfigSpec spec{.kind = "topic",
                                          .id = result.configuration_id,
                                          .target_arn = result.topic_arn,
                                          .events = result.events,
                                          .prefix = request.prefix};
    failed = internal::PutAndCheckInto(client, request.bucket, xml, spec, stop, result);
    if (failed.ok()) return result;
  }
  if (result.policy_changed || result.subscribed) {
    return failed.WithContext(Said(result) + ", then");
  }
  return failed;
}

Result<SnsRemoveResult> RemoveBucketSns(s3::S3Client& client, sns::SnsClient& sns,
                                        const SnsRemoveRequest& request, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(const std::string name, SnsTopicNameOf(request.topic));
  if (!request.endpoint_url.empty()) {
    FERRY_RETURN_IF_ERROR(ValidateEndpointUrl(request.endpoint_url));
  }
  SnsRemoveResult result;
  result.configuration_id = ConfigurationIdFor(name);
  FERRY_ASSIGN_OR_RETURN(internal::Removed removed,
                         internal::RemoveId(client, request.bucket, result.configuration_id, stop));
  result.removed = removed.removed;
  result.configurations = removed.configurations;
  // The topic: the ARN given, or the one ferry's configuration named (never built).
  std::string arn = request.topic.starts_with("arn:") ? request.topic : removed.target;
  if (arn.empty()) return result;
  const std::string then = result.removed ? "configuration removed, then" : "then";
  if (request.delete_topic) {
    Status del = sns.DeleteTopic(arn, stop);
    if (!del.ok() && del.code() != ErrorCode::kNotFound) return del.WithContext(then);
    result.topic_deleted = del.ok();
    return result;
  }
  Result<sns::Fields> attrs = sns.GetTopicAttributes(arn, stop);
  if (!attrs.ok() && attrs.status().code() == ErrorCode::kNotFound) return result;
  if (!attrs.ok()) return attrs.status().WithContext(then);
  FERRY_ASSIGN_OR_RETURN(std::string policy,
                         RemovePolicyStatement(AttributeValue(*attrs, "Policy"), request.bucket,
                                               &result.policy_changed));
  if (result.policy_changed) {
    Status set = sns.SetTopicAttribute(arn, "Policy", policy, stop);
    if (!set.ok()) {
      result.policy_changed = false;
      return set.WithContext(then);
    }
  }
  if (request.endpoint_url.empty()) return result;
  Result<std::vector<sns::Subscription>> subs = sns.ListSubscriptionsByTopic(arn, stop);
  if (!subs.ok()) return subs.status().WithContext(then);
  for (const sns::Subscription& s : *subs) {
    if (!IsOurs(s, request.endpoint_url) || s.arn == kPending) continue;
    Status un = sns.Unsubscribe(s.arn, stop);
    if (!un.ok()) return un.WithContext(then);
    ++result.unsubscribed;
  }
  return result;
}

SnsTopicView DescribeSnsTopic(sns::SnsClient& sns, std::string_view topic_arn,
                              std::string_view bucket, std::stop_token stop) {
  SnsTopicView view;
  view.arn = std::string(topic_arn);
  Result<sns::Fields> attrs = sns.GetTopicAttributes(view.arn, stop);
  if (!attrs.ok()) {
    view.subscriptions = attrs.status();
    return view;
  }
  view.allows_bucket = PolicyAllowsBucket(AttributeValue(*attrs, "Policy"), bucket, kPublish);
  view.subscriptions = sns.ListSubscriptionsByTopic(view.arn, stop);
  return view;
}

}  // namespace ferry::events::setup
