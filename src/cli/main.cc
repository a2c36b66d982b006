// ferry: copy and sync objects between S3-compatible stores and local folders.
#include <csignal>
#include <cstdio>
#include <thread>

#include "cli/commands.h"

namespace {

// Ctrl-C / SIGTERM request a stop: running transfers are cancelled, uploads aborted, and the
// summary still printed. Signals are taken by a dedicated thread (sigwait), not a handler.
std::stop_source& StopSource() {
  static std::stop_source source;
  return source;
}

}  // namespace

int main(int argc, char** argv) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started below
  std::signal(SIGPIPE, SIG_IGN);
  std::thread([set] {
    int sig = 0;
    if (sigwait(&set, &sig) == 0) {
      std::fprintf(stderr, "\nferry: interrupted, stopping...\n");
      StopSource().request_stop();
    }
  }).detach();

  CLI::App app{"ferry: copy and sync objects between S3-compatible stores and local folders"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ferry 0.1.0");
  ferry::cli::Context ctx;
  ctx.stop = StopSource().get_token();
  app.add_option("--config", ctx.global.config_path,
                 "TOML config file (default: $FERRY_CONFIG or ~/.config/ferry/ferry.toml)");
  app.add_flag("-v,--verbose", ctx.global.verbose, "one line per object on stderr");
  ferry::cli::RegisterCopy(app, ctx);
  ferry::cli::RegisterBucket(app, ctx);
  ferry::cli::RegisterList(app, ctx);
  ferry::cli::RegisterJobs(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ferry: error: %s (see ferry --help)\n", e.what());
    return 2;
  }
  return ctx.exit_code;
}
