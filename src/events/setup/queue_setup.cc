// SetUpBucketQueue, SetUpBucketQueueArn, RemoveBucketQueue, DescribeQueue: the requests, in
// their order (queue.h).
#include "events/setup/configurations.h"
#include "events/setup/policy.h"
#include "events/setup/queue.h"
#include "events/setup/setup.h"
#include "sqs/protocol.h"

namespace ferry::events::setup {
namespace {

struct FoundQueue {
  std::string url;
  std::string arn;
  std::string policy;
  std::string redrive_policy;
  bool created = false;
};

Result<std::vector<std::pair<std::string, std::string>>> ArnAndPolicy(sqs::SqsClient& sqs,
                                                                      const std::string& url,
                                                                      std::stop_token stop) {
  return sqs.GetAttributes(url, {"QueueArn", "Policy", "RedrivePolicy"}, stop);
}

// The queue of a URL (never created: the URL says where it was), or of a name (created when
// there is none).
Result<FoundQueue> FindOrCreate(sqs::SqsClient& sqs, const std::string& queue,
                                std::stop_token stop) {
  FoundQueue q;
  const bool is_url = queue.starts_with("http://") || queue.starts_with("https://");
  if (is_url) {
    q.url = queue;
  } else {
    Result<std::string> url = sqs.GetQueueUrl(queue, "", stop);
    if (url.ok()) {
      q.url = std::move(url).value();
    } else if (url.status().code() == ErrorCode::kNotFound) {
      FERRY_ASSIGN_OR_RETURN(q.url, sqs.CreateQueue(queue, {}, stop));
      q.created = true;
    } else {
      return url.status();
    }
  }
  auto attrs = ArnAndPolicy(sqs, q.url, stop);
  if (!attrs.ok()) {
    if (is_url && attrs.status().code() == ErrorCode::kNotFound) {
      return Status::NotFound("no queue at " + queue +
                              " (give --sqs-queue a name to have the queue created)");
    }
    return attrs.status();
  }
  q.arn = AttributeValue(*attrs, "QueueArn");
  q.policy = AttributeValue(*attrs, "Policy");
  q.redrive_policy = AttributeValue(*attrs, "RedrivePolicy");
  if (q.arn.empty()) {
    return Status::Internal("queue " + q.url + " has no QueueArn attribute");
  }
  return q;
}

std::string QueueSaid(const QueueSetupResult& r) {
  std::string out = "queue " + r.queue_url;
  if (r.queue_created) out += " was created";
  if (r.policy_changed) out += std::string(r.queue_created ? " and" : "") + " its Policy set";
  return out;
}

// A refusal of the queue's ARN by a store that does not know it: MinIO answers InvalidArgument
// "A specified destination ARN does not exist or is not well-formed" (or "ARN not found");
// moto, which knows no MinIO ARN, "The ARN is not well formed".
bool RefusesArn(const Status& s) {
  if (s.code() != ErrorCode::kInvalidArgument && s.code() != ErrorCode::kNotFound) return false;
  const std::string& m = s.message();
  return m.find("ARN") != std::string::npos &&
         (m.find("not found") != std::string::npos ||
          m.find("does not exist") != std::string::npos ||
          m.find("not well-formed") != std::string::npos ||
          m.find("not well formed") != std::string::npos);
}

}  // namespace

Result<QueueSetupResult> SetUpBucketQueue(s3::S3Client& client, sqs::SqsClient& sqs,
                                          const QueueSetupRequest& request,
                                          std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(const std::string name, QueueNameOf(request.queue));
  if (!request.source_account.empty()) {
    FERRY_RETURN_IF_ERROR(ValidateAccountId(request.source_account));
  }
  QueueSetupResult result;
  result.configuration_id = ConfigurationIdFor(name);
  result.events = request.events.empty() ? DefaultEvents() : request.events;

  // The bucket first: a missing bucket or a refused request leaves no queue behind.
  std::string xml;
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> before,
                         internal::Configurations(client, request.bucket, &xml, stop));
  FERRY_RETURN_IF_ERROR(
      internal::CheckIdFree(before, request.bucket, result.configuration_id, "queue"));

  FERRY_ASSIGN_OR_RETURN(FoundQueue queue, FindOrCreate(sqs, request.queue, stop));
  result.queue_url = queue.url;
  result.queue_arn = queue.arn;
  result.queue_created = queue.created;
  result.redrive_policy = queue.redrive_policy;

  // The Policy before the PUT: AWS tests the destination on PUT.
  Result<std::string> policy =
      MergePolicyStatement(queue.policy,
                           {.bucket = request.bucket,
                            .resource_arn = queue.arn,
                            .source_account = request.source_account,
                            .action = "sqs:SendMessage"},
                           &result.policy_changed);
  Status failed = policy.status();
  if (failed.ok() && result.policy_changed) {
    failed = sqs.SetAttributes(queue.url, {{"Policy", *policy}}, stop);
    if (!failed.ok()) result.policy_changed = false;
  }
  if (failed.ok()) {
    const s3::NotificationConfigSpec spec{.kind = "queue",
                                          .id = result.configuration_id,
                                          .target_arn = queue.arn,
                                          .events = result.events,
                                          .prefix = request.prefix};
    failed = internal::PutAndCheckInto(client, request.bucket, xml, spec, stop, result);
    if (failed.ok()) return result;
  }
  // Never partial state without saying so.
  if (result.queue_created || result.policy_changed) {
    return failed.WithContext(QueueSaid(result) + ", then");
  }
  return failed;
}

Result<QueueSetupResult> SetUpBucketQueueArn(s3::S3Client& client,
                                             const QueueArnSetupRequest& request,
                                             std::stop_token stop) {
  Result<sqs::QueueArn> arn = sqs::ParseQueueArn(request.queue_arn);
  if (!arn.ok()) return arn.status().WithContext("--queue-arn");
  QueueSetupResult result;
  result.queue_arn = request.queue_arn;
  result.configuration_id = ConfigurationIdFor(arn->name);
  result.events = request.events.empty() ? DefaultEvents() : request.events;
  std::string xml;
  FERRY_ASSIGN_OR_RETURN(std::vector<s3::NotificationConfig> before,
                         internal::Configurations(client, request.bucket, &xml, stop));
  FERRY_RETURN_IF_ERROR(
      internal::CheckIdFree(before, request.bucket, result.configuration_id, "queue"));
  const s3::NotificationConfigSpec spec{.kind = "queue",
                                        .id = result.configuration_id,
                                        .target_arn = request.queue_arn,
                                        .events = result.events,
                                        .prefix = request.prefix};
  if (Status put = internal::PutAndCheckInto(client, request.bucket, xml, spec, stop, result);
      !put.ok()) {
    if (RefusesArn(put) && arn->partition == "minio") {
      return Status::FailedPrecondition(
          "bucket " + request.bucket + ": the store does not know " + request.queue_arn +
          "; create the target first: " +
          MinioWebhookCommand(request.queue_arn, request.endpoint_url, request.token) +
          " (then mc admin service restart ALIAS if it says so)");
    }
    return put;
  }
  return result;
}

Result<QueueRemoveResult> RemoveBucketQueue(s3::S3Client& client, sqs::SqsClient* sqs,
                                            const QueueRemoveRequest& request,
                                            std::stop_token stop) {
  std::string name;
  if (!request.queue_arn.empty()) {
    if (request.delete_queue) {
      return Status::InvalidArgument("--delete-queue goes with --sqs-queue, not --queue-arn");
    }
    Result<sqs::QueueArn> arn = sqs::ParseQueueArn(request.queue_arn);
    if (!arn.ok()) return arn.status().WithContext("--queue-arn");
    name = arn->name;
  } else {
    FERRY_ASSIGN_OR_RETURN(name, QueueNameOf(request.queue));
    if (sqs == nullptr) return Status::Internal("RemoveBucketQueue: no SQS client");
  }
  QueueRemoveResult result;
  result.configuration_id = ConfigurationIdFor(name);
  FERRY_ASSIGN_OR_RETURN(internal::Removed removed,
                         internal::RemoveId(client, request.bucket, result.configuration_id, stop));
  result.removed = removed.removed;
  result.configurations = removed.configurations;
  if (!request.queue_arn.empty()) return result;

  // The queue: found by its URL, or by its name (not found: nothing more to do).
  std::string url = request.queue;
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    Result<std::string> got = sqs->GetQueueUrl(name, "", stop);
    if (!got.ok() && got.status().code() == ErrorCode::kNotFound) return result;
    if (!got.ok()) return got.status().WithContext("configuration removed, then");
    url = std::move(got).value();
  }
  if (request.delete_queue) {
    Status del = sqs->DeleteQueue(url, stop);
    if (!del.ok() && del.code() != ErrorCode::kNotFound) {
      return del.WithContext("configuration removed, then");
    }
    result.queue_deleted = del.ok();
    return result;
  }
  auto attrs = sqs->GetAttributes(url, {"Policy"}, stop);
  if (!attrs.ok() && attrs.status().code() == ErrorCode::kNotFound) return result;
  if (!attrs.ok()) return attrs.status().WithContext("configuration removed, then");
  FERRY_ASSIGN_OR_RETURN(std::string policy,
                         RemovePolicyStatement(AttributeValue(*attrs, "Policy"), request.bucket,
                                               &result.policy_changed));
  if (result.policy_changed) {
    Status set = sqs->SetAttributes(url, {{"Policy", policy}}, stop);
    if (!set.ok()) {
      result.policy_changed = false;
      return set.WithContext("configuration removed, then");
    }
  }
  return result;
}

QueueView DescribeQueue(sqs::SqsClient& sqs, std::string_view queue_arn, std::stop_token stop) {
  QueueView view;
  view.arn = std::string(queue_arn);
  Result<sqs::QueueArn> arn = sqs::ParseQueueArn(queue_arn);
  if (!arn.ok() || !arn->partition.starts_with("aws")) {
    view.attributes = Status::NotSupported("not an AWS queue ARN");
    return view;
  }
  Result<std::string> url = sqs.GetQueueUrl(arn->name, arn->account, stop);
  if (!url.ok()) {
    view.attributes = url.status();
    return view;
  }
  view.url = std::move(url).value();
  view.attributes = sqs.GetAttributes(
      view.url,
      {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "RedrivePolicy",
       "Policy"},
      stop);
  return view;
}

}  // namespace ferry::events::setup
