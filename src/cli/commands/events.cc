// ferry events setup|show|remove REMOTE:BUCKET: the store's topic and the bucket's notification
// configuration that make a bucket's changes reach `ferry serve`'s POST /events (RGW), or the
// SQS queue `ferry serve` polls ([[serve.sqs]]; AWS), or an SNS topic subscribed to its
// /events (AWS), or a queue ARN the store knows (MinIO's webhook targets). events/setup/ does
// the requests; this file reads the options (which way: setup::ChooseSetupWay), runs RGW's
// topics, shows, and hands the other ways to events_aws.cc.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>

#include "app/encryption.h"
#include "cli/commands.h"
#include "cli/commands/events_internal.h"

namespace ferry::cli {
namespace events_cmd {

Result<Target> Resolve(const std::string& text, const Context& ctx) {
  FERRY_ASSIGN_OR_RETURN(app::Config config, app::LoadConfig(ctx.global.config_path));
  FERRY_ASSIGN_OR_RETURN(app::Location loc, app::ParseLocation(text));
  if (!loc.is_s3()) {
    return Status::InvalidArgument("'" + text + "' is not an S3 location (REMOTE:BUCKET)");
  }
  if (!loc.prefix.empty()) {
    return Status::InvalidArgument("'" + text +
                                   "': notifications are set per bucket; give the bucket alone "
                                   "(a key filter: --prefix)");
  }
  Target t;
  t.wiring = std::make_unique<app::Wiring>(std::move(config));
  FERRY_ASSIGN_OR_RETURN(t.client, t.wiring->ClientFor(loc));
  t.bucket = loc.bucket;
  t.remote = loc.remote;
  return t;
}

namespace {

// The token in the file `path`: its one line, without the line end.
Result<std::string> EventsTokenFromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::InvalidArgument("cannot read --token-file " + path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  if (text.empty()) return Status::InvalidArgument("--token-file " + path + " is empty");
  if (text.find_first_of("\r\n") != std::string::npos) {
    return Status::InvalidArgument("--token-file " + path +
                                   " holds more than one line (a token is one line)");
  }
  return text;
}

}  // namespace

Result<std::string> Token(const SetupArgs& a) {
  FERRY_RETURN_IF_ERROR(app::RefuseSecretOnCommandLine("--token", a.token));
  if (!a.token_file.empty() && !a.token_env.empty()) {
    return Status::InvalidArgument("give --token-env or --token-file, not both");
  }
  if (!a.token_file.empty()) return EventsTokenFromFile(a.token_file);
  if (!a.token_env.empty()) {
    const char* v = std::getenv(a.token_env.c_str());
    if (v == nullptr || *v == '\0') {
      return Status::InvalidArgument("--token-env: " + a.token_env + " is not set");
    }
    return std::string(v);
  }
  return Status::InvalidArgument(
      "a token is needed: --token-env VAR (the variable of ferry serve's [serve] token_env) "
      "or --token-file PATH");
}

// --queue-arn: the token is only shown (masked) in the command that creates MinIO's target.
Result<std::string> OptionalToken(const SetupArgs& a) {
  if (a.token.empty() && a.token_env.empty() && a.token_file.empty()) return std::string();
  return Token(a);
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out.append(out.empty() ? "" : ", ").append(s);
  return out;
}

void PrintBucketLine(const std::string& bucket, const std::string& what,
                     const std::vector<std::string>& events, const std::string& prefix,
                     const std::string& id, bool replaced, size_t configurations) {
  std::printf("bucket %s notifies %s of %s%s as configuration %s (%s; %zu configuration%s in "
              "all)\n",
              bucket.c_str(), what.c_str(), Join(events).c_str(),
              prefix.empty() ? "" : (" under " + prefix).c_str(), id.c_str(),
              replaced ? "replaced" : "added", configurations, configurations == 1 ? "" : "s");
}

void NoteAlsoNotifying(const std::vector<std::string>& ids, const std::string& bucket,
                       const char* what) {
  if (ids.empty()) return;
  std::fprintf(stderr,
               "ferry: note: configuration %s of bucket %s notifies the same %s: events are "
               "sent twice\n",
               Join(ids).c_str(), bucket.c_str(), what);
}

namespace {

int RunSetup(const SetupArgs& a, Context& ctx) {
  // The token itself on the command line is refused first, whatever else is wrong.
  if (Status s = app::RefuseSecretOnCommandLine("--token", a.token); !s.ok()) {
    return ReportError(s);
  }
  Result<setup::SetupWay> way =
      setup::ChooseSetupWay({.endpoint = !a.endpoint.empty(),
                             .token = !a.token_env.empty() || !a.token_file.empty(),
                             .topic = !a.topic.empty(),
                             .no_persistent = a.no_persistent,
                             .sqs_queue = !a.sqs_queue.empty(),
                             .sqs_endpoint = !a.sqs_endpoint.empty(),
                             .source_account = !a.source_account.empty(),
                             .queue_arn = !a.queue_arn.empty(),
                             .sns_topic = !a.sns_topic.empty(),
                             .sns_endpoint = !a.sns_endpoint.empty()});
  if (!way.ok()) return ReportError(way.status());
  std::vector<std::string> events;
  if (!a.events.empty()) {
    Result<std::vector<std::string>> parsed = setup::ParseEvents(a.events);
    if (!parsed.ok()) return ReportError(parsed.status());
    events = std::move(parsed).value();
  }
  switch (*way) {
    case setup::SetupWay::kSqsQueue:
      return RunSetupQueue(a, events, ctx);
    case setup::SetupWay::kQueueArn:
      return RunSetupQueueArn(a, events, ctx);
    case setup::SetupWay::kSnsTopic:
      return RunSetupSns(a, events, ctx);
    case setup::SetupWay::kTopic:
      break;
  }
  setup::SetupRequest req;
  Result<std::string> token = Token(a);
  if (!token.ok()) return ReportError(token.status());
  req.token = std::move(token).value();
  if (Status s = setup::ValidateEndpointUrl(a.endpoint); !s.ok()) return ReportError(s);
  req.endpoint_url = a.endpoint;
  req.events = std::move(events);
  req.persistent = !a.no_persistent;
  req.prefix = a.prefix;
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  req.bucket = t->bucket;
  req.topic = a.topic.empty() ? setup::TopicNameFor(t->bucket) : a.topic;
  if (Status s = setup::ValidateTopicName(req.topic); !s.ok()) return ReportError(s);

  Result<setup::SetupResult> r = setup::SetUpBucketEvents(*t->client, req, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  std::printf("topic %s (%s) pushes to %s, %s, with the token as its opaqueData\n",
              req.topic.c_str(), r->topic_arn.c_str(), setup::MaskUrl(req.endpoint_url).c_str(),
              req.persistent ? "persistent" : "not persistent");
  PrintBucketLine(req.bucket, "it", r->events, req.prefix, r->configuration_id, r->replaced,
                  r->configurations);
  const std::string path = req.endpoint_url.substr(0, req.endpoint_url.find('?'));
  if (!path.ends_with("/events")) {
    std::fprintf(stderr,
                 "ferry: note: ferry serve takes notifications at .../events; the topic pushes "
                 "to another path\n");
  }
  NoteAlsoNotifying(r->also_notifying, req.bucket, "topic");
  return 0;
}

std::string FilterText(const std::vector<s3::NotificationFilterRule>& rules) {
  std::string out;
  for (const s3::NotificationFilterRule& r : rules) {
    if (!out.empty()) out.push_back(' ');
    out.append(r.kind);
    if (!r.name.empty()) out.append(":").append(r.name);
    out.append("=").append(r.value);
  }
  return out;
}

void PrintTopic(const setup::TopicView& topic) {
  if (!topic.attributes.ok()) {
    const Status& s = topic.attributes.status();
    if (s.code() == ErrorCode::kNotFound) {
      std::printf("  topic: not found at this endpoint\n");
    } else {
      std::printf("  topic: cannot be read: %s\n", s.message().c_str());
    }
    return;
  }
  const s3::TopicAttributes& t = *topic.attributes;
  std::printf("  push-endpoint: %s\n",
              t.push_endpoint.empty() ? "(none said)" : setup::MaskUrl(t.push_endpoint).c_str());
  std::printf("  persistent: %s\n", !t.persistent ? "(not said)" : *t.persistent ? "yes" : "no");
  std::printf("  opaqueData: %s\n",
              t.opaque_data.empty() ? "(none)" : setup::MaskToken(t.opaque_data).c_str());
}

int RunShow(const ShowArgs& a, Context& ctx) {
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  // The queues are asked about at the SQS endpoint of the remote (or --sqs-endpoint); without
  // one (credentials missing) the bucket's configurations are still shown.
  // The clients are made only for a bucket with queues or AWS topics to ask about; one that
  // cannot be made (no credentials) leaves them unasked.
  for (const auto& [flag, endpoint] : {std::pair{"--sqs-endpoint", &a.sqs_endpoint},
                                       std::pair{"--sns-endpoint", &a.sns_endpoint}}) {
    if (!endpoint->empty() && !setup::ValidateEndpointUrl(*endpoint).ok()) {
      return ReportError(Status::InvalidArgument(std::string(flag) + ": '" +
                                                 setup::MaskUrl(*endpoint) +
                                                 "' is not an http:// or https:// URL"));
    }
  }
  std::unique_ptr<sqs::SqsClient> sqs;
  std::unique_ptr<sns::SnsClient> sns;
  std::string sqs_endpoint;
  const setup::ServiceClients services{
      .sqs = [&]() -> sqs::SqsClient* {
        Result<std::unique_ptr<sqs::SqsClient>> made = SqsFor(*t, "", a.sqs_endpoint);
        if (!made.ok()) return nullptr;
        sqs = std::move(made).value();
        sqs_endpoint = sqs->endpoint().url;
        return sqs.get();
      },
      .sns = [&]() -> sns::SnsClient* {
        Result<std::unique_ptr<sns::SnsClient>> made = SnsFor(*t, a.sns_endpoint);
        if (!made.ok()) return nullptr;
        sns = std::move(made).value();
        return sns.get();
      }};
  Result<setup::BucketEvents> ev =
      setup::DescribeBucketEvents(*t->client, t->bucket, services, ctx.stop);
  if (!ev.ok()) return ReportError(ev.status());
  const size_t n = ev->configurations.size();
  if (n == 0) {
    std::printf("bucket %s: no notification configurations\n", t->bucket.c_str());
    return 0;
  }
  std::printf("bucket %s: %zu notification configuration%s\n", t->bucket.c_str(), n,
              n == 1 ? "" : "s");
  for (const s3::NotificationConfig& c : ev->configurations) {
    std::printf("%s: %s %s\n", c.id.empty() ? "(no id)" : c.id.c_str(), c.kind.c_str(),
                c.target.c_str());
    std::printf("  events: %s\n", Join(c.events).c_str());
    if (!c.filter.empty()) std::printf("  filter: %s\n", FilterText(c.filter).c_str());
    for (const setup::TopicView& topic : ev->topics) {
      if (c.kind == "topic" && topic.arn == c.target) PrintTopic(topic);
    }
    for (const setup::SnsTopicView& topic : ev->sns_topics) {
      if (c.kind == "topic" && topic.arn == c.target) PrintSnsTopic(topic, t->bucket);
    }
    for (const setup::QueueView& queue : ev->queues) {
      if (c.kind == "queue" && queue.arn == c.target) PrintQueue(queue, t->bucket, sqs_endpoint);
    }
  }
  return 0;
}

int RunRemove(const RemoveArgs& a, Context& ctx) {
  Result<setup::SetupWay> way =
      setup::ChooseRemoveWay({.topic = !a.topic.empty(),
                              .delete_topic = a.delete_topic,
                              .sqs_queue = !a.sqs_queue.empty(),
                              .sqs_endpoint = !a.sqs_endpoint.empty(),
                              .delete_queue = a.delete_queue,
                              .queue_arn = !a.queue_arn.empty(),
                              .sns_topic = !a.sns_topic.empty(),
                              .sns_endpoint = !a.sns_endpoint.empty(),
                              .endpoint = !a.endpoint.empty()});
  if (!way.ok()) return ReportError(way.status());
  if (*way == setup::SetupWay::kSqsQueue || *way == setup::SetupWay::kQueueArn) {
    return RunRemoveQueue(a, ctx);
  }
  if (*way == setup::SetupWay::kSnsTopic) return RunRemoveSns(a, ctx);
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  setup::RemoveRequest req;
  req.bucket = t->bucket;
  req.topic = a.topic.empty() ? setup::TopicNameFor(t->bucket) : a.topic;
  req.delete_topic = a.delete_topic;
  if (Status s = setup::ValidateTopicName(req.topic); !s.ok()) return ReportError(s);
  Result<setup::RemoveResult> r = setup::RemoveBucketEvents(*t->client, req, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  if (!r->removed) {
    std::printf("bucket %s has no configuration %s: nothing removed\n", req.bucket.c_str(),
                r->configuration_id.c_str());
    return 0;
  }
  std::printf("bucket %s: configuration %s removed (%zu left)%s\n", req.bucket.c_str(),
              r->configuration_id.c_str(), r->configurations,
              r->topic_deleted ? ("; topic " + req.topic + " deleted").c_str() : "");
  return 0;
}

}  // namespace
}  // namespace events_cmd

void RegisterEvents(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "events",
      "the bucket notifications that feed ferry serve (its POST /events, its SQS queues)");
  cmd->require_subcommand(1);

  auto s = std::make_shared<events_cmd::SetupArgs>();
  CLI::App* su = cmd->add_subcommand(
      "setup", "create (or update) the topic pushing to URL (RGW), or the SQS queue ferry serve "
               "polls (AWS: --sqs-queue), or an SNS topic subscribed to URL (AWS: --sns-topic), "
               "or name a queue ARN (MinIO: --queue-arn), and add it to the bucket's "
               "notification configuration, keeping the others");
  su->add_option("BUCKET", s->location, "REMOTE:BUCKET")->required();
  su->add_option("--endpoint", s->endpoint,
                 "ferry serve's .../events: where the topic pushes, or (--sns-topic) what it "
                 "subscribes (with --queue-arn: only shown in the command that creates MinIO's "
                 "webhook target)");
  su->add_option("--token-env", s->token_env,
                 "the environment variable holding ferry serve's token, set as the topic's "
                 "opaqueData");
  su->add_option("--token-file", s->token_file, "a file holding that token (one line)");
  // The token itself on the command line is refused with one line naming the forms above
  // (any local user reads a process's argv): declared, and hidden, so that the refusal is
  // ferry's and not the parser's, which would quote the unexpected value.
  su->add_option("--token", s->token)->group("");
  su->add_option("--topic", s->topic, "topic name (default ferry-BUCKET)");
  su->add_option("--events", s->events,
                 "created,removed,delete-marker or s3:... names (default created,removed)");
  su->add_option("--prefix", s->prefix, "only keys under this prefix");
  su->add_flag("--no-persistent", s->no_persistent,
               "push during the write request instead of from the store's queue "
               "(faster; an event is lost when the endpoint is down)");
  su->add_option("--sqs-queue", s->sqs_queue,
                 "AWS: the SQS queue (a name, created if missing, or a queue URL) the bucket "
                 "notifies and ferry serve polls ([[serve.sqs]]); its Policy lets S3 send");
  su->add_option("--sqs-endpoint", s->sqs_endpoint,
                 "where SQS calls go (default: the queue URL's host, else the remote's "
                 "endpoint, else https://sqs.REGION.amazonaws.com)");
  su->add_option("--source-account", s->source_account,
                 "the bucket owner's account id: an aws:SourceAccount condition in the queue's or "
                 "topic's Policy");
  su->add_option("--queue-arn", s->queue_arn,
                 "a queue ARN the store knows (MinIO: arn:minio:sqs::ID:webhook, a target made "
                 "with mc admin config set): only the bucket's configuration is set");
  su->add_option("--sns-topic", s->sns_topic,
                 "AWS: the SNS topic (a name, created if missing, or an ARN) the bucket notifies, "
                 "with an HTTPS subscription of --endpoint; its Policy lets S3 publish");
  su->add_option("--sns-endpoint", s->sns_endpoint,
                 "where SNS calls go (default: the remote's endpoint, else "
                 "https://sns.REGION.amazonaws.com)");
  su->callback([s, &ctx] { ctx.exit_code = events_cmd::RunSetup(*s, ctx); });

  auto sh = std::make_shared<events_cmd::ShowArgs>();
  CLI::App* show = cmd->add_subcommand(
      "show", "list the bucket's notification configurations, their topics (tokens masked) "
              "and queues");
  show->add_option("BUCKET", sh->location, "REMOTE:BUCKET")->required();
  show->add_option("--sqs-endpoint", sh->sqs_endpoint,
                   "where the queues are asked about (default: the remote's endpoint, else "
                   "AWS's)");
  show->add_option("--sns-endpoint", sh->sns_endpoint,
                   "where AWS SNS topics are asked about (default: the remote's endpoint, else "
                   "AWS's)");
  show->callback([sh, &ctx] { ctx.exit_code = events_cmd::RunShow(*sh, ctx); });

  auto rm = std::make_shared<events_cmd::RemoveArgs>();
  CLI::App* remove =
      cmd->add_subcommand("remove", "take ferry's configuration out of the bucket's");
  remove->add_option("BUCKET", rm->location, "REMOTE:BUCKET")->required();
  remove->add_option("--topic", rm->topic, "topic name given to setup (default ferry-BUCKET)");
  remove->add_flag("--delete-topic", rm->delete_topic, "also delete the topic");
  remove->add_option("--sqs-queue", rm->sqs_queue,
                     "the queue given to setup: its configuration, and ferry's statement in its "
                     "Policy, are taken out");
  remove->add_option("--sqs-endpoint", rm->sqs_endpoint, "where SQS calls go (as for setup)");
  remove->add_flag("--delete-queue", rm->delete_queue, "also delete the queue (--sqs-queue)");
  remove->add_option("--queue-arn", rm->queue_arn, "the queue ARN given to setup");
  remove->add_option("--sns-topic", rm->sns_topic,
                     "the SNS topic given to setup: its configuration, and ferry's statement in "
                     "its Policy, are taken out (--delete-topic: the topic deleted)");
  remove->add_option("--sns-endpoint", rm->sns_endpoint, "where SNS calls go (as for setup)");
  remove->add_option("--endpoint", rm->endpoint,
                     "with --sns-topic: also unsubscribe this URL from the topic");
  remove->callback([rm, &ctx] { ctx.exit_code = events_cmd::RunRemove(*rm, ctx); });
}

}  // namespace ferry::cli
