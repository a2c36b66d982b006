// Shared by the files of `ferry events` (cli/commands/events.cc: the command, its options, the
// store's topics of RGW; events_aws.cc: AWS's SQS queues and SNS topics, MinIO's queue ARNs).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/wiring.h"
#include "base/status.h"
#include "cli/commands.h"
#include "events/setup/setup.h"
#include "sns/client.h"
#include "sqs/client.h"

namespace ferry::cli::events_cmd {

namespace setup = ferry::events::setup;

struct SetupArgs {
  std::string location;
  std::string endpoint;
  std::string token;       // --token VALUE: refused (readable in /proc/PID/cmdline)
  std::string token_env;   // --token-env NAME: the variable holding ferry serve's token
  std::string token_file;  // --token-file PATH: a file holding it (one line)
  std::string topic;
  std::string events;
  std::string prefix;
  bool no_persistent = false;
  std::string sqs_queue;     // AWS: the queue ferry serve polls
  std::string sqs_endpoint;  // where its SQS calls go
  std::string source_account;
  std::string queue_arn;     // MinIO: a target the server has
  std::string sns_topic;     // AWS: a topic with a subscription to ferry serve
  std::string sns_endpoint;  // where its SNS calls go
};

struct ShowArgs {
  std::string location;
  std::string sqs_endpoint;
  std::string sns_endpoint;
};

struct RemoveArgs {
  std::string location;
  std::string topic;
  bool delete_topic = false;
  std::string sqs_queue;
  std::string sqs_endpoint;
  std::string queue_arn;
  bool delete_queue = false;
  std::string sns_topic;
  std::string sns_endpoint;
  std::string endpoint;
};

// The S3 client and bucket of REMOTE:BUCKET (a bucket alone: events are set per bucket).
struct Target {
  std::unique_ptr<app::Wiring> wiring;
  s3::S3Client* client = nullptr;
  std::string bucket;
  std::string remote;  // the location's remote ("" for s3://)
};

Result<Target> Resolve(const std::string& text, const Context& ctx);

// The SQS or SNS client of the target's remote (its credentials and region): the endpoint
// given (--sqs-endpoint, --sns-endpoint), else a queue URL's, else the remote's own endpoint
// (moto), else AWS's (app::ResolveServiceEndpoint). kInvalidArgument for a malformed endpoint.
Result<std::unique_ptr<sqs::SqsClient>> SqsFor(Target& t, const std::string& queue,
                                              const std::string& endpoint);
Result<std::unique_ptr<sns::SnsClient>> SnsFor(Target& t, const std::string& endpoint);

// The token of --token-env or --token-file (kInvalidArgument, one line that never holds the
// token, when --token gave the token itself, when neither or both, the variable is unset, or
// the file cannot be read or holds no token, or more than one line); OptionalToken: "" when
// none is given.
Result<std::string> Token(const SetupArgs& a);
Result<std::string> OptionalToken(const SetupArgs& a);

std::string Join(const std::vector<std::string>& items);
// "bucket B notifies WHAT of EVENTS [under P] as configuration ID (added|replaced; N ...)".
void PrintBucketLine(const std::string& bucket, const std::string& what,
                     const std::vector<std::string>& events, const std::string& prefix,
                     const std::string& id, bool replaced, size_t configurations);
// A note on stderr when other configurations notify the same topic or queue.
void NoteAlsoNotifying(const std::vector<std::string>& ids, const std::string& bucket,
                       const char* what);

// events_aws.cc: each returns the exit code. `events` are the parsed --events (empty: default).
int RunSetupQueue(const SetupArgs& a, const std::vector<std::string>& events, Context& ctx);
int RunSetupQueueArn(const SetupArgs& a, const std::vector<std::string>& events, Context& ctx);
int RunSetupSns(const SetupArgs& a, const std::vector<std::string>& events, Context& ctx);
int RunRemoveQueue(const RemoveArgs& a, Context& ctx);
int RunRemoveSns(const RemoveArgs& a, Context& ctx);
// `show`'s lines under a queue configuration and under an AWS SNS topic configuration.
void PrintQueue(const setup::QueueView& queue, const std::string& bucket,
                const std::string& sqs_endpoint);
void PrintSnsTopic(const setup::SnsTopicView& topic, const std::string& bucket);

}  // namespace ferry::cli::events_cmd
