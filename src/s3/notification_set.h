// The configurations `ferry events setup` puts in a bucket's notification document, of any
// kind it sets: a <TopicConfiguration> (RGW topics, SNS) or a <QueueConfiguration> (an SQS
// queue, a MinIO target). The same rules as s3/notification.h's SetTopicConfiguration, whose
// general form this is: every configuration of that Id and kind is replaced by the one built
// (appended at the end), every other configuration is kept byte for byte, and an Id held by a
// configuration of another kind is refused (kInvalidArgument). Pure; thread-safe.
// (A header of its own: s3/notification.h is included by s3/client.h.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::s3 {

struct NotificationConfigSpec {
  std::string kind;  // "topic" or "queue"
  std::string id;
  std::string target_arn;           // the topic's or the queue's ARN
  std::vector<std::string> events;  // at least one
  std::string prefix;               // "" = no key filter
};

// <TopicConfiguration><Id/><Topic/>... or <QueueConfiguration><Id/><Queue/>...: an element,
// no document around it. kInvalidArgument for another kind.
Result<std::string> BuildNotificationConfiguration(const NotificationConfigSpec& spec);

// `xml` (the bucket's document as GET returned it; may be empty) with ferry's configuration set.
// `replaced` (optional) tells whether one of that Id was there before.
Result<std::string> SetNotificationConfiguration(std::string_view xml,
                                                 const NotificationConfigSpec& spec,
                                                 bool* replaced = nullptr);

}  // namespace ferry::s3
