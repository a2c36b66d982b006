// SqsClient (client.h): sign, send, map the reply.
#include "sqs/client.h"

namespace ferry::sqs {
namespace {

constexpr std::chrono::milliseconds kCallTimeout{30000};
// A long poll's request may last wait_seconds, plus this for the connection and the reply.
constexpr std::chrono::milliseconds kLongPollSlack{15000};

}  // namespace

SqsClient::SqsClient(SqsEndpoint endpoint, http::HttpTransport& http, Clock& clock)
    : endpoint_(std::move(endpoint)), http_(http), clock_(clock) {}

Result<std::string> SqsClient::Post(const Call& call, const std::string& queue_url,
                                    std::chrono::milliseconds timeout, std::stop_token stop) {
  http::Headers headers;
  headers.Set("Content-Type", kContentType);
  headers.Set("X-Amz-Target", std::string(kTargetPrefix) + call.action);
  FERRY_ASSIGN_OR_RETURN(s3::ServiceReply reply,
                         s3::SendSigned(endpoint_, "sqs", std::move(headers), call.body, timeout,
                                        http_, clock_, stop));
  if (reply.status < 200 || reply.status >= 300) {
    return SqsError(call.action, queue_url, reply.status, reply.headers, reply.body);
  }
  return std::move(reply.body);
}

Result<std::vector<Message>> SqsClient::Receive(const ReceiveRequest& request,
                                                std::stop_token stop) {
  const auto timeout = std::chrono::seconds(request.wait_seconds) + kLongPollSlack;
  FERRY_ASSIGN_OR_RETURN(std::string reply,
                         Post(BuildReceive(request), request.queue_url,
                              std::chrono::duration_cast<std::chrono::milliseconds>(timeout),
                              stop));
  return ParseReceive(reply);
}

Result<std::vector<DeleteFailure>> SqsClient::DeleteBatch(
    const std::string& queue_url, const std::vector<DeleteEntry>& entries,
    std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string reply,
                         Post(BuildDeleteBatch(queue_url, entries), queue_url, kCallTimeout,
                              stop));
  return ParseDeleteBatch(reply);
}

Status SqsClient::Send(const std::string& queue_url, const std::string& body,
                       const std::vector<std::pair<std::string, std::string>>& attributes,
                       std::stop_token stop) {
  return Post(BuildSend(queue_url, body, attributes), queue_url, kCallTimeout, stop)
      .status();
}

Result<std::vector<std::pair<std::string, std::string>>> SqsClient::GetAttributes(
    const std::string& queue_url, const std::vector<std::string>& names, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string reply, Post(BuildGetAttributes(queue_url, names),
                                                 queue_url, kCallTimeout, stop));
  return ParseGetAttributes(reply);
}

Result<std::string> SqsClient::GetQueueUrl(const std::string& name,
                                           const std::string& owner_account,
                                           std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string reply, Post(BuildGetQueueUrl(name, owner_account), name,
                                                 kCallTimeout, stop));
  return ParseQueueUrl(reply, "GetQueueUrl");
}

Result<std::string> SqsClient::CreateQueue(
    const std::string& name, const std::vector<std::pair<std::string, std::string>>& attributes,
    std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(std::string reply,
                         Post(BuildCreateQueue(name, attributes), name, kCallTimeout, stop));
  return ParseQueueUrl(reply, "CreateQueue");
}

Status SqsClient::SetAttributes(const std::string& queue_url,
                                const std::vector<std::pair<std::string, std::string>>& attributes,
                                std::stop_token stop) {
  return Post(BuildSetAttributes(queue_url, attributes), queue_url, kCallTimeout, stop).status();
}

Status SqsClient::DeleteQueue(const std::string& queue_url, std::stop_token stop) {
  return Post(BuildDeleteQueue(queue_url), queue_url, kCallTimeout, stop).status();
}

}  // namespace ferry::sqs
