// ferry events setup|show|remove REMOTE:BUCKET: the store's topic and the bucket's notification
// configuration that make a bucket's changes reach `ferry serve`'s POST /events
// (events/setup/setup.h does the requests; this file reads the options and prints).
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "app/wiring.h"
#include "cli/commands.h"
#include "events/setup/setup.h"

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
};

struct ShowArgs {
  std::string location;
};

struct RemoveArgs {
  std::string location;
  std::string topic;
  bool delete_topic = false;
};

// The S3 client and bucket of REMOTE:BUCKET (a bucket alone: events are set per bucket).
struct Target {
  std::unique_ptr<app::Wiring> wiring;
  s3::S3Client* client = nullptr;
  std::string bucket;
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
  return t;
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

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out.append(out.empty() ? "" : ", ").append(s);
  return out;
}

int RunSetup(const SetupArgs& a, Context& ctx) {
  setup::SetupRequest req;
  Result<std::string> token = Token(a);
  if (!token.ok()) return ReportError(token.status());
  req.token = std::move(token).value();
  if (Status s = setup::ValidateEndpointUrl(a.endpoint); !s.ok()) return ReportError(s);
  req.endpoint_url = a.endpoint;
  if (!a.events.empty()) {
    Result<std::vector<std::string>> events = setup::ParseEvents(a.events);
    if (!events.ok()) return ReportError(events.status());
    req.events = std::move(events).value();
  }
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
  std::printf("bucket %s notifies it of %s%s as configuration %s (%s; %zu configuration%s in "
              "all)\n",
              req.bucket.c_str(), Join(r->events).c_str(),
              req.prefix.empty() ? "" : (" under " + req.prefix).c_str(),
              r->configuration_id.c_str(), r->replaced ? "replaced" : "added", r->configurations,
              r->configurations == 1 ? "" : "s");
  const std::string path = req.endpoint_url.substr(0, req.endpoint_url.find('?'));
  if (!path.ends_with("/events")) {
    std::fprintf(stderr,
                 "ferry: note: ferry serve takes notifications at .../events; the topic pushes "
                 "to another path\n");
  }
  if (!r->also_notifying.empty()) {
    std::fprintf(stderr,
                 "ferry: note: configuration %s of bucket %s notifies the same topic: events "
                 "are sent twice\n",
                 Join(r->also_notifying).c_str(), req.bucket.c_str());
  }
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
  Result<setup::BucketEvents> ev = setup::DescribeBucketEvents(*t->client, t->bucket, ctx.stop);
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
  }
  return 0;
}

int RunRemove(const RemoveArgs& a, Context& ctx) {
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
      "events", "the bucket notifications that feed ferry serve's POST /events");
  cmd->require_subcommand(1);

  auto s = std::make_shared<SetupArgs>();
  CLI::App* su = cmd->add_subcommand(
      "setup", "create (or update) the topic pushing to URL and add it to the bucket's "
               "notification configuration, keeping the others");
  su->add_option("BUCKET", s->location, "REMOTE:BUCKET")->required();
  su->add_option("--endpoint", s->endpoint, "URL the topic pushes to: ferry serve's .../events")
      ->required();
  su->add_option("--token", s->token, "ferry serve's token, set as the topic's opaqueData");
  su->add_option("--token-env", s->token_env, "the environment variable holding the token");
  su->add_option("--topic", s->topic, "topic name (default ferry-BUCKET)");
  su->add_option("--events", s->events,
                 "created,removed,delete-marker or s3:... names (default created,removed)");
  su->add_option("--prefix", s->prefix, "only keys under this prefix");
  su->add_flag("--no-persistent", s->no_persistent,
               "push during the write request instead of from the store's queue "
               "(faster; an event is lost when the endpoint is down)");
  su->callback([s, &ctx] { ctx.exit_code = RunSetup(*s, ctx); });

  auto sh = std::make_shared<ShowArgs>();
  CLI::App* show = cmd->add_subcommand(
      "show", "list the bucket's notification configurations and their topics (tokens masked)");
  show->add_option("BUCKET", sh->location, "REMOTE:BUCKET")->required();
  show->callback([sh, &ctx] { ctx.exit_code = RunShow(*sh, ctx); });

  auto rm = std::make_shared<RemoveArgs>();
  CLI::App* remove =
      cmd->add_subcommand("remove", "take ferry's configuration out of the bucket's");
  remove->add_option("BUCKET", rm->location, "REMOTE:BUCKET")->required();
  remove->add_option("--topic", rm->topic, "topic name given to setup (default ferry-BUCKET)");
  remove->add_flag("--delete-topic", rm->delete_topic, "also delete the topic");
  remove->callback([rm, &ctx] { ctx.exit_code = RunRemove(*rm, ctx); });
}

}  // namespace ferry::cli
