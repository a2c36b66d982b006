// RGW's SNS-compatible topic actions: CreateTopic, GetTopicAttributes, DeleteTopic (POST / on
// the S3 endpoint, form-encoded, signed for "sns"; see s3/topics.h).
#include "checksum/checksum.h"
#include "s3/client_internal.h"

namespace ferry::s3 {
namespace {

constexpr std::string_view kFormType = "application/x-www-form-urlencoded; charset=utf-8";

RequestSpec TopicRequest(const std::string& form, std::string_view action) {
  RequestSpec spec;
  spec.method = "POST";
  spec.body = checksum::AsBytes(form);
  spec.headers.Set("Content-Type", std::string(kFormType));
  spec.operation = action;
  spec.signing_service = "sns";
  return spec;
}

}  // namespace

Result<std::string> S3Client::CreateTopic(const CreateTopicRequest& request,
                                          std::stop_token stop) {
  const std::string form = BuildCreateTopicForm(request);
  Result<Reply> reply = Call::Run(*this, TopicRequest(form, "CreateTopic"), stop);
  if (!reply.ok()) return reply.status().WithContext("creating topic " + request.name);
  return ParseCreateTopic(reply->body);
}

Result<TopicAttributes> S3Client::GetTopicAttributes(std::string_view topic_arn,
                                                     std::stop_token stop) {
  const std::string form = BuildTopicArnForm("GetTopicAttributes", topic_arn);
  Result<Reply> reply = Call::Run(*this, TopicRequest(form, "GetTopicAttributes"), stop);
  if (!reply.ok()) {
    return reply.status().WithContext("asking topic " + std::string(topic_arn));
  }
  return ParseGetTopicAttributes(reply->body);
}

Status S3Client::DeleteTopic(std::string_view topic_arn, std::stop_token stop) {
  const std::string form = BuildTopicArnForm("DeleteTopic", topic_arn);
  Status s = Call::Run(*this, TopicRequest(form, "DeleteTopic"), stop).status();
  if (!s.ok()) return s.WithContext("deleting topic " + std::string(topic_arn));
  return s;
}

}  // namespace ferry::s3
