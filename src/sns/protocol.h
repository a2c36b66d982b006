// The SNS calls `ferry events setup --sns-topic` makes, as pure functions: each request's form
// body and each reply's parsing. SNS's query protocol: POST / with an
// application/x-www-form-urlencoded body (Action=...&Version=2010-03-31), XML replies, errors
// as <ErrorResponse><Error><Type/><Code/><Message/></Error></ErrorResponse>; AWS SNS and
// moto_server answer it alike (Ceph RGW's topic API on its S3 endpoint is s3/topics.h). The
// network is client.h's.
//
// Calls: CreateTopic (s3::BuildCreateTopicForm, s3::ParseCreateTopic: the same shape as RGW's),
// GetTopicAttributes, SetTopicAttributes, Subscribe, ListSubscriptionsByTopic, Unsubscribe,
// DeleteTopic.
//
// Errors: a reply that is not the XML expected is kUnavailable. SnsError maps an error reply:
//   5xx, Throttling, ThrottledException, InternalError, ServiceUnavailable -> kUnavailable
//   403, AuthorizationError, InvalidClientTokenId, SignatureDoesNotMatch, AccessDenied,
//     ExpiredToken, IncompleteSignature, MissingAuthenticationToken       -> kPermissionDenied
//   NotFound, 404                                                         -> kNotFound
//   other 4xx                                                             -> kInvalidArgument
// in one line naming the action, the topic, the code and SNS's message (what a server quotes of
// the request left out: s3::QuotableServerMessage).
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace ferry::sns {

using Fields = std::vector<std::pair<std::string, std::string>>;

// Action=ACTION&NAME=VALUE...&Version=2010-03-31, each percent-encoded.
std::string BuildForm(std::string_view action, const Fields& fields);

// <GetTopicAttributesResponse>'s attributes, every one (Policy, Owner, ...), as (name, value).
Result<Fields> ParseTopicAttributes(std::string_view xml);

// <SubscribeResponse>'s SubscriptionArn ("pending confirmation" when it is pending and the
// request did not ask ReturnSubscriptionArn).
Result<std::string> ParseSubscribe(std::string_view xml);

struct Subscription {
  std::string arn;       // "PendingConfirmation" while not confirmed
  std::string protocol;  // "https"
  std::string endpoint;  // the URL
};
struct SubscriptionsPage {
  std::vector<Subscription> subscriptions;
  std::string next_token;  // "" on the last page
};
Result<SubscriptionsPage> ParseListSubscriptionsByTopic(std::string_view xml);

// The Status of a non-2xx reply to `action` about `topic`.
Status SnsError(std::string_view action, std::string_view topic, int http_status,
                std::string_view body);

}  // namespace ferry::sns
