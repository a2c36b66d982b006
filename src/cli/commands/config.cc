// `ferry config check`: reads the config file as every command does (strictly: an unknown key,
// a bad value or a broken rule is one error line, exit 2) and says what it holds, without
// contacting any store. For operators before a restart or a reload (`systemctl reload` reads
// the file again), and as ExecStartPre or an init container (deploy/).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "app/wiring.h"
#include "cli/commands.h"

namespace ferry::cli {
namespace {

struct ConfigArgs {
  bool env = false;  // --env: the environment variables the config names must be set
};

// The environment variables `config` names for secrets and tokens that are not set.
std::vector<std::string> MissingEnv(const app::Config& config) {
  std::vector<std::string> names;
  for (const auto& [name, r] : config.remotes) {
    for (const std::string* var : {&r.access_key_id_env, &r.secret_access_key_env,
                                   &r.session_token_env, &r.sse_c_key_env}) {
      if (!var->empty()) names.push_back(*var);
    }
  }
  if (!config.serve.token_env.empty()) names.push_back(config.serve.token_env);
  std::vector<std::string> missing;
  for (const std::string& n : names) {
    const char* v = std::getenv(n.c_str());
    if (v == nullptr || *v == '\0') missing.push_back(n);
  }
  return missing;
}

int RunConfigCheck(const ConfigArgs& a, Context& ctx) {
  Result<app::Config> config = app::LoadConfig(ctx.global.config_path);
  if (!config.ok()) return ReportError(config.status());
  if (config->source.empty()) {
    return ReportError(Status::InvalidArgument(
        "no config file to check: give --config FILE (or set $FERRY_CONFIG; the default is "
        "~/.config/ferry/ferry.toml)"));
  }
  if (a.env) {
    const std::vector<std::string> missing = MissingEnv(*config);
    if (!missing.empty()) {
      std::string list;
      for (const std::string& n : missing) list += (list.empty() ? "" : ", ") + n;
      return ReportError(
          Status::InvalidArgument(config->source + ": environment variables not set: " + list));
    }
  }
  std::printf("%s: ok: %zu remote(s), %zu replication rule(s)", config->source.c_str(),
              config->remotes.size(), config->replication.rules.rules.size());
  if (config->serve.present) {
    std::printf(", [serve] on %s replicating %zu source(s), %zu SQS queue(s), %zu cache "
                "role(s), %zu unpack role(s)",
                config->serve.listen.c_str(), config->serve.replicate.size(),
                config->serve.sqs.size(), config->serve.cache.size(), config->serve.unpack.size());
  }
  std::printf("\n");
  return 0;
}

}  // namespace

void RegisterConfig(CLI::App& app, Context& ctx) {
  auto* config = app.add_subcommand("config", "check the config file");
  config->require_subcommand(1);
  auto args = std::make_shared<ConfigArgs>();
  auto* check = config->add_subcommand(
      "check",
      "read the config file (--config, $FERRY_CONFIG or ~/.config/ferry/ferry.toml) as every "
      "command does and say what it holds; one error line and exit 2 when a key, a value or a "
      "rule is wrong. Contacts no store");
  check->add_flag("--env", args->env,
                  "also require the environment variables it names (keys, tokens) to be set");
  check->callback([args, &ctx] { ctx.exit_code = RunConfigCheck(*args, ctx); });
}

}  // namespace ferry::cli
