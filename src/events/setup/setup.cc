// SetUpBucketEvents, DescribeBucketEvents, RemoveBucketEvents: the requests, in their order.
#include "events/setup/setup.h"

#include <algorithm>

namespace ferry::events::setup {
namespace {

Result<std::vector<s3::NotificationConfig>> Configurations(s3::S3Client& client,
                                                           std::string_view bucket,
                                                           std::string* xml,
                                                           std::stop_token stop) {
  Result<std::string> got = client.GetBucketNotificationConfiguration(bucket, stop);
  if (!got.ok()) return got.status();
  Result<std::vector<s3::NotificationConfig>> parsed = s3::ParseNotificationConfiguration(*got);
  if (!parsed.ok()) {
    return parsed.status().WithContext("the notification configuration of bucket " +
                                       std::string(bucket));
  }
  if (xml != nullptr) *xml = std::move(got).value();
  return parsed;
}

const s3::NotificationConfig* FindId(const std::vector<s3::NotificationConfig>& configs,
                                     std::string_view id) {
  for (const s3::NotificationConfig& c : configs) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

}  // namespace

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
  if (const s3::NotificationConfig* held = FindId(before, result.configuration_id);
      held != nullptr && held->kind != "topic") {
    return Status::InvalidArgument("bucket " + request.bucket + " has a " + held->kind +
                                   " configuration named '" + result.configuration_id +
                                   "': ferry's would replace it");
  }

  s3::CreateTopicRequest topic;
  topic.name = request.topic;
  topic.attributes = {{"push-endpoint", request.endpoint_url},
                      {"persistent", request.persistent ? "true" : "false"},
                      {"OpaqueData", request.token}};
  FERRY_ASSIGN_OR_RETURN(result.topic_arn, client.CreateTopic(topic, stop));

  const s3::TopicConfigSpec spec{.id = result.configuration_id,
                                 .topic_arn = result.topic_arn,
                                 .events = result.events,
                                 .prefix = request.prefix};
  FERRY_ASSIGN_OR_RETURN(std::string edited,
                         s3::SetTopicConfiguration(xml, spec, &result.replaced));
  Status put = client.PutBucketNotificationConfiguration(request.bucket, edited, stop);
  if (!put.ok()) {
    return put.WithContext("setting the notification configuration of bucket " +
                           request.bucket);
  }

  // Read back: what the store holds now, ours included.
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> after,
                         Configurations(client, request.bucket, nullptr, stop));
  const s3::NotificationConfig* ours = FindId(after, result.configuration_id);
  if (ours == nullptr || ours->target != result.topic_arn) {
    return Status::Internal("bucket " + request.bucket + " does not hold configuration '" +
                            result.configuration_id + "' after it was set");
  }
  result.configurations = after.size();
  for (const s3::NotificationConfig& c : after) {
    if (c.id != result.configuration_id && c.target == result.topic_arn) {
      result.also_notifying.push_back(c.id);
    }
  }
  return result;
}

Result<BucketEvents> DescribeBucketEvents(s3::S3Client& client, std::string_view bucket,
                                          std::stop_token stop) {
  BucketEvents out;
  FERRY_ASSIGN_OR_RETURN(out.configurations, Configurations(client, bucket, nullptr, stop));
  for (const s3::NotificationConfig& c : out.configurations) {
    if (c.kind != "topic" || c.target.empty()) continue;
    const bool seen = std::any_of(out.topics.begin(), out.topics.end(),
                                  [&](const TopicView& t) { return t.arn == c.target; });
    if (seen) continue;
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
  return out;
}

Result<RemoveResult> RemoveBucketEvents(s3::S3Client& client, const RemoveRequest& request,
                                        std::stop_token stop) {
  FERRY_RETURN_IF_ERROR(ValidateTopicName(request.topic));
  RemoveResult result;
  result.configuration_id = ConfigurationIdFor(request.topic);
  std::string xml;
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> before,
                         Configurations(client, request.bucket, &xml, stop));
  const s3::NotificationConfig* ours = FindId(before, result.configuration_id);
  std::string topic_arn = ours != nullptr ? ours->target : std::string();
  if (ours != nullptr) {
    int removed = 0;
    FERRY_ASSIGN_OR_RETURN(std::string edited,
                           s3::RemoveConfiguration(xml, result.configuration_id, &removed));
    // A store that replaces the configuration on PUT (AWS) drops ours with it; one that adds
    // to it (RGW 16) keeps it, and refuses an empty document (MalformedXML): a store seen to
    // keep it is sent DELETE ?notification=Id below.
    const bool empty = before.size() == static_cast<size_t>(removed);
    Status put = client.PutBucketNotificationConfiguration(request.bucket, edited, stop);
    if (!put.ok() && !(empty && put.code() == ErrorCode::kInvalidArgument)) {
      return put.WithContext("setting the notification configuration of bucket " +
                             request.bucket);
    }
    FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> now,
                           Configurations(client, request.bucket, nullptr, stop));
    if (FindId(now, result.configuration_id) != nullptr) {
      Status del = client.DeleteBucketNotification(request.bucket, result.configuration_id, stop);
      if (!del.ok()) {
        return del.WithContext("removing configuration " + result.configuration_id +
                               " of bucket " + request.bucket);
      }
      FERRY_ASSIGN_OR_RETURN(now, Configurations(client, request.bucket, nullptr, stop));
      if (FindId(now, result.configuration_id) != nullptr) {
        return Status::Internal("bucket " + request.bucket + " still holds configuration '" +
                                result.configuration_id + "' after it was removed");
      }
    }
    result.removed = true;
    result.configurations = now.size();
  } else {
    result.configurations = before.size();
  }
  // The topic's ARN is what ferry's configuration names (an ARN is never built: RGW puts its
  // zonegroup in it); without the configuration there is no topic known to delete.
  if (request.delete_topic && !topic_arn.empty()) {
    FERRY_RETURN_IF_ERROR(client.DeleteTopic(topic_arn, stop));
    result.topic_deleted = true;
  }
  return result;
}

}  // namespace ferry::events::setup
