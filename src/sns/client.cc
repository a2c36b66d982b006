// SnsClient (client.h): forms, the signed POST, the replies.
#include "sns/client.h"

#include "s3/topics.h"

namespace ferry::sns {
namespace {

constexpr std::chrono::milliseconds kCallTimeout{30000};
constexpr std::string_view kFormType = "application/x-www-form-urlencoded; charset=utf-8";
constexpr int kMaxPages = 1000;  // 100 subscriptions a page

}  // namespace

SnsClient::SnsClient(s3::ServiceEndpoint endpoint, http::HttpTransport& http, Clock& clock)
    : endpoint_(std::move(endpoint)), http_(http), clock_(clock) {}

Result<std::string> SnsClient::Post(std::string_view action, const std::string& form,
                                    std::string_view topic, std::stop_token stop) {
  http::Headers headers;
  headers.Set("Content-Type", kFormType);
  FERRY_ASSIGN_OR_RETURN(s3::ServiceReply reply,
                         s3::SendSigned(endpoint_, "sns", std::move(headers), form, kCallTimeout,
                                        http_, clock_, stop));
  if (reply.status < 200 || reply.status >= 300) {
    return SnsError(action, topic, reply.status, reply.body);
  }
  return std::move(reply.body);
}

Result<std::string> SnsClient::CreateTopic(const std::string& name, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(
      std::string reply,
      Post("CreateTopic", s3::BuildCreateTopicForm({.name = name, .attributes = {}}), name,
           stop));
  Result<std::string> arn = s3::ParseCreateTopic(reply);
  if (!arn.ok()) return Status::Unavailable("SNS CreateTopic " + name + ": " +
                                            arn.status().message());
  return arn;
}

Result<Fields> SnsClient::GetTopicAttributes(const std::string& topic_arn,
                                             std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string reply,
                         Post("GetTopicAttributes",
                              BuildForm("GetTopicAttributes", {{"TopicArn", topic_arn}}),
                              topic_arn, stop));
  return ParseTopicAttributes(reply);
}

Status SnsClient::Publish(const std::string& topic_arn, const std::string& subject,
                          const std::string& message, std::stop_token stop) {
  Fields fields{{"TopicArn", topic_arn}, {"Message", message}};
  if (!subject.empty()) fields.push_back({"Subject", subject});
  return Post("Publish", BuildForm("Publish", fields), topic_arn, stop).status();
}

Status SnsClient::SetTopicAttribute(const std::string& topic_arn, const std::string& name,
                                    const std::string& value, std::stop_token stop) {
  return Post("SetTopicAttributes",
              BuildForm("SetTopicAttributes", {{"TopicArn", topic_arn},
                                               {"AttributeName", name},
                                               {"AttributeValue", value}}),
              topic_arn, stop)
      .status();
}

Result<std::string> SnsClient::Subscribe(const std::string& topic_arn,
                                         const std::string& protocol,
                                         const std::string& endpoint, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string reply,
                         Post("Subscribe",
                              BuildForm("Subscribe", {{"TopicArn", topic_arn},
                                                      {"Protocol", protocol},
                                                      {"Endpoint", endpoint},
                                                      {"ReturnSubscriptionArn", "true"}}),
                              topic_arn, stop));
  return ParseSubscribe(reply);
}

Result<std::vector<Subscription>> SnsClient::ListSubscriptionsByTopic(
    const std::string& topic_arn, std::stop_token stop) {
  std::vector<Subscription> out;
  std::string token;
  for (int page = 0; page < kMaxPages; ++page) {
    Fields fields = {{"TopicArn", topic_arn}};
    if (!token.empty()) fields.emplace_back("NextToken", token);
    FERRY_ASSIGN_OR_RETURN(std::string reply,
                           Post("ListSubscriptionsByTopic",
                                BuildForm("ListSubscriptionsByTopic", fields), topic_arn, stop));
    FERRY_ASSIGN_OR_RETURN(SubscriptionsPage got, ParseListSubscriptionsByTopic(reply));
    for (Subscription& s : got.subscriptions) out.push_back(std::move(s));
    if (got.next_token.empty() || got.next_token == token) return out;
    token = std::move(got.next_token);
  }
  return Status::Unavailable("SNS ListSubscriptionsByTopic " + topic_arn +
                             ": more pages than can be read");
}

Status SnsClient::Unsubscribe(const std::string& subscription_arn, std::stop_token stop) {
  return Post("Unsubscribe", BuildForm("Unsubscribe", {{"SubscriptionArn", subscription_arn}}),
              subscription_arn, stop)
      .status();
}

Status SnsClient::DeleteTopic(const std::string& topic_arn, std::stop_token stop) {
  return Post("DeleteTopic", BuildForm("DeleteTopic", {{"TopicArn", topic_arn}}), topic_arn,
              stop)
      .status();
}

}  // namespace ferry::sns
