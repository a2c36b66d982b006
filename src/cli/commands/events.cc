// ferry events setup|show|remove REMOTE:BUCKET: the store's topic and the bucket's notification
// configuration that make a bucket's changes reach `ferry serve`'s POST /events (RGW), or the
// SQS queue `ferry serve` polls ([[serve.sqs]]; AWS), or a queue ARN the store knows (MinIO's
// webhook targets). events/setup/setup.h and queue.h do the requests; this file reads the
// options, refuses the ones that do not go together, and prints.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "app/sqs.h"
#include "app/wiring.h"
#include "base/clock.h"
#include "cli/commands.h"
#include "events/setup/setup.h"
#include "sqs/client.h"
#include "sqs/protocol.h"

namespace ferry::cli {
namespace {

namespace setup = ferry::events::setup;

struct SetupArgs {
  std::string location;
  std::string endpoint;
  std::string token;
  std::string token_env;
  std::string topic;
  std::string events;
  std::string prefix;
  bool no_persistent = false;
  std::string sqs_queue;     // AWS: the queue ferry serve polls
  std::string sqs_endpoint;  // where its SQS calls go
  std::string source_account;
  std::string queue_arn;  // MinIO: a target the server has
};

struct ShowArgs {
  std::string location;
  std::string sqs_endpoint;
};

struct RemoveArgs {
  std::string location;
  std::string topic;
  bool delete_topic = false;
  std::string sqs_queue;
  std::string sqs_endpoint;
  std::string queue_arn;
  bool delete_queue = false;
};

// The S3 client and bucket of REMOTE:BUCKET (a bucket alone: events are set per bucket).
struct Target {
  std::unique_ptr<app::Wiring> wiring;
  s3::S3Client* client = nullptr;
  std::string bucket;
  std::string remote;  // the location's remote ("" for s3://)
};

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

// The SQS client of the target's remote: its credentials and region; the endpoint --sqs-endpoint,
// else the queue URL's, else the remote's own endpoint (moto), else AWS's (app/sqs.h).
Result<std::unique_ptr<sqs::SqsClient>> SqsFor(Target& t, const std::string& queue,
                                              const std::string& endpoint) {
  const app::Config& config = t.wiring->config();
  const app::RemoteConfig* remote = nullptr;
  if (auto it = config.remotes.find(t.remote); it != config.remotes.end()) remote = &it->second;
  const bool is_url = queue.starts_with("http://") || queue.starts_with("https://");
  if (!endpoint.empty()) {
    if (Status s = setup::ValidateEndpointUrl(endpoint); !s.ok()) {
      return Status::InvalidArgument("--sqs-endpoint: '" + setup::MaskUrl(endpoint) +
                                     "' is not an http:// or https:// URL with a host");
    }
  }
  FERRY_ASSIGN_OR_RETURN(
      sqs::SqsEndpoint ep,
      app::ResolveSqsEndpoint(
          {.remote = remote, .queue_url = is_url ? queue : "", .endpoint = endpoint, .region = ""},
          t.wiring->transport()));
  return std::make_unique<sqs::SqsClient>(std::move(ep), t.wiring->transport(),
                                          SystemClock::Default());
}

// One line when two options do not go together (exit 2).
Status Refuse(bool given, std::string_view option, std::string_view why) {
  if (!given) return Status::Ok();
  return Status::InvalidArgument(std::string(option) + " " + std::string(why));
}

// The options that do not go with the way setup was asked for (a topic, --sqs-queue,
// --queue-arn).
Status CheckSetupMode(const SetupArgs& a) {
  if (!a.sqs_queue.empty() && !a.queue_arn.empty()) {
    return Status::InvalidArgument("give --sqs-queue or --queue-arn, not both");
  }
  if (!a.sqs_queue.empty()) {
    constexpr std::string_view kWhy =
        "goes with a topic (RGW) or --queue-arn: with --sqs-queue ferry serve polls the queue "
        "([[serve.sqs]])";
    FERRY_RETURN_IF_ERROR(Refuse(!a.endpoint.empty(), "--endpoint", kWhy));
    FERRY_RETURN_IF_ERROR(Refuse(!a.token.empty(), "--token", kWhy));
    FERRY_RETURN_IF_ERROR(Refuse(!a.token_env.empty(), "--token-env", kWhy));
    FERRY_RETURN_IF_ERROR(Refuse(!a.topic.empty(), "--topic", kWhy));
    return Refuse(a.no_persistent, "--no-persistent", kWhy);
  }
  constexpr std::string_view kSqsOnly = "goes with --sqs-queue";
  FERRY_RETURN_IF_ERROR(Refuse(!a.sqs_endpoint.empty(), "--sqs-endpoint", kSqsOnly));
  FERRY_RETURN_IF_ERROR(Refuse(!a.source_account.empty(), "--source-account", kSqsOnly));
  if (!a.queue_arn.empty()) {
    constexpr std::string_view kTopicOnly = "goes with a topic (RGW), not --queue-arn";
    FERRY_RETURN_IF_ERROR(Refuse(!a.topic.empty(), "--topic", kTopicOnly));
    return Refuse(a.no_persistent, "--no-persistent", kTopicOnly);
  }
  if (a.endpoint.empty()) {
    return Status::InvalidArgument(
        "--endpoint URL is needed (ferry serve's .../events, where the topic pushes), or "
        "--sqs-queue NAME (AWS: a queue ferry serve polls), or --queue-arn ARN (MinIO: a "
        "webhook target of the server)");
  }
  return Status::Ok();
}

Result<std::string> Token(const SetupArgs& a) {
  if (!a.token.empty() && !a.token_env.empty()) {
    return Status::InvalidArgument("give --token or --token-env, not both");
  }
  if (!a.token_env.empty()) {
    const char* v = std::getenv(a.token_env.c_str());
    if (v == nullptr || *v == '\0') {
      return Status::InvalidArgument("--token-env: " + a.token_env + " is not set");
    }
    return std::string(v);
  }
  if (a.token.empty()) {
    return Status::InvalidArgument(
        "a token is needed: --token-env VAR (the variable of ferry serve's [serve] token_env) "
        "or --token T");
  }
  return a.token;
}

// --queue-arn: the token is only shown (masked) in the command that creates MinIO's target.
Result<std::string> OptionalToken(const SetupArgs& a) {
  if (a.token.empty() && a.token_env.empty()) return std::string();
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

int RunSetupQueue(const SetupArgs& a, const std::vector<std::string>& events, Context& ctx) {
  if (!a.source_account.empty()) {
    if (Status s = setup::ValidateAccountId(a.source_account); !s.ok()) return ReportError(s);
  }
  if (Result<std::string> name = setup::QueueNameOf(a.sqs_queue); !name.ok()) {
    return ReportError(name.status());
  }
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  Result<std::unique_ptr<sqs::SqsClient>> sqs = SqsFor(*t, a.sqs_queue, a.sqs_endpoint);
  if (!sqs.ok()) return ReportError(sqs.status());
  setup::QueueSetupRequest req{.bucket = t->bucket,
                               .queue = a.sqs_queue,
                               .source_account = a.source_account,
                               .events = events,
                               .prefix = a.prefix};
  Result<setup::QueueSetupResult> r = setup::SetUpBucketQueue(*t->client, **sqs, req, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  std::printf("queue %s (%s) %s; its Policy lets S3 send messages from bucket %s only%s (%s)\n",
              r->queue_url.c_str(), r->queue_arn.c_str(),
              r->queue_created ? "created" : "found", req.bucket.c_str(),
              a.source_account.empty() ? "" : (" of account " + a.source_account).c_str(),
              r->policy_changed ? "set" : "unchanged");
  PrintBucketLine(req.bucket, "it", r->events, req.prefix, r->configuration_id, r->replaced,
                  r->configurations);
  std::printf("for ferry serve's config:\n[[serve.sqs]]\nqueue_url = \"%s\"\n",
              r->queue_url.c_str());
  if (!t->remote.empty()) std::printf("remote = \"%s\"\n", t->remote.c_str());
  if (r->redrive_policy.empty()) {
    std::printf("# the queue has no RedrivePolicy: name a dead-letter queue for the messages "
                "ferry serve refuses\n# dead_letter_queue_url = \"...\"\n");
  }
  NoteAlsoNotifying(r->also_notifying, req.bucket, "queue");
  return 0;
}

int RunSetupQueueArn(const SetupArgs& a, const std::vector<std::string>& events, Context& ctx) {
  if (Result<sqs::QueueArn> arn = sqs::ParseQueueArn(a.queue_arn); !arn.ok()) {
    return ReportError(arn.status().WithContext("--queue-arn"));
  }
  Result<std::string> token = OptionalToken(a);
  if (!token.ok()) return ReportError(token.status());
  if (!a.endpoint.empty()) {
    if (Status s = setup::ValidateEndpointUrl(a.endpoint); !s.ok()) return ReportError(s);
  }
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  setup::QueueArnSetupRequest req{.bucket = t->bucket,
                                  .queue_arn = a.queue_arn,
                                  .events = events,
                                  .prefix = a.prefix,
                                  .endpoint_url = a.endpoint,
                                  .token = *token};
  Result<setup::QueueSetupResult> r = setup::SetUpBucketQueueArn(*t->client, req, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  PrintBucketLine(req.bucket, a.queue_arn, r->events, req.prefix, r->configuration_id,
                  r->replaced, r->configurations);
  NoteAlsoNotifying(r->also_notifying, req.bucket, "queue");
  return 0;
}

int RunSetup(const SetupArgs& a, Context& ctx) {
  if (Status s = CheckSetupMode(a); !s.ok()) return ReportError(s);
  std::vector<std::string> events;
  if (!a.events.empty()) {
    Result<std::vector<std::string>> parsed = setup::ParseEvents(a.events);
    if (!parsed.ok()) return ReportError(parsed.status());
    events = std::move(parsed).value();
  }
  if (!a.sqs_queue.empty()) return RunSetupQueue(a, events, ctx);
  if (!a.queue_arn.empty()) return RunSetupQueueArn(a, events, ctx);
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

std::string AttributeOf(const std::vector<std::pair<std::string, std::string>>& attrs,
                        std::string_view name) {
  for (const auto& [k, v] : attrs) {
    if (k == name) return v;
  }
  return {};
}

void PrintQueue(const setup::QueueView& queue, const std::string& bucket,
                const std::string& sqs_endpoint) {
  if (!queue.attributes.ok()) {
    const Status& s = queue.attributes.status();
    if (s.code() == ErrorCode::kNotSupported) {
      const bool minio = queue.arn.starts_with("arn:minio:");
      std::printf("  queue: %s\n",
                  minio ? "a MinIO target, server configuration (mc admin config get ALIAS "
                          "notify_webhook)"
                        : "not an AWS SQS queue: not asked");
    } else if (s.code() == ErrorCode::kNotFound) {
      std::printf("  queue: not found at %s\n", sqs_endpoint.c_str());
    } else {
      std::printf("  queue: cannot be read: %s\n", s.message().c_str());
    }
    return;
  }
  const auto& attrs = *queue.attributes;
  std::printf("  queue_url: %s\n", queue.url.c_str());
  std::printf("  messages: %s visible, %s in flight\n",
              AttributeOf(attrs, "ApproximateNumberOfMessages").c_str(),
              AttributeOf(attrs, "ApproximateNumberOfMessagesNotVisible").c_str());
  const std::string redrive = AttributeOf(attrs, "RedrivePolicy");
  if (Result<sqs::RedrivePolicy> p = sqs::ParseRedrivePolicy(redrive); p.ok()) {
    std::printf("  dead-letter queue: %s after %d receives\n", p->dead_letter_target_arn.c_str(),
                p->max_receive_count);
  } else {
    std::printf("  dead-letter queue: none (give [[serve.sqs]] dead_letter_queue_url)\n");
  }
  std::printf("  policy: %s\n", setup::PolicyAllowsBucket(AttributeOf(attrs, "Policy"), bucket)
                                    ? ("lets S3 send messages from bucket " + bucket).c_str()
                                    : ("does not let S3 send messages from bucket " + bucket +
                                       ": its events are not delivered")
                                          .c_str());
}

int RunShow(const ShowArgs& a, Context& ctx) {
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  // The queues are asked about at the SQS endpoint of the remote (or --sqs-endpoint); without
  // one (credentials missing) the bucket's configurations are still shown.
  Result<std::unique_ptr<sqs::SqsClient>> sqs = SqsFor(*t, "", a.sqs_endpoint);
  if (!sqs.ok() && sqs.status().code() == ErrorCode::kInvalidArgument && !a.sqs_endpoint.empty()) {
    return ReportError(sqs.status());
  }
  const std::string sqs_endpoint = sqs.ok() ? (*sqs)->endpoint().url : "";
  Result<setup::BucketEvents> ev = setup::DescribeBucketEvents(
      *t->client, t->bucket, sqs.ok() ? sqs->get() : nullptr, ctx.stop);
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
    for (const setup::QueueView& queue : ev->queues) {
      if (c.kind == "queue" && queue.arn == c.target) PrintQueue(queue, t->bucket, sqs_endpoint);
    }
  }
  return 0;
}

int RunRemoveQueue(const RemoveArgs& a, Context& ctx) {
  if (!a.sqs_queue.empty()) {
    if (Result<std::string> name = setup::QueueNameOf(a.sqs_queue); !name.ok()) {
      return ReportError(name.status());
    }
  } else if (Result<sqs::QueueArn> arn = sqs::ParseQueueArn(a.queue_arn); !arn.ok()) {
    return ReportError(arn.status().WithContext("--queue-arn"));
  }
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  std::unique_ptr<sqs::SqsClient> sqs;
  if (!a.sqs_queue.empty()) {
    Result<std::unique_ptr<sqs::SqsClient>> made = SqsFor(*t, a.sqs_queue, a.sqs_endpoint);
    if (!made.ok()) return ReportError(made.status());
    sqs = std::move(made).value();
  }
  setup::QueueRemoveRequest req{.bucket = t->bucket,
                                .queue = a.sqs_queue,
                                .queue_arn = a.queue_arn,
                                .delete_queue = a.delete_queue};
  Result<setup::QueueRemoveResult> r =
      setup::RemoveBucketQueue(*t->client, sqs.get(), req, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  std::string done;
  if (r->queue_deleted) done = "; queue " + a.sqs_queue + " deleted";
  if (r->policy_changed) done = "; ferry's statement taken out of the queue's Policy";
  if (!r->removed) {
    std::printf("bucket %s has no configuration %s: nothing removed%s\n", req.bucket.c_str(),
                r->configuration_id.c_str(), done.c_str());
    return 0;
  }
  std::printf("bucket %s: configuration %s removed (%zu left)%s\n", req.bucket.c_str(),
              r->configuration_id.c_str(), r->configurations, done.c_str());
  return 0;
}

int RunRemove(const RemoveArgs& a, Context& ctx) {
  const bool queue = !a.sqs_queue.empty() || !a.queue_arn.empty();
  Status usage = Status::Ok();
  if (!a.sqs_queue.empty() && !a.queue_arn.empty()) {
    usage = Status::InvalidArgument("give --sqs-queue or --queue-arn, not both");
  } else if (queue && (!a.topic.empty() || a.delete_topic)) {
    usage = Status::InvalidArgument(std::string(a.topic.empty() ? "--delete-topic" : "--topic") +
                                    " goes with a topic, not --sqs-queue or --queue-arn");
  } else if (a.delete_queue && a.sqs_queue.empty()) {
    usage = Status::InvalidArgument("--delete-queue goes with --sqs-queue");
  } else if (!a.sqs_endpoint.empty() && a.sqs_queue.empty()) {
    usage = Status::InvalidArgument("--sqs-endpoint goes with --sqs-queue");
  }
  if (!usage.ok()) return ReportError(usage);
  if (queue) return RunRemoveQueue(a, ctx);
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

void RegisterEvents(CLI::App& app, Context& ctx) {
  CLI::App* cmd = app.add_subcommand(
      "events", "the bucket notifications that feed ferry serve (its POST /events, its SQS queues)");
  cmd->require_subcommand(1);

  auto s = std::make_shared<SetupArgs>();
  CLI::App* su = cmd->add_subcommand(
      "setup", "create (or update) the topic pushing to URL (RGW), or the SQS queue ferry serve "
               "polls (AWS: --sqs-queue), or name a queue ARN (MinIO: --queue-arn), and add it "
               "to the bucket's notification configuration, keeping the others");
  su->add_option("BUCKET", s->location, "REMOTE:BUCKET")->required();
  su->add_option("--endpoint", s->endpoint,
                 "URL the topic pushes to: ferry serve's .../events (with --queue-arn: only "
                 "shown in the command that creates MinIO's webhook target)");
  su->add_option("--token", s->token, "ferry serve's token, set as the topic's opaqueData");
  su->add_option("--token-env", s->token_env, "the environment variable holding the token");
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
                 "the bucket owner's account id: an aws:SourceAccount condition in the Policy");
  su->add_option("--queue-arn", s->queue_arn,
                 "a queue ARN the store knows (MinIO: arn:minio:sqs::ID:webhook, a target made "
                 "with mc admin config set): only the bucket's configuration is set");
  su->callback([s, &ctx] { ctx.exit_code = RunSetup(*s, ctx); });

  auto sh = std::make_shared<ShowArgs>();
  CLI::App* show = cmd->add_subcommand(
      "show", "list the bucket's notification configurations, their topics (tokens masked) "
              "and queues");
  show->add_option("BUCKET", sh->location, "REMOTE:BUCKET")->required();
  show->add_option("--sqs-endpoint", sh->sqs_endpoint,
                   "where the queues are asked about (default: the remote's endpoint, else "
                   "AWS's)");
  show->callback([sh, &ctx] { ctx.exit_code = RunShow(*sh, ctx); });

  auto rm = std::make_shared<RemoveArgs>();
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
  remove->callback([rm, &ctx] { ctx.exit_code = RunRemove(*rm, ctx); });
}

}  // namespace ferry::cli
