// SNS and SQS targets: Publish to a topic, SendMessage to a queue, through the clients of
// src/sns and src/sqs (deliver.h).
#include "notify/deliver.h"
#include "sns/client.h"
#include "sqs/client.h"

namespace ferry::notify {

Status DeliverSnsSqs(const Target& target, const RunEnd& run, const std::string& document,
                     const DeliveryContext& context, std::stop_token stop) {
  const std::string where = DescribeTarget(target);
  if (context.http == nullptr) return Status::Internal(where + ": no transport");
  if (!context.service_endpoint) {
    return Status::FailedPrecondition(where + ": no endpoint resolver");
  }
  Result<s3::ServiceEndpoint> endpoint = context.service_endpoint(target);
  if (!endpoint.ok()) return endpoint.status().WithContext(where);
  Clock& clock = ClockOr(context.clock);
  Status sent;
  if (target.kind == Kind::kSns) {
    sns::SnsClient client(std::move(*endpoint), *context.http, clock);
    sent = client.Publish(target.topic_arn, Subject(run).substr(0, 100), document, stop);
  } else {
    sqs::SqsClient client(std::move(*endpoint), *context.http, clock);
    sent = client.Send(target.queue_url, document, {}, stop);
  }
  return sent.ok() ? sent : sent.WithContext(where);
}

}  // namespace ferry::notify
