// ChooseSetupWay, ChooseRemoveWay (options.h).
#include "events/setup/options.h"

#include <string>
#include <string_view>

namespace ferry::events::setup {
namespace {

// One line when an option does not go with the way asked for.
Status Refuse(bool given, std::string_view option, std::string_view why) {
  if (!given) return Status::Ok();
  return Status::InvalidArgument(std::string(option) + " " + std::string(why));
}

Status AtMostOne(bool sqs_queue, bool queue_arn, bool sns_topic) {
  if (int(sqs_queue) + int(queue_arn) + int(sns_topic) <= 1) return Status::Ok();
  return Status::InvalidArgument("give one of --sqs-queue, --queue-arn and --sns-topic");
}

}  // namespace

Result<SetupWay> ChooseSetupWay(const SetupOptionsGiven& g) {
  FERRY_RETURN_IF_ERROR(AtMostOne(g.sqs_queue, g.queue_arn, g.sns_topic));
  constexpr std::string_view kRgw = "goes with a topic of the store (RGW)";
  if (g.sqs_queue || g.sns_topic) {
    FERRY_RETURN_IF_ERROR(Refuse(g.topic, "--topic", kRgw));
    FERRY_RETURN_IF_ERROR(Refuse(g.no_persistent, "--no-persistent", kRgw));
  }
  if (g.sqs_queue) {
    FERRY_RETURN_IF_ERROR(Refuse(g.endpoint, "--endpoint",
                                 "goes with a topic or --queue-arn: with --sqs-queue ferry serve "
                                 "polls the queue ([[serve.sqs]])"));
    FERRY_RETURN_IF_ERROR(Refuse(g.token, "--token",
                                 "goes with a topic (RGW) or --queue-arn: ferry serve reads the "
                                 "queue with its own credentials"));
    FERRY_RETURN_IF_ERROR(Refuse(g.sns_endpoint, "--sns-endpoint", "goes with --sns-topic"));
    return SetupWay::kSqsQueue;
  }
  FERRY_RETURN_IF_ERROR(Refuse(g.sqs_endpoint, "--sqs-endpoint", "goes with --sqs-queue"));
  if (g.sns_topic) {
    FERRY_RETURN_IF_ERROR(Refuse(g.token, "--token",
                                 "goes with a topic (RGW) or --queue-arn: SNS messages are "
                                 "authenticated by their signature ([serve] sns_topics)"));
    if (!g.endpoint) {
      return Status::InvalidArgument(
          "--sns-topic needs --endpoint URL: ferry serve's https://.../events, which the "
          "topic's subscription posts to");
    }
    return SetupWay::kSnsTopic;
  }
  FERRY_RETURN_IF_ERROR(Refuse(g.sns_endpoint, "--sns-endpoint", "goes with --sns-topic"));
  FERRY_RETURN_IF_ERROR(
      Refuse(g.source_account, "--source-account", "goes with --sqs-queue or --sns-topic"));
  if (g.queue_arn) {
    constexpr std::string_view kNotArn = "goes with a topic of the store (RGW), not --queue-arn";
    FERRY_RETURN_IF_ERROR(Refuse(g.topic, "--topic", kNotArn));
    FERRY_RETURN_IF_ERROR(Refuse(g.no_persistent, "--no-persistent", kNotArn));
    return SetupWay::kQueueArn;
  }
  if (!g.endpoint) {
    return Status::InvalidArgument(
        "--endpoint URL is needed (ferry serve's .../events, where the topic pushes), or "
        "--sqs-queue NAME (AWS: a queue ferry serve polls), --sns-topic NAME (AWS: a topic "
        "with a subscription to ferry serve), --queue-arn ARN (MinIO: a webhook target of the "
        "server)");
  }
  return SetupWay::kTopic;
}

Result<SetupWay> ChooseRemoveWay(const RemoveOptionsGiven& g) {
  FERRY_RETURN_IF_ERROR(AtMostOne(g.sqs_queue, g.queue_arn, g.sns_topic));
  const bool other = g.sqs_queue || g.queue_arn || g.sns_topic;
  FERRY_RETURN_IF_ERROR(
      Refuse(g.topic && other, "--topic", "goes with a topic of the store (RGW)"));
  FERRY_RETURN_IF_ERROR(Refuse(g.delete_topic && (g.sqs_queue || g.queue_arn), "--delete-topic",
                               "goes with a topic or --sns-topic"));
  FERRY_RETURN_IF_ERROR(
      Refuse(g.delete_queue && !g.sqs_queue, "--delete-queue", "goes with --sqs-queue"));
  FERRY_RETURN_IF_ERROR(
      Refuse(g.sqs_endpoint && !g.sqs_queue, "--sqs-endpoint", "goes with --sqs-queue"));
  FERRY_RETURN_IF_ERROR(
      Refuse(g.sns_endpoint && !g.sns_topic, "--sns-endpoint", "goes with --sns-topic"));
  FERRY_RETURN_IF_ERROR(Refuse(g.endpoint && !g.sns_topic, "--endpoint",
                               "goes with --sns-topic (its subscriptions of that URL)"));
  if (g.sqs_queue) return SetupWay::kSqsQueue;
  if (g.queue_arn) return SetupWay::kQueueArn;
  if (g.sns_topic) return SetupWay::kSnsTopic;
  return SetupWay::kTopic;
}

}  // namespace ferry::events::setup
