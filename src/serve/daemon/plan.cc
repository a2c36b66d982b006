// PlanServe (plan.h): what `ferry serve` reads from its config, checked.
#include "serve/daemon/plan.h"

#include <unistd.h>

#include <cstdlib>

#include "app/config_replication_events.h"
#include "http/listen_address.h"
#include "plan/filter.h"

namespace ferry::serve::daemon {
namespace {

// The value of the environment variable `name` that `key` names; kInvalidArgument when unset.
Result<std::string> PlanEnvToken(const std::string& name, const std::string& key) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr || *value == '\0') {
    return Status::InvalidArgument(key + ": the environment variable " + name + " is not set");
  }
  return std::string(value);
}

// The tokens of the intake, the admin paths and the webhook, read from the environment, and
// whether the intake goes without a token.
Status PlanTokens(const ServeSettings& a, ServePlan& plan) {
  if (!plan.serve.token_env.empty()) {
    FERRY_ASSIGN_OR_RETURN(plan.token, PlanEnvToken(plan.serve.token_env, "[serve] token_env"));
  }
  if (!plan.serve.admin_token_env.empty()) {
    FERRY_ASSIGN_OR_RETURN(plan.admin_token, PlanEnvToken(plan.serve.admin_token_env,
                                                          "[serve] admin_token_env"));
  }
  if (const app::ReplicationEventsConfig& ev = plan.serve.replication_events; ev.present) {
    if (!ev.token_env.empty()) {
      FERRY_ASSIGN_OR_RETURN(plan.events_token,
                             PlanEnvToken(ev.token_env, "[serve.replication_events] token_env"));
    }
    if (!ev.ca_bundle.empty() && ::access(ev.ca_bundle.c_str(), R_OK) != 0) {
      return Status::InvalidArgument("[serve.replication_events] ca_bundle: cannot read " +
                                     ev.ca_bundle);
    }
  }
  plan.no_auth = a.insecure_no_auth || plan.serve.insecure_no_auth;
  if (plan.no_auth && !plan.token.empty()) {
    return Status::InvalidArgument("--insecure-no-auth: [serve] token_env is set: an intake "
                                   "with a token is not insecure; keep one");
  }
  return Status::Ok();
}

// The listeners' settings checked now (one line naming the option or key), before anything
// runs: the TLS files (the command line's pair, else the config's) and the admin address.
Status PlanListeners(const ServeSettings& a, ServePlan& plan) {
  if (!a.tls_cert.empty() || !a.tls_key.empty()) {
    plan.tls = {.cert_file = a.tls_cert, .key_file = a.tls_key};
  } else {
    plan.tls = {.cert_file = plan.serve.tls_cert,
                .key_file = plan.serve.tls_key,
                .cert_option = "[serve] tls_cert",
                .key_option = "[serve] tls_key"};
  }
  FERRY_RETURN_IF_ERROR(http::ReadServerTls(plan.tls).status());
  if (const std::string& admin = a.admin_listen.empty() ? plan.serve.admin_listen : a.admin_listen;
      !admin.empty()) {
    FERRY_RETURN_IF_ERROR(
        http::ParseListen(admin, a.admin_listen.empty() ? "[serve] admin_listen" : "--admin-listen")
            .status());
  }
  return Status::Ok();
}

// --lease-ttl checked, and the engine's settings (--concurrency, --memory, [transfer]) resolved
// as app::Engine::Open will (its errors now, before anything runs). Returns the keys per run.
Result<int> PlanBudgets(const ServeSettings& a, const app::Config& config, ServePlan& plan) {
  if (a.lease_ttl < 2 || a.lease_ttl > 3600) {
    return Status::InvalidArgument("--lease-ttl: must be between 2 and 3600 seconds");
  }
  plan.lease_ttl = std::chrono::seconds(a.lease_ttl);
  plan.engine = ServeEngineSettings();
  plan.engine.concurrency = a.concurrency;
  plan.engine.memory = a.memory;
  FERRY_ASSIGN_OR_RETURN(app::EngineShape shape, app::ResolveEngine(plan.engine, config.transfer));
  return shape.keys;
}

// The pass every source starts from: `keys` at once, the config's part sizes and server-side
// copy limit.
replicate::DurablePass PlanBasePass(int keys, const app::Config& config) {
  replicate::DurablePass base;
  base.concurrency = keys;
  if (config.transfer.multipart_threshold) {
    base.multipart_threshold = *plan::ParseSize(*config.transfer.multipart_threshold);
  }
  if (config.transfer.part_size) base.part_size = *plan::ParseSize(*config.transfer.part_size);
  if (config.replication.server_side_copy_limit) {
    base.server_side_copy_limit = *config.replication.server_side_copy_limit;
  }
  return base;
}

// ServePlan::unpack_regions: per source, the regions its rules' transported destinations name,
// all of them or those [serve] unpack_regions lists; a listed region no rule names is refused
// (it would unpack nothing: a typo, or rules that changed).
Status PlanUnpackRegions(ServePlan& plan) {
  std::set<std::string> named;
  for (const replicate::DurablePass& pass : plan.passes) {
    std::set<std::string> regions;
    for (const replicate::Rule& r : pass.rules.rules) {
      for (const replicate::Destination& d : r.destinations) {
        if (r.enabled && d.transport.compress && !d.transport.region.empty()) {
          regions.insert(d.transport.region);
        }
      }
    }
    named.insert(regions.begin(), regions.end());
    plan.unpack_regions.push_back(std::move(regions));
  }
  if (!plan.serve.unpack_regions) return Status::Ok();
  const std::set<std::string> wanted(plan.serve.unpack_regions->begin(),
                                     plan.serve.unpack_regions->end());
  for (const std::string& region : wanted) {
    if (named.count(region) == 0) {
      std::string known;
      for (const std::string& n : named) known += (known.empty() ? "" : ", ") + n;
      return Status::InvalidArgument(
          "[serve] unpack_regions: no transported destination of the served rules is in region "
          "\"" + region + "\" (" + (known.empty() ? "they name none" : "they name " + known) +
          ")");
    }
  }
  for (std::set<std::string>& regions : plan.unpack_regions) {
    std::erase_if(regions, [&](const std::string& r) { return wanted.count(r) == 0; });
  }
  return Status::Ok();
}

}  // namespace

app::EngineSettings ServeEngineSettings() {
  app::EngineSettings s;
  s.profile = app::EngineProfile::kKeys;
  s.default_concurrency = 16;
  s.default_memory = transfer::ExecutorOptions::kDefaultMemoryBudget;
  s.adaptive_allowed = false;
  s.metrics_at_end = app::EngineMetricsAtEnd::kRemove;
  return s;
}

Result<ServePlan> PlanServe(const ServeSettings& a, std::stop_token stop) {
  FERRY_ASSIGN_OR_RETURN(app::Config config, app::LoadConfig(a.config_path));
  ServePlan plan;
  plan.serve = config.serve;
  if (plan.serve.replicate.empty() && config.schedules.empty() && plan.serve.cache.empty() &&
      plan.serve.unpack.empty()) {
    return Status::InvalidArgument(
        "nothing to serve: add [serve] with replicate = [\"remote:bucket\"], [[serve.cache]], "
        "[[serve.unpack]], or [[schedules]], to the config");
  }
  if (!plan.serve.replicate.empty() && config.replication.rules.rules.empty()) {
    return Status::InvalidArgument("[serve] replicate needs rules: add [[replication.rules]] to "
                                   "the config");
  }
  FERRY_RETURN_IF_ERROR(PlanTokens(a, plan));
  FERRY_RETURN_IF_ERROR(PlanListeners(a, plan));
  FERRY_ASSIGN_OR_RETURN(const int keys, PlanBudgets(a, config, plan));
  const replicate::DurablePass base = PlanBasePass(keys, config);
  plan.concurrency = base.concurrency;
  const replicate::RuleSet rules = config.replication.rules;
  plan.wiring = std::make_unique<app::Wiring>(std::move(config));
  FERRY_ASSIGN_OR_RETURN(plan.schedules, PlanSchedules(*plan.wiring));
  FERRY_ASSIGN_OR_RETURN(plan.sqs,
                         app::ResolveSqsQueues(plan.wiring->config(), plan.wiring->transport()));
  for (const std::string& source : plan.serve.replicate) {
    replicate::DurablePass pass = base;
    pass.rules = rules;
    FERRY_ASSIGN_OR_RETURN(app::ReplicationTargets targets,
                           app::ResolveReplication(source, pass.rules));
    Result<app::OpenedReplication> opened = app::OpenReplication(*plan.wiring, targets, stop);
    if (!opened.ok()) return opened.status().WithContext(source);
    pass.source = targets.source_name;
    plan.passes.push_back(std::move(pass));
    plan.targets.push_back(std::move(targets));
  }
  FERRY_RETURN_IF_ERROR(PlanUnpackRegions(plan));
  FERRY_ASSIGN_OR_RETURN(plan.roles, PlanRoles(*plan.wiring, plan.serve, stop));
  return plan;
}

}  // namespace ferry::serve::daemon
