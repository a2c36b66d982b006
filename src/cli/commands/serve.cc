// ferry serve: replication as a service (docs/design/serve.md). The daemon is
// serve/daemon/daemon.h; the command declares its flags, fills ServeSettings and gives it the
// process's hooks: SIGHUPs (cli/hangups.h), the command line's [limits] (limits_options.h),
// the workers' counters in the registry (metrics.h) and stdout.
#include <cstdio>
#include <memory>
#include <optional>

#include "cli/commands.h"
#include "cli/commands/metrics.h"
#include "cli/hangups.h"
#include "cli/limits_options.h"
#include "serve/daemon/daemon.h"

namespace ferry::cli {
namespace {

int RunServe(const serve::daemon::ServeSettings& settings, Context& ctx) {
  std::optional<Hangups::Listening> listening;
  serve::daemon::DaemonHooks hooks;
  hooks.listen_for_hangups = [&] {
    listening.emplace(*ctx.hangups);
    return ctx.hangups->count();
  };
  hooks.wait_for_hangup = [&](uint64_t seen, std::chrono::milliseconds timeout,
                              std::stop_token stop) {
    return ctx.hangups->WaitFor(seen, timeout, stop);
  };
  hooks.apply_limits = [&](const app::LimitsSettings& file) {
    return ApplyLimits(ctx.global, file);
  };
  hooks.export_stats = [](const transfer::Stats& stats) -> std::shared_ptr<void> {
    return std::make_shared<StatsMetrics>(stats);
  };
  hooks.announce = [](const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  };
  serve::daemon::ServeSettings s = settings;
  s.config_path = ctx.global.config_path;
  const Status served = serve::daemon::Run(s, hooks, ctx.stop);
  return served.ok() ? 0 : ReportError(served);
}

}  // namespace

void RegisterServe(CLI::App& app, Context& ctx) {
  auto args = std::make_shared<serve::daemon::ServeSettings>();
  CLI::App* cmd = app.add_subcommand(
      "serve", "replicate continuously from bucket events, with a repair scan ([serve] config)");
  cmd->add_option("--state", args->state,
                  "state store: a SQLite path or postgres://... (default: " +
                      std::string("the user's ferry state dir, replication.db)"));
  cmd->add_option("--listen", args->listen,
                  "HOST:PORT, or PORT alone for 127.0.0.1 (default: [serve] listen)");
  cmd->add_option("--admin-listen", args->admin_listen,
                  "HOST:PORT (PORT alone: 127.0.0.1) of a second listener for /metrics, "
                  "/api/status and the dashboard, then not served on --listen (default: "
                  "[serve] admin_listen)");
  cmd->add_flag("--insecure-no-auth", args->insecure_no_auth,
                "POST /events takes events without a token (a trusted network only; warned at "
                "start; refused with [serve] token_env)");
  cmd->add_option("--tls-cert", args->tls_cert,
                  "serve HTTPS with this certificate (PEM, its chain after it); needs "
                  "--tls-key (default: [serve] tls_cert)");
  cmd->add_option("--tls-key", args->tls_key,
                  "the certificate's private key (PEM, not encrypted); needs --tls-cert "
                  "(default: [serve] tls_key)");
  cmd->add_option("--concurrency", args->concurrency, "keys replicated at once per run");
  cmd->add_option("--memory", args->memory, "buffer memory of the process (e.g. 256MiB)");
  cmd->add_option("--lease-ttl", args->lease_ttl,
                  "seconds a job stays this process's without a renewal: how long the jobs of "
                  "a killed process wait before another claims them (default 60)");
  cmd->callback([args, &ctx] { ctx.exit_code = RunServe(*args, ctx); });
}

}  // namespace ferry::cli
