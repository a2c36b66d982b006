// Bucket notifications set up for `ferry serve` (`ferry events setup|show|remove`): a store's
// topic that pushes to ferry's POST /events with ferry's token as its opaqueData, and the
// bucket's configuration that notifies the topic — what a user would otherwise make by hand
// with `aws sns create-topic` and `aws s3api put-bucket-notification-configuration`.
//
// Library ferry_events_setup, over s3::S3Client (topics: s3/topics.h; the bucket's document:
// s3/notification.h). Not part of ferry_events, which stays pure.
//
//   SetUpBucketEvents: GET the bucket's configuration (a missing bucket fails here, before a
//     topic exists), CreateTopic (creates it, or sets the attributes of the topic of that name:
//     its URL, persistence and token), then PUT the bucket's document with ferry's
//     <TopicConfiguration> (Id ConfigurationIdFor(topic)) added or replaced and every other
//     configuration kept as it was, and GET it again to check. A rerun with the same input
//     leaves the same state (one configuration of ferry's, the others untouched).
//   DescribeBucketEvents: the configurations and, for each topic they name, its attributes
//     (an AWS SNS topic's Policy and subscriptions when given an SNS client; for each queue,
//     its URL and attributes when given an SQS client).
// Queues (an SQS queue on AWS, a MinIO target) instead of a topic: queue.h; an AWS SNS topic
// with an HTTPS subscription: sns.h.
//   RemoveBucketEvents: ferry's configuration taken out (PUT without it; a store that keeps it
//     anyway, RGW 16 which adds on PUT, is sent DELETE ?notification=Id), and the topic
//     deleted when asked.
//
// Errors: kInvalidArgument for bad input (Validate* below, a configuration Id held by another
// kind); the S3 client's errors otherwise (kNotFound "bucket not found: ..." for a missing
// bucket, kPermissionDenied, kUnavailable). Messages never hold the token.
// Thread-safety: functions are reentrant; an S3Client may be shared.
#pragma once

#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "events/setup/options.h"
#include "events/setup/queue.h"
#include "events/setup/sns.h"
#include "s3/client.h"
#include "s3/notification.h"
#include "s3/topics.h"

namespace ferry::events::setup {

struct SetupRequest {
  std::string bucket;
  std::string topic;                // TopicNameFor(bucket) unless the user named one
  std::string endpoint_url;         // the topic's push-endpoint (ferry serve's .../events)
  std::string token;                // OpaqueData; required
  bool persistent = true;           // RGW's "persistent" topic attribute
  std::vector<std::string> events;  // full names ("s3:ObjectCreated:*"); empty: the defaults
  std::string prefix;               // key filter; "" = every key
};

struct SetupResult {
  std::string topic_arn;         // as CreateTopic answered
  std::string configuration_id;  // ConfigurationIdFor(topic)
  std::vector<std::string> events;
  bool replaced = false;     // ferry's configuration was there before (a rerun)
  size_t configurations = 0;  // the bucket's configurations afterwards, ferry's included
  // Ids of other configurations of the bucket that notify the same topic (events sent twice).
  std::vector<std::string> also_notifying;
};

Result<SetupResult> SetUpBucketEvents(s3::S3Client& client, const SetupRequest& request,
                                      std::stop_token stop = {});

struct TopicView {
  std::string arn;
  // Its attributes, or why they could not be read (kNotFound: the topic no longer exists).
  Result<s3::TopicAttributes> attributes = Status::Internal("not asked");
};

struct BucketEvents {
  std::vector<s3::NotificationConfig> configurations;
  std::vector<TopicView> topics;  // each topic the configurations name, once, in their order
  std::vector<SnsTopicView> sns_topics;  // instead, those of AWS SNS (with an SNS client)
  std::vector<QueueView> queues;  // likewise each queue (none asked without an SQS client)
};

// Where queues and AWS SNS topics are asked about (DescribeQueue, DescribeSnsTopic). Each is
// called at most once, and only when the bucket has a configuration of that kind (a client
// costs its credentials: an STS call for a role); empty, or returning null: not asked (an
// AWS-shaped topic ARN then goes to the S3 client, as RGW's do).
struct ServiceClients {
  std::function<sqs::SqsClient*()> sqs;
  std::function<sns::SnsClient*()> sns;
};

Result<BucketEvents> DescribeBucketEvents(s3::S3Client& client, std::string_view bucket,
                                          const ServiceClients& services = {},
                                          std::stop_token stop = {});

struct RemoveRequest {
  std::string bucket;
  std::string topic;  // as for setup
  // Also delete the topic ferry's configuration names (other buckets may notify a topic named
  // with --topic: off by default). Nothing is deleted when the bucket has no such configuration.
  bool delete_topic = false;
};

struct RemoveResult {
  std::string configuration_id;
  bool removed = false;        // false: the bucket had no configuration of that Id
  size_t configurations = 0;   // left in the bucket
  bool topic_deleted = false;
};

Result<RemoveResult> RemoveBucketEvents(s3::S3Client& client, const RemoveRequest& request,
                                        std::stop_token stop = {});

// ---- Input: pure helpers, for the command and for tests.

// The events when none are asked: s3:ObjectCreated:* and s3:ObjectRemoved:*.
std::vector<std::string> DefaultEvents();
// "created,removed" or full names ("s3:ObjectCreated:Put"), comma-separated, into full names
// (duplicates dropped, order kept). Words: created, removed (s3:ObjectCreated:* and
// s3:ObjectRemoved:*), delete-marker (s3:ObjectRemoved:DeleteMarkerCreated). A full name
// starts with "s3:" and holds letters, digits, ':' and '*'. kInvalidArgument otherwise.
Result<std::vector<std::string>> ParseEvents(std::string_view text);
// "ferry-<bucket>" with every character a topic name cannot hold ('.') made '-'.
std::string TopicNameFor(std::string_view bucket);
// The Id of ferry's configuration in the bucket: the topic's name, with "ferry-" in front
// unless it starts with it ("ferry-photos" for the default topic of bucket photos).
std::string ConfigurationIdFor(std::string_view topic);
// SNS's rule: 1 to 256 letters, digits, '-' and '_'.
Status ValidateTopicName(std::string_view name);
// http:// or https://, a host, no spaces or control characters, no fragment.
Status ValidateEndpointUrl(std::string_view url);

// ---- Output: what may be printed of secrets.

// A token as it may be shown: its first 3 characters then "***" when it has 12 or more, else
// "***"; "" stays "" (none).
std::string MaskToken(std::string_view token);
// A URL with the password of its user info and the values of its query replaced by "***".
std::string MaskUrl(std::string_view url);

}  // namespace ferry::events::setup
