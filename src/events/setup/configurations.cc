// The bucket's notification document: read, set, removed, read back (configurations.h).
#include "events/setup/configurations.h"

namespace ferry::events::setup::internal {

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

Status CheckIdFree(const std::vector<s3::NotificationConfig>& configs, std::string_view bucket,
                   std::string_view id, std::string_view kind) {
  const s3::NotificationConfig* held = FindId(configs, id);
  if (held == nullptr || held->kind == kind) return Status::Ok();
  return Status::InvalidArgument("bucket " + std::string(bucket) + " has a " + held->kind +
                                 " configuration named '" + std::string(id) +
                                 "': ferry's would replace it");
}

Result<Applied> PutAndCheck(s3::S3Client& client, std::string_view bucket, std::string_view xml,
                            const s3::NotificationConfigSpec& spec, std::stop_token stop) {
  Applied out;
  FERRY_ASSIGN_OR_RETURN(std::string edited,
                         s3::SetNotificationConfiguration(xml, spec, &out.replaced));
  Status put = client.PutBucketNotificationConfiguration(bucket, edited, stop);
  if (!put.ok()) {
    return put.WithContext("setting the notification configuration of bucket " +
                           std::string(bucket));
  }
  // Read back: what the store holds now, ours included.
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> after,
                         Configurations(client, bucket, nullptr, stop));
  const s3::NotificationConfig* ours = FindId(after, spec.id);
  if (ours == nullptr || ours->target != spec.target_arn) {
    return Status::Internal("bucket " + std::string(bucket) + " does not hold configuration '" +
                            spec.id + "' after it was set");
  }
  out.configurations = after.size();
  for (const s3::NotificationConfig& c : after) {
    if (c.id != spec.id && c.target == spec.target_arn) out.also_notifying.push_back(c.id);
  }
  return out;
}

Result<Removed> RemoveId(s3::S3Client& client, std::string_view bucket, std::string_view id,
                         std::stop_token stop) {
  Removed out;
  const std::string b(bucket);
  std::string xml;
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> before,
                         Configurations(client, bucket, &xml, stop));
  const s3::NotificationConfig* ours = FindId(before, id);
  if (ours == nullptr) {
    out.configurations = before.size();
    return out;
  }
  out.target = ours->target;
  int removed = 0;
  FERRY_ASSIGN_OR_RETURN(std::string edited, s3::RemoveConfiguration(xml, id, &removed));
  // A store that replaces the configuration on PUT (AWS) drops ours with it; one that adds
  // to it (RGW 16) keeps it, and refuses an empty document (MalformedXML): a store seen to
  // keep it is sent DELETE ?notification=Id below.
  const bool empty = before.size() == static_cast<size_t>(removed);
  Status put = client.PutBucketNotificationConfiguration(bucket, edited, stop);
  if (!put.ok() && !(empty && put.code() == ErrorCode::kInvalidArgument)) {
    return put.WithContext("setting the notification configuration of bucket " + b);
  }
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> now,
                         Configurations(client, bucket, nullptr, stop));
  if (FindId(now, id) != nullptr) {
    Status del = client.DeleteBucketNotification(bucket, id, stop);
    if (!del.ok()) {
      return del.WithContext("removing configuration " + std::string(id) + " of bucket " + b);
    }
    FERRY_ASSIGN_OR_RETURN(now, Configurations(client, bucket, nullptr, stop));
    if (FindId(now, id) != nullptr) {
      return Status::Internal("bucket " + b + " still holds configuration '" + std::string(id) +
                              "' after it was removed");
    }
  }
  out.removed = true;
  out.configurations = now.size();
  return out;
}

}  // namespace ferry::events::setup::internal
