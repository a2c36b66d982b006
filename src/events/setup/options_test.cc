// ChooseSetupWay, ChooseRemoveWay: each way and the options refused with it.
#include "events/setup/options.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::events::setup {
namespace {

std::string Refusal(const Result<SetupWay>& r) {
  return r.ok() ? std::string("(accepted)") : r.status().message();
}

TEST(SetupOptionsTest, EachWay) {
  EXPECT_EQ(*ChooseSetupWay({.endpoint = true, .token = true}), SetupWay::kTopic);
  EXPECT_EQ(*ChooseSetupWay({.sqs_queue = true, .sqs_endpoint = true, .source_account = true}),
            SetupWay::kSqsQueue);
  EXPECT_EQ(*ChooseSetupWay({.endpoint = true, .token = true, .queue_arn = true}),
            SetupWay::kQueueArn);
  EXPECT_EQ(*ChooseSetupWay({.queue_arn = true}), SetupWay::kQueueArn);
  EXPECT_EQ(*ChooseSetupWay({.endpoint = true, .source_account = true, .sns_topic = true,
                             .sns_endpoint = true}),
            SetupWay::kSnsTopic);
}

TEST(SetupOptionsTest, OptionsOfAnotherWayAreRefused) {
  EXPECT_EQ(Refusal(ChooseSetupWay({})).substr(0, 25), "--endpoint URL is needed ");
  EXPECT_EQ(Refusal(ChooseSetupWay({.sqs_queue = true, .queue_arn = true})),
            "give one of --sqs-queue, --queue-arn and --sns-topic");
  EXPECT_EQ(Refusal(ChooseSetupWay({.queue_arn = true, .sns_topic = true})),
            "give one of --sqs-queue, --queue-arn and --sns-topic");
  EXPECT_EQ(Refusal(ChooseSetupWay({.endpoint = true, .sqs_queue = true})).substr(0, 41),
            "--endpoint goes with a topic or --queue-a");
  EXPECT_EQ(Refusal(ChooseSetupWay({.token = true, .sqs_queue = true})).substr(0, 8), "--token ");
  EXPECT_EQ(Refusal(ChooseSetupWay({.topic = true, .sqs_queue = true})),
            "--topic goes with a topic of the store (RGW)");
  EXPECT_EQ(Refusal(ChooseSetupWay({.no_persistent = true, .sns_topic = true})),
            "--no-persistent goes with a topic of the store (RGW)");
  EXPECT_EQ(Refusal(ChooseSetupWay({.endpoint = true, .sqs_endpoint = true, .queue_arn = true})),
            "--sqs-endpoint goes with --sqs-queue");
  EXPECT_EQ(Refusal(ChooseSetupWay({.endpoint = true, .token = true, .sns_endpoint = true})),
            "--sns-endpoint goes with --sns-topic");
  EXPECT_EQ(Refusal(ChooseSetupWay({.endpoint = true, .token = true, .source_account = true})),
            "--source-account goes with --sqs-queue or --sns-topic");
  EXPECT_EQ(Refusal(ChooseSetupWay({.endpoint = true, .token = true, .sns_topic = true})).substr(
                0, 8),
            "--token ");
  EXPECT_EQ(Refusal(ChooseSetupWay({.sns_topic = true})).substr(0, 36),
            "--sns-topic needs --endpoint URL: fe");
  EXPECT_EQ(Refusal(ChooseSetupWay({.topic = true, .queue_arn = true})),
            "--topic goes with a topic of the store (RGW), not --queue-arn");
}

TEST(RemoveOptionsTest, EachWayAndRefusals) {
  EXPECT_EQ(*ChooseRemoveWay({.topic = true, .delete_topic = true}), SetupWay::kTopic);
  EXPECT_EQ(*ChooseRemoveWay({.sqs_queue = true, .sqs_endpoint = true, .delete_queue = true}),
            SetupWay::kSqsQueue);
  EXPECT_EQ(*ChooseRemoveWay({.queue_arn = true}), SetupWay::kQueueArn);
  EXPECT_EQ(*ChooseRemoveWay({.delete_topic = true, .sns_topic = true, .sns_endpoint = true,
                              .endpoint = true}),
            SetupWay::kSnsTopic);
  EXPECT_EQ(Refusal(ChooseRemoveWay({.delete_queue = true})),
            "--delete-queue goes with --sqs-queue");
  EXPECT_EQ(Refusal(ChooseRemoveWay({.delete_topic = true, .sqs_queue = true})),
            "--delete-topic goes with a topic or --sns-topic");
  EXPECT_EQ(Refusal(ChooseRemoveWay({.topic = true, .sns_topic = true})),
            "--topic goes with a topic of the store (RGW)");
  EXPECT_EQ(Refusal(ChooseRemoveWay({.endpoint = true})),
            "--endpoint goes with --sns-topic (its subscriptions of that URL)");
  EXPECT_EQ(Refusal(ChooseRemoveWay({.sqs_queue = true, .sns_topic = true})),
            "give one of --sqs-queue, --queue-arn and --sns-topic");
}

}  // namespace
}  // namespace ferry::events::setup
