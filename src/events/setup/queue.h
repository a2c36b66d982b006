// Bucket notifications to a queue (`ferry events setup --sqs-queue | --queue-arn`): what an
// AWS CLI user does by hand with `aws sqs create-queue`, `aws sqs set-queue-attributes
// --attributes Policy=...` and `aws s3api put-bucket-notification-configuration`, with the
// same merge-not-replace guarantee as the topic setup (setup.h).
//
//   SetUpBucketQueue (AWS S3 and SQS; moto): GET the bucket's configuration (a missing bucket
//     fails here, before a queue exists), find the queue (a URL: GetQueueAttributes; a name:
//     GetQueueUrl) or create it (a name only), read its QueueArn and Policy, merge ferry's
//     statement into the Policy (policy.h: only S3 may sqs:SendMessage, from this bucket
//     and, when known, this account; other statements kept) and set it when it changed, then
//     PUT the bucket's document with ferry's <QueueConfiguration> (Id ConfigurationIdFor(queue
//     name)) added or replaced, every other configuration kept, and GET it again to check. The
//     Policy is set before the PUT: AWS sends a test event on PUT and refuses a queue S3 may not
//     write to. A failure after the queue was created or its Policy set says so in its message.
//   SetUpBucketQueueArn (MinIO's targets, or an AWS queue set up elsewhere): the bucket's
//     document only, ferry's <QueueConfiguration> naming the ARN. MinIO's targets are server
//     configuration (`mc admin config set ALIAS notify_webhook:ID ...`): a store that does not
//     know the ARN (MinIO: InvalidArgument, "ARN not found" / "does not exist") gets
//     kFailedPrecondition with the `mc admin config set` command to run (MinioWebhookCommand).
//   RemoveBucketQueue: ferry's configuration taken out (as RemoveBucketEvents does), then the
//     queue deleted when asked, else ferry's statement for this bucket taken out of its Policy.
//   DescribeQueue: a queue configuration's queue, its URL and attributes (for `show`).
//
// Errors: kInvalidArgument for bad input (ValidateQueue*, a FIFO queue, an Id held by another
// kind, a queue Policy that is not JSON); the S3 and SQS clients' errors otherwise. Messages
// never hold a token or a key. Thread-safety: reentrant; the clients may be shared.
#pragma once

#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "events/setup/policy.h"
#include "s3/client.h"
#include "sqs/client.h"

namespace ferry::events::setup {

struct QueueSetupRequest {
  std::string bucket;
  std::string queue;           // a queue name (found or created) or a queue URL (found)
  std::string source_account;  // the bucket owner's account: aws:SourceAccount ("" = none)
  std::vector<std::string> events;  // full names; empty: DefaultEvents()
  std::string prefix;               // key filter; "" = every key
};

struct QueueSetupResult {
  std::string queue_url;
  std::string queue_arn;
  bool queue_created = false;
  bool policy_changed = false;  // ferry's statement added or changed (false: already there)
  std::string redrive_policy;   // the queue's RedrivePolicy ("" = none: serve needs a DLQ URL)
  std::string configuration_id;
  std::vector<std::string> events;
  bool replaced = false;      // ferry's configuration was there before (a rerun)
  size_t configurations = 0;  // the bucket's configurations afterwards, ferry's included
  // Ids of other configurations of the bucket that notify the same queue (events sent twice).
  std::vector<std::string> also_notifying;
};

Result<QueueSetupResult> SetUpBucketQueue(s3::S3Client& client, sqs::SqsClient& sqs,
                                          const QueueSetupRequest& request,
                                          std::stop_token stop = {});

struct QueueArnSetupRequest {
  std::string bucket;
  std::string queue_arn;
  std::vector<std::string> events;
  std::string prefix;
  // For the message when the store does not know the ARN (MinIO): ferry serve's .../events
  // URL and token ("" = placeholders). The token is shown masked (MaskToken).
  std::string endpoint_url;
  std::string token;
};

Result<QueueSetupResult> SetUpBucketQueueArn(s3::S3Client& client,
                                             const QueueArnSetupRequest& request,
                                             std::stop_token stop = {});

struct QueueRemoveRequest {
  std::string bucket;
  std::string queue;      // a name or URL (--sqs-queue), or
  std::string queue_arn;  // the ARN (--queue-arn): the configuration only
  // Delete the queue (--sqs-queue only). Otherwise ferry's statement for this bucket is taken
  // out of the queue's Policy (when the queue can be found).
  bool delete_queue = false;
};

struct QueueRemoveResult {
  std::string configuration_id;
  bool removed = false;       // false: the bucket had no configuration of that Id
  size_t configurations = 0;  // left in the bucket
  bool queue_deleted = false;
  bool policy_changed = false;  // ferry's statement taken out of the queue's Policy
};

// `sqs` may be null with queue_arn.
Result<QueueRemoveResult> RemoveBucketQueue(s3::S3Client& client, sqs::SqsClient* sqs,
                                            const QueueRemoveRequest& request,
                                            std::stop_token stop = {});

struct QueueView {
  std::string arn;
  std::string url;  // "" when not found
  // Its attributes (ApproximateNumberOfMessages, ..., RedrivePolicy, Policy), or why they could
  // not be read: kNotFound (no such queue), kNotSupported (not an AWS queue ARN: a MinIO
  // target, server configuration).
  Result<std::vector<std::pair<std::string, std::string>>> attributes =
      Status::Internal("not asked");
};

QueueView DescribeQueue(sqs::SqsClient& sqs, std::string_view queue_arn,
                        std::stop_token stop = {});

// ---- Pure helpers.

// SQS's rule: 1 to 80 letters, digits, '-' and '_' (a ".fifo" name is refused: S3 does not
// notify FIFO queues). kInvalidArgument naming --sqs-queue.
Status ValidateQueueName(std::string_view name);
// A queue name, or an http(s) URL whose path is /ACCOUNT/NAME with a valid name: the name.
Result<std::string> QueueNameOf(std::string_view name_or_url);
// 12 digits; kInvalidArgument naming --source-account.
Status ValidateAccountId(std::string_view account);

// What creates MinIO's webhook target of `queue_arn` (arn:minio:sqs::ID:webhook):
//   mc admin config set ALIAS notify_webhook:ID endpoint="URL" auth_token="TOK***"
// with the token masked (MaskToken) and URL / TOKEN placeholders when not given.
std::string MinioWebhookCommand(std::string_view queue_arn, std::string_view endpoint_url,
                                std::string_view token);

}  // namespace ferry::events::setup
