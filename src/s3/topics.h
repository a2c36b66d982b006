// The SNS-compatible topic API of Ceph RGW (and AWS SNS): the pure parts, request bodies and
// reply parsers, of S3Client::CreateTopic / GetTopicAttributes / DeleteTopic (s3/ops/topics.cc).
//
// RGW serves the topic actions on its S3 endpoint itself: POST / with a form-encoded body
// (Action=CreateTopic&Name=...&Attributes.entry.N.key=...&Attributes.entry.N.value=...),
// SigV4-signed (RGW 16 checks the signature with whatever service the credential scope names;
// ferry signs for "sns", as SNS clients do). Replies are SNS's XML (<CreateTopicResponse>, ...);
// errors are S3's <Error> documents (NoSuchEntity for an unknown topic: kNotFound).
//
// RGW's topic attributes: push-endpoint (the URL notifications are POSTed to), persistent
// ("true": delivered from a queue, retried; "false": pushed during the write request, dropped
// when the endpoint fails), OpaqueData (sent in every record as "opaqueData"), verify-ssl,
// amqp-*/kafka-* options. GetTopicAttributes answers them as Name, TopicArn, OpaqueData and an
// EndPoint JSON string {EndpointAddress, EndpointArgs, Persistent, ...} whose EndpointArgs
// repeats every attribute, OpaqueData included: TopicAttributes keeps only what is named below,
// so a caller that prints it cannot print the token by accident.
//
// Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ferry::s3 {

struct CreateTopicRequest {
  std::string name;
  // In order: ("push-endpoint", URL), ("persistent", "false"), ("OpaqueData", token), ...
  std::vector<std::pair<std::string, std::string>> attributes;
};

// What GetTopicAttributes says about a topic (fields empty when the store does not say).
struct TopicAttributes {
  std::string arn;
  std::string name;
  std::string push_endpoint;       // RGW: EndPoint.EndpointAddress
  std::optional<bool> persistent;  // RGW: EndPoint.Persistent
  std::string opaque_data;         // RGW: OpaqueData (a secret when it is ferry serve's token)
};

// Action=CreateTopic&Name=..&Attributes.entry.1.key=..&Attributes.entry.1.value=..&Version=..
// (application/x-www-form-urlencoded, values percent-encoded).
std::string BuildCreateTopicForm(const CreateTopicRequest& request);
// Action=GetTopicAttributes&TopicArn=..&Version=.. and the same for DeleteTopic.
std::string BuildTopicArnForm(std::string_view action, std::string_view topic_arn);

// The TopicArn of a <CreateTopicResponse>; kInternal when it has none.
Result<std::string> ParseCreateTopic(std::string_view xml);
// A <GetTopicAttributesResponse>; kInternal when malformed.
Result<TopicAttributes> ParseGetTopicAttributes(std::string_view xml);

// The name of a topic from its ARN (what follows the last ':'; the ARN itself when it has none).
std::string TopicNameOfArn(std::string_view arn);

}  // namespace ferry::s3
