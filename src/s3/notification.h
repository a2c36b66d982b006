// A bucket's notification configuration (GET/PUT /bucket?notification): pure parsing of the
// document and the edits `ferry events setup|remove` make to it (pugixml inside).
//
// The document is edited as XML, not rebuilt from what ferry understands: every configuration
// the bucket has (queue and function configurations, metadata or tag filters, elements a store
// adds) is kept byte for byte except the one configuration being set or removed, so a PUT of
// the edited document changes nothing else on a store that replaces the whole configuration
// (AWS S3) nor on one that adds to it by Id (Ceph RGW 16).
//
// Errors: kInternal for a reply that is not a <NotificationConfiguration> document (a store's
// bug, not the user's input); kInvalidArgument for an edit the document refuses (our Id held
// by a configuration that is not a topic configuration). Pure; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace ferry::s3 {

// One rule of a configuration's <Filter>: kind "prefix"/"suffix" (S3Key rules, name empty),
// "metadata" or "tag" (RGW's S3Metadata and S3Tags rules: name and value), or the element's
// name for anything else.
struct NotificationFilterRule {
  std::string kind;
  std::string name;
  std::string value;
  bool operator==(const NotificationFilterRule&) const = default;
};

// One configuration of the document.
struct NotificationConfig {
  // "topic" (<TopicConfiguration>, target <Topic>), "queue" (<QueueConfiguration>, <Queue>),
  // "function" (<CloudFunctionConfiguration>, <CloudFunction>; or AWS's
  // <LambdaFunctionConfiguration>), else the element's name with no target.
  std::string kind;
  std::string id;
  std::string target;               // the topic, queue or function ARN
  std::vector<std::string> events;  // as sent: "s3:ObjectCreated:*"
  std::vector<NotificationFilterRule> filter;
  bool operator==(const NotificationConfig&) const = default;
};

// What ferry puts in a bucket's configuration: one <TopicConfiguration>.
struct TopicConfigSpec {
  std::string id;
  std::string topic_arn;
  std::vector<std::string> events;  // at least one
  std::string prefix;               // "" = no key filter
};

// Every configuration of a document, in document order. An empty body (a store that answers
// no configuration with nothing) is an empty configuration.
Result<std::vector<NotificationConfig>> ParseNotificationConfiguration(std::string_view xml);

// <TopicConfiguration> of `spec` (an element, no document around it).
std::string BuildTopicConfiguration(const TopicConfigSpec& spec);

// `xml` (the bucket's document as GET returned it; may be empty) with every
// <TopicConfiguration> whose Id is spec.id replaced by one built from `spec` (appended at the
// end), the rest kept as it was. `replaced` (optional) tells whether one was there before.
Result<std::string> SetTopicConfiguration(std::string_view xml, const TopicConfigSpec& spec,
                                          bool* replaced = nullptr);

// `xml` without the configurations whose Id is `id` (of any kind). `removed` (optional)
// receives how many there were.
Result<std::string> RemoveConfiguration(std::string_view xml, std::string_view id,
                                        int* removed = nullptr);

}  // namespace ferry::s3
