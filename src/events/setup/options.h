// Which of `ferry events setup|remove`'s ways the options given ask for, and the options that do
// not go with it: pure, for the command (cli/commands/events.cc) and for tests.
//
//   a topic (RGW):      --endpoint (required), --token/--token-env, --topic, --no-persistent
//   --sqs-queue (AWS):  --sqs-endpoint, --source-account
//   --queue-arn (MinIO): --endpoint and --token/--token-env (only shown, in the command that
//                       creates MinIO's target)
//   --sns-topic (AWS):  --endpoint (required: the subscription's URL), --sns-endpoint,
//                       --source-account
// --events and --prefix go with every way. Refusals are kInvalidArgument, one line naming the
// option (exit 2).
#pragma once

#include "base/status.h"

namespace ferry::events::setup {

enum class SetupWay { kTopic, kSqsQueue, kQueueArn, kSnsTopic };

// What was given on the command line (true: set).
struct SetupOptionsGiven {
  bool endpoint = false;
  bool token = false;  // --token or --token-env
  bool topic = false;
  bool no_persistent = false;
  bool sqs_queue = false;
  bool sqs_endpoint = false;
  bool source_account = false;
  bool queue_arn = false;
  bool sns_topic = false;
  bool sns_endpoint = false;
};

Result<SetupWay> ChooseSetupWay(const SetupOptionsGiven& given);

// `remove`: --topic and --delete-topic (a topic: RGW; --delete-topic also with --sns-topic),
// --sqs-queue with --sqs-endpoint and --delete-queue, --queue-arn, --sns-topic with
// --sns-endpoint and --endpoint (its subscriptions of that URL unsubscribed).
struct RemoveOptionsGiven {
  bool topic = false;
  bool delete_topic = false;
  bool sqs_queue = false;
  bool sqs_endpoint = false;
  bool delete_queue = false;
  bool queue_arn = false;
  bool sns_topic = false;
  bool sns_endpoint = false;
  bool endpoint = false;
};

Result<SetupWay> ChooseRemoveWay(const RemoveOptionsGiven& given);

}  // namespace ferry::events::setup
