// SetUpBucketEvents, DescribeBucketEvents, RemoveBucketEvents: the requests, in their order.
#include "events/setup/setup.h"

#include <algorithm>

#include "events/setup/configurations.h"

namespace ferry::events::setup {
using internal::Configurations;
using internal::FindId;

Result<SetupResult> SetUpBucketEvents(s3::S3Client& client, const SetupRequest& request,
                                      std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(ValidateTopicName(request.topic));
  FERRY_RETURN_IF_ERROR(ValidateEndpointUrl(request.endpoint_url));
  if (request.token.empty()) {
    return Status::InvalidArgument("a token is needed: ferry serve refuses events without it");
  }
  SetupResult result;
  result.configuration_id = ConfigurationIdFor(request.topic);
  result.events = request.events.empty() ? DefaultEvents() : request.events;

  // The bucket first: a missing bucket or a refused request leaves no topic behind.
  std::string xml;
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> before,
                         Configurations(client, request.bucket, &xml, stop));
  FERRY_RETURN_IF_ERROR(
      internal::CheckIdFree(before, request.bucket, result.configuration_id, "topic"));

  s3::CreateTopicRequest topic;
  topic.name = request.topic;
  topic.attributes = {{"push-endpoint", request.endpoint_url},
                      {"persistent", request.persistent ? "true" : "false"},
                      {"OpaqueData", request.token}};
  FERRY_ASSIGN_OR_RETURN(result.topic_arn, client.CreateTopic(topic, stop));

  const s3::NotificationConfigSpec spec{.kind = "topic",
                                        .id = result.configuration_id,
                                        .target_arn = result.topic_arn,
                                        .events = result.events,
                                        .prefix = request.prefix};
  FERRY_RETURN_IF_ERROR(
      internal::PutAndCheckInto(client, request.bucket, xml, spec, stop, result));
  return result;
}

Result<BucketEvents> DescribeBucketEvents(s3::S3Client& client, std::string_view bucket,
                                          const ServiceClients& services, std::stop_token stop) {
  // The clients, made when first needed.
  bool sqs_asked = false;
  sqs::SqsClient* sqs_client = nullptr;
  auto sqs = [&]() -> sqs::SqsClient* {
    if (!sqs_asked && services.sqs) sqs_client = services.sqs();
    sqs_asked = true;
    return sqs_client;
  };
  bool sns_asked = false;
  sns::SnsClient* sns_client = nullptr;
  auto sns = [&]() -> sns::SnsClient* {
    if (!sns_asked && services.sns) sns_client = services.sns();
    sns_asked = true;
    return sns_client;
  };
  BucketEvents out;
  FERRY_ASSIGN_OR_RETURN(out.configurations, Configurations(client, bucket, nullptr, stop));
  for (const s3::NotificationConfig& c : out.configurations) {
    if (c.kind != "topic" || c.target.empty()) continue;
    const bool seen = std::any_of(out.topics.begin(), out.topics.end(),
                                  [&](const TopicView& t) { return t.arn == c.target; }) ||
                      std::any_of(out.sns_topics.begin(), out.sns_topics.end(),
                                  [&](const SnsTopicView& t) { return t.arn == c.target; });
    if (seen) continue;
    if (!SnsTopicNameOfArn(c.target).empty() && sns() != nullptr) {
      SnsTopicView view = DescribeSnsTopic(*sns(), c.target, bucket, stop);
      if (!view.subscriptions.ok() &&
          view.subscriptions.status().code() == ErrorCode::kCancelled) {
        return view.subscriptions.status();
      }
      out.sns_topics.push_back(std::move(view));
      continue;
    }
    TopicView view;
    view.arn = c.target;
    view.attributes = client.GetTopicAttributes(c.target, stop);
    // A store that cannot be reached, or a stop: no point asking about the next topic.
    if (!view.attributes.ok() && (view.attributes.status().code() == ErrorCode::kUnavailable ||
                                  view.attributes.status().code() == ErrorCode::kCancelled)) {
      return view.attributes.status();
    }
    out.topics.push_back(std::move(view));
  }
  for (const s3::NotificationConfig& c : out.configurations) {
    if (c.kind != "queue" || c.target.empty() || sqs() == nullptr) continue;
    const bool seen = std::any_of(out.queues.begin(), out.queues.end(),
                                  [&](const QueueView& q) { return q.arn == c.target; });
    if (seen) continue;
    // An SQS endpoint that cannot be reached is said per queue: the bucket's part was read.
    QueueView view = DescribeQueue(*sqs(), c.target, stop);
    if (!view.attributes.ok() && view.attributes.status().code() == ErrorCode::kCancelled) {
      return view.attributes.status();
    }
    out.queues.push_back(std::move(view));
  }
  return out;
}

Result<RemoveResult> RemoveBucketEvents(s3::S3Client& client, const RemoveRequest& request,
                                        std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(ValidateTopicName(request.topic));
  RemoveResult result;
  result.configuration_id = ConfigurationIdFor(request.topic);
  FERRY_ASSIGN_OR_RETURN(internal::Removed removed,
                         internal::RemoveId(client, request.bucket, result.configuration_id, stop));
  result.removed = removed.removed;
  result.configurations = removed.configurations;
  const std::string& topic_arn = removed.target;
  // The topic's ARN is what ferry's configuration names (an ARN is never built: RGW puts its
  // zonegroup in it); without the configuration there is no topic known to delete.
  if (request.delete_topic && !topic_arn.empty()) {
    FERRY_RETURN_IF_ERROR(client.DeleteTopic(topic_arn, stop));
    result.topic_deleted = true;
  }
  return result;
}

}  // namespace ferry::events::setup
