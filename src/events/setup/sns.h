// Bucket notifications through AWS SNS to ferry serve's /events (`ferry events setup
// --sns-topic`): what an AWS CLI user does by hand with `aws sns create-topic`, `aws sns
// set-topic-attributes --attribute-name Policy`, `aws sns subscribe --protocol https` and
// `aws s3api put-bucket-notification-configuration`, with the same merge-not-replace guarantee
// as the other setups (setup.h, queue.h).
//
//   SetUpBucketSns: GET the bucket's configuration (a missing bucket fails here, before a topic
//     exists), the topic (a name: CreateTopic, which returns an existing one as it is; an ARN:
//     GetTopicAttributes, never created), ferry's statement merged into its Policy (policy.h:
//     only S3 may SNS:Publish, from this bucket and, when known, this account; the others kept)
//     and set when it changed, the subscription of the endpoint (ListSubscriptionsByTopic: a
//     confirmed one of that protocol and URL is kept; none, or a pending one, is subscribed, which
//     makes SNS send the confirmation again), then ferry's <TopicConfiguration> (Id
//     ConfigurationIdFor(topic name)) added or replaced, every other configuration kept, and
//     GET again to check. The Policy comes before the PUT: AWS sends a test event on PUT.
//     ferry serve confirms the subscription when its [serve] sns_topics lists the topic's ARN
//     (serve/sns_gate.h); until then it is pending. A failure after the topic's Policy was set
//     or the endpoint subscribed says so in its message.
//   RemoveBucketSns: ferry's configuration taken out, then the topic deleted when asked, else
//     ferry's statement taken out of its Policy and, when an endpoint is given, its confirmed
//     subscriptions of that URL unsubscribed.
//   DescribeSnsTopic: a topic's Policy (whether S3 may publish from the bucket) and
//     subscriptions (for `show`).
//
// Errors: kInvalidArgument for bad input (a topic name or ARN, the endpoint URL, the account),
// the S3 and SNS clients' errors otherwise. Thread-safety: reentrant.
#pragma once

#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "s3/client.h"
#include "sns/client.h"

namespace ferry::events::setup {

struct SnsSetupRequest {
  std::string bucket;
  std::string topic;         // a topic name (created when missing) or an SNS topic ARN
  std::string endpoint_url;  // ferry serve's https://.../events: the subscription's URL
  std::string source_account;
  std::vector<std::string> events;  // full names; empty: DefaultEvents()
  std::string prefix;
};

struct SnsSetupResult {
  std::string topic_arn;
  bool policy_changed = false;
  std::string subscription_arn;  // "PendingConfirmation" until ferry serve confirms it
  bool subscribed = false;       // Subscribe was sent (new, or pending: confirmation resent)
  bool confirmed = false;        // the subscription of the URL is confirmed
  std::string configuration_id;
  std::vector<std::string> events;
  bool replaced = false;
  size_t configurations = 0;
  std::vector<std::string> also_notifying;
};

Result<SnsSetupResult> SetUpBucketSns(s3::S3Client& client, sns::SnsClient& sns,
                                      const SnsSetupRequest& request, std::stop_token stop = {});

struct SnsRemoveRequest {
  std::string bucket;
  std::string topic;         // as given to setup
  std::string endpoint_url;  // "" = subscriptions left alone
  bool delete_topic = false;
};

struct SnsRemoveResult {
  std::string configuration_id;
  bool removed = false;
  size_t configurations = 0;
  bool topic_deleted = false;
  bool policy_changed = false;
  int unsubscribed = 0;
};

Result<SnsRemoveResult> RemoveBucketSns(s3::S3Client& client, sns::SnsClient& sns,
                                        const SnsRemoveRequest& request,
                                        std::stop_token stop = {});

struct SnsTopicView {
  std::string arn;
  bool allows_bucket = false;  // its Policy lets S3 publish from the bucket
  // Its subscriptions, or why they could not be read (kNotFound: no such topic).
  Result<std::vector<sns::Subscription>> subscriptions = Status::Internal("not asked");
};

SnsTopicView DescribeSnsTopic(sns::SnsClient& sns, std::string_view topic_arn,
                              std::string_view bucket, std::stop_token stop = {});

// An AWS SNS topic ARN (arn:PARTITION:sns:REGION:ACCOUNT:NAME, all six fields set; RGW's have
// no account): its name, else "".
std::string SnsTopicNameOfArn(std::string_view arn);
// A topic name (ValidateTopicName) or an AWS SNS topic ARN: the name. kInvalidArgument naming
// --sns-topic.
Result<std::string> SnsTopicNameOf(std::string_view name_or_arn);

}  // namespace ferry::events::setup
