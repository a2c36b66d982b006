// SnsClient: the SNS calls of protocol.h sent to one SNS endpoint: POST / with the call's form,
// signed with SigV4 for service "sns" (s3::SendSigned), through the process's HttpTransport.
// For `ferry events setup --sns-topic` (AWS S3 -> SNS -> an HTTPS subscription to ferry
// serve's /events). No retries: one call is one request (a command run by hand).
//
// Errors: the transport's (kUnavailable, kCancelled) or the reply's (SnsError); an unreadable
// 2xx reply is kUnavailable. Thread-safety: calls may be made from any thread at once.
#pragma once

#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "http/transport.h"
#include "s3/service_call.h"
#include "sns/protocol.h"

namespace ferry::sns {

class SnsClient {
 public:
  // `http` and `clock` (the signature's time) must outlive the client.
  SnsClient(s3::ServiceEndpoint endpoint, http::HttpTransport& http, Clock& clock);

  const s3::ServiceEndpoint& endpoint() const { return endpoint_; }

  // The topic's ARN; an existing topic of that name is returned as it is (SNS's rule).
  Result<std::string> CreateTopic(const std::string& name, std::stop_token stop);
  // Every attribute (Policy, Owner, SubscriptionsConfirmed, ...). kNotFound: no such topic.
  Result<Fields> GetTopicAttributes(const std::string& topic_arn, std::stop_token stop);
  Status SetTopicAttribute(const std::string& topic_arn, const std::string& name,
                           const std::string& value, std::stop_token stop);
  // Subscribe with ReturnSubscriptionArn=true: the subscription's ARN, also while pending.
  Result<std::string> Subscribe(const std::string& topic_arn, const std::string& protocol,
                                const std::string& endpoint, std::stop_token stop);
  // Every page.
  Result<std::vector<Subscription>> ListSubscriptionsByTopic(const std::string& topic_arn,
                                                             std::stop_token stop);
  Status Unsubscribe(const std::string& subscription_arn, std::stop_token stop);
  Status DeleteTopic(const std::string& topic_arn, std::stop_token stop);
  // Publishes `message` (and `subject`, "" for none: at most 100 printable ASCII characters)
  // to the topic (ferry's run-end notifications, src/notify/).
  Status Publish(const std::string& topic_arn, const std::string& subject,
                 const std::string& message, std::stop_token stop);

 private:
  // The 2xx reply's body of `action` about `topic`.
  Result<std::string> Post(std::string_view action, const std::string& form,
                           std::string_view topic, std::stop_token stop);

  const s3::ServiceEndpoint endpoint_;
  http::HttpTransport& http_;
  Clock& clock_;
};

}  // namespace ferry::sns
