// `ferry events setup|show|remove` for AWS (--sqs-queue: the SQS queue ferry serve polls;
// --sns-topic: an SNS topic with an HTTPS subscription to ferry serve) and MinIO (--queue-arn):
// the clients made, the library called (events/setup/queue.h, sns.h), what it did printed.
#include <cstdio>
#include <string>

#include "app/sqs.h"
#include "base/clock.h"
#include "cli/commands/events_internal.h"
#include "sqs/protocol.h"

namespace ferry::cli::events_cmd {
namespace {

Result<s3::ServiceEndpoint> EndpointFor(Target& t, std::string_view service,
                                        const std::string& queue_url,
                                        const std::string& endpoint) {
  const app::Config& config = t.wiring->config();
  const app::RemoteConfig* remote = nullptr;
  if (auto it = config.remotes.find(t.remote); it != config.remotes.end()) remote = &it->second;
  if (!endpoint.empty() && !setup::ValidateEndpointUrl(endpoint).ok()) {
    return Status::InvalidArgument("--" + std::string(service) + "-endpoint: '" +
                                   setup::MaskUrl(endpoint) +
                                   "' is not an http:// or https:// URL with a host");
  }
  return app::ResolveServiceEndpoint({.service = std::string(service),
                                      .remote = remote,
                                      .queue_url = queue_url,
                                      .endpoint = endpoint,
                                      .region = "",
                                      .tls = std::nullopt},
                                     t.wiring->transport());
}

std::string AttributeOf(const std::vector<std::pair<std::string, std::string>>& attrs,
                        std::string_view name) {
  for (const auto& [k, v] : attrs) {
    if (k == name) return v;
  }
  return {};
}

std::string OfAccount(const std::string& account) {
  return account.empty() ? "" : " of account " + account;
}

}  // namespace

Result<std::unique_ptr<sqs::SqsClient>> SqsFor(Target& t, const std::string& queue,
                                              const std::string& endpoint) {
  const bool is_url = queue.starts_with("http://") || queue.starts_with("https://");
  FERRY_ASSIGN_OR_RETURN(s3::ServiceEndpoint ep,
                         EndpointFor(t, "sqs", is_url ? queue : "", endpoint));
  return std::make_unique<sqs::SqsClient>(std::move(ep), t.wiring->transport(),
                                          SystemClock::Default());
}

Result<std::unique_ptr<sns::SnsClient>> SnsFor(Target& t, const std::string& endpoint) {
  FERRY_ASSIGN_OR_RETURN(s3::ServiceEndpoint ep, EndpointFor(t, "sns", "", endpoint));
  return std::make_unique<sns::SnsClient>(std::move(ep), t.wiring->transport(),
                                          SystemClock::Default());
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
              OfAccount(a.source_account).c_str(), r->policy_changed ? "set" : "unchanged");
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

int RunSetupSns(const SetupArgs& a, const std::vector<std::string>& events, Context& ctx) {
  if (Result<std::string> name = setup::SnsTopicNameOf(a.sns_topic); !name.ok()) {
    return ReportError(name.status());
  }
  if (Status s = setup::ValidateEndpointUrl(a.endpoint); !s.ok()) return ReportError(s);
  if (!a.source_account.empty()) {
    if (Status s = setup::ValidateAccountId(a.source_account); !s.ok()) return ReportError(s);
  }
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  Result<std::unique_ptr<sns::SnsClient>> sns = SnsFor(*t, a.sns_endpoint);
  if (!sns.ok()) return ReportError(sns.status());
  setup::SnsSetupRequest req{.bucket = t->bucket,
                             .topic = a.sns_topic,
                             .endpoint_url = a.endpoint,
                             .source_account = a.source_account,
                             .events = events,
                             .prefix = a.prefix};
  Result<setup::SnsSetupResult> r = setup::SetUpBucketSns(*t->client, **sns, req, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  std::printf("topic %s; its Policy lets S3 publish from bucket %s only%s (%s)\n",
              r->topic_arn.c_str(), req.bucket.c_str(), OfAccount(a.source_account).c_str(),
              r->policy_changed ? "set" : "unchanged");
  const std::string url = setup::MaskUrl(req.endpoint_url);
  if (r->confirmed) {
    std::printf("subscription of %s: confirmed (%s)\n", url.c_str(),
                r->subscription_arn.c_str());
  } else {
    std::printf("subscription of %s: pending until ferry serve confirms it, which it does once "
                "its [serve] sns_topics lists %s (%s)\n",
                url.c_str(), r->topic_arn.c_str(),
                r->subscribed ? "SNS sends the confirmation now" : "not sent");
  }
  PrintBucketLine(req.bucket, "it", r->events, req.prefix, r->configuration_id, r->replaced,
                  r->configurations);
  std::printf("for ferry serve's config, under [serve]:\nsns_topics = [\"%s\"]\n",
              r->topic_arn.c_str());
  NoteAlsoNotifying(r->also_notifying, req.bucket, "topic");
  return 0;
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
  const bool allows = setup::PolicyAllowsBucket(AttributeOf(attrs, "Policy"), bucket);
  std::printf("  policy: %s S3 send messages from bucket %s%s\n",
              allows ? "lets" : "does not let", bucket.c_str(),
              allows ? "" : ": its events are not delivered");
}

void PrintSnsTopic(const setup::SnsTopicView& topic, const std::string& bucket) {
  if (!topic.subscriptions.ok()) {
    const Status& s = topic.subscriptions.status();
    std::printf("  topic: %s\n", s.code() == ErrorCode::kNotFound
                                     ? "not found at this SNS endpoint"
                                     : ("cannot be read: " + s.message()).c_str());
    return;
  }
  std::printf("  policy: %s S3 publish from bucket %s%s\n",
              topic.allows_bucket ? "lets" : "does not let", bucket.c_str(),
              topic.allows_bucket ? "" : ": its events are not delivered");
  if (topic.subscriptions->empty()) std::printf("  subscriptions: none\n");
  for (const sns::Subscription& s : *topic.subscriptions) {
    std::printf("  subscription: %s %s (%s)\n", s.protocol.c_str(),
                setup::MaskUrl(s.endpoint).c_str(),
                s.arn == "PendingConfirmation" ? "pending confirmation" : "confirmed");
  }
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

int RunRemoveSns(const RemoveArgs& a, Context& ctx) {
  if (Result<std::string> name = setup::SnsTopicNameOf(a.sns_topic); !name.ok()) {
    return ReportError(name.status());
  }
  if (!a.endpoint.empty()) {
    if (Status s = setup::ValidateEndpointUrl(a.endpoint); !s.ok()) return ReportError(s);
  }
  Result<Target> t = Resolve(a.location, ctx);
  if (!t.ok()) return ReportError(t.status());
  Result<std::unique_ptr<sns::SnsClient>> sns = SnsFor(*t, a.sns_endpoint);
  if (!sns.ok()) return ReportError(sns.status());
  setup::SnsRemoveRequest req{.bucket = t->bucket,
                              .topic = a.sns_topic,
                              .endpoint_url = a.endpoint,
                              .delete_topic = a.delete_topic};
  Result<setup::SnsRemoveResult> r = setup::RemoveBucketSns(*t->client, **sns, req, ctx.stop);
  if (!r.ok()) return ReportError(r.status());
  std::string done;
  if (r->topic_deleted) done = "; topic " + a.sns_topic + " deleted";
  if (r->policy_changed) done = "; ferry's statement taken out of the topic's Policy";
  if (r->unsubscribed > 0) {
    done += "; " + std::to_string(r->unsubscribed) + " subscription" +
            (r->unsubscribed == 1 ? "" : "s") + " of " + setup::MaskUrl(a.endpoint) +
            " removed";
  }
  if (!r->removed) {
    std::printf("bucket %s has no configuration %s: nothing removed%s\n", req.bucket.c_str(),
                r->configuration_id.c_str(), done.c_str());
    return 0;
  }
  std::printf("bucket %s: configuration %s removed (%zu left)%s\n", req.bucket.c_str(),
              r->configuration_id.c_str(), r->configurations, done.c_str());
  return 0;
}

}  // namespace ferry::cli::events_cmd
