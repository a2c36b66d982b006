// ferry: copy and sync objects between S3-compatible stores and local folders.
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "app/wiring.h"
#include "cli/commands.h"
#include "cli/commands/metrics.h"
#include "cli/hangups.h"
#include "cli/limits_options.h"
#include "cli/man_page.h"
#include "cli/version.h"
#include "obs/log.h"
#include "obs/metrics.h"
#include "transfer/low_level_retries.h"

namespace {

// Ctrl-C / SIGTERM request a stop: running transfers are cancelled, uploads aborted, and the
// summary still printed. Signals are taken by a dedicated thread (sigwait), not a handler.
std::stop_source& StopSource() {
  static std::stop_source source;
  return source;
}

// --metrics-tls-cert/--metrics-tls-key: kept here, not in GlobalOptions, since only main
// reads them.
struct MetricsTlsFiles {
  std::string cert_file;
  std::string key_file;
};
MetricsTlsFiles& MetricsTls() {
  static MetricsTlsFiles files;
  return files;
}

// Options on the app itself. With fallthrough (set before the subcommands are added, which
// inherit it), a subcommand passes the options it does not know to the app, so
// `ferry sync a b --config f.toml` works like `ferry --config f.toml sync a b`.
void AddGlobalOptions(CLI::App& app, ferry::cli::GlobalOptions& g) {
  app.fallthrough();
  app.add_option("--config", g.config_path,
                 "TOML config file (default: $FERRY_CONFIG or ~/.config/ferry/ferry.toml)");
  app.add_flag("-v,--verbose", g.verbose, "one line per object on stderr");
  app.add_option("--log-level", g.log_level,
                 "log lines at or above this level on stderr: debug, info, warn, error "
                 "(default info; debug with $FERRY_CURL_VERBOSE)")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
  app.add_option("--log-format", g.log_format,
                 "text (lines for people) or json (one JSON object per line)")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--metrics-file", g.metrics_file,
                 "write the metrics in Prometheus text format to this file at exit");
  app.add_option("--metrics-listen", g.metrics_listen,
                 "serve GET /metrics (Prometheus text format) and the dashboard (/) on HOST:PORT "
                 "while running, e.g. 127.0.0.1:9464; PORT or :PORT alone: 127.0.0.1 (port 0: "
                 "any free port, logged)");
  app.add_option("--metrics-tls-cert", MetricsTls().cert_file,
                 "serve --metrics-listen over HTTPS with this certificate (PEM, its chain "
                 "after it), with --metrics-tls-key");
  app.add_option("--metrics-tls-key", MetricsTls().key_file,
                 "the private key (PEM, not encrypted) of --metrics-tls-cert");
  app.add_option("--bwlimit", g.bwlimit,
                 "bandwidth limit of the whole process: RATE (e.g. 10M; no suffix = KiB/s; "
                 "off), UP:DOWN, or a timetable \"HH:MM,RATE DAY-HH:MM,UP:DOWN ...\" in local "
                 "time (DAY: Mon..Sun); over the config's [limits] bwlimit");
  app.add_option("--max-rps", g.max_rps,
                 "requests per second to each endpoint, for the whole process; over the "
                 "config's [limits] max_rps")
      ->check(CLI::Range(0.001, 1e9));
  app.add_flag("--no-adaptive-rate", g.no_adaptive_rate,
               "do not adapt the requests per second to an endpoint that throttles (429, 503 "
               "SlowDown: halve, grow back); Retry-After and --max-rps still hold; over the "
               "config's [limits] adaptive");
  app.add_flag("--no-sign-request", g.no_sign_request,
               "send requests to S3 locations without a remote unsigned (public buckets; a "
               "remote's own: no_sign_request = true)");
  app.add_option("--request-payer", g.request_payer,
                 "\"requester\": agree to pay for requests to requester-pays buckets (a remote's "
                 "own: requester_pays = true)")
      ->check(CLI::IsMember({"requester"}));
  app.add_option("--low-level-retries", g.low_level_retries,
                 "times a read refused by a checksum (corrupted on the way) is done again "
                 "before the object fails (default 10)")
      ->check(CLI::Range(0, 1000));
  app.add_option("--max-rps-burst", g.max_rps_burst,
                 "requests that may go at once within --max-rps (default 1)")
      ->check(CLI::Range(1, 1000000));
}

// Applies the global options once they are parsed, before the subcommand runs.
void ApplyGlobalOptions(const ferry::cli::GlobalOptions& g, ferry::cli::MetricsServer& server,
                        const std::string& command) {
  using ferry::obs::Level;
  Level level = std::getenv("FERRY_CURL_VERBOSE") != nullptr ? Level::kDebug : Level::kInfo;
  if (!g.log_level.empty()) level = *ferry::obs::ParseLevel(g.log_level);  // checked by CLI11
  ferry::obs::ConfigureDefaultLogger(level, *ferry::obs::ParseFormat(g.log_format));
  const ferry::http::TlsFiles tls{.cert_file = MetricsTls().cert_file,
                                  .key_file = MetricsTls().key_file,
                                  .cert_option = "--metrics-tls-cert",
                                  .key_option = "--metrics-tls-key"};
  if (g.metrics_listen.empty() && (!tls.cert_file.empty() || !tls.key_file.empty())) {
    throw CLI::RuntimeError(ferry::cli::ReportError(ferry::Status::InvalidArgument(
        "--metrics-tls-cert/--metrics-tls-key: give --metrics-listen too")));
  }
  if (!g.metrics_listen.empty()) {
    if (ferry::Status s = server.Start(g.metrics_listen, command, tls); !s.ok()) {
      throw CLI::RuntimeError(ferry::cli::ReportError(s));
    }
  }
  ferry::transfer::SetLowLevelRetries(g.low_level_retries);
  ferry::app::SetNoSignRequest(g.no_sign_request);
  ferry::app::SetRequesterPays(g.request_payer == "requester");
  ferry::cli::RegisterProcessMetrics();
  // the process's limits: the command line over the config file's [limits]
  ferry::Status limits = ferry::Status::Ok();
  if (auto config = ferry::app::LoadConfig(g.config_path); !config.ok()) {
    limits = config.status();
  } else {
    limits = ferry::cli::ApplyLimits(g, config->limits);
  }
  if (!limits.ok()) throw CLI::RuntimeError(ferry::cli::ReportError(limits));
}

}  // namespace

// The C library's allocator, set before any thread starts, so that the process's memory stays
// near its budget (--memory): buffers of 1 MiB and more that are not the executor's pooled ones
// (an unpack's decoded entries, a stream's input) are mapped and unmapped whole instead of
// being kept in the heap after they are freed (glibc raises its mmap threshold to the largest
// block freed, up to 32 MiB), and at most 4 heaps (arenas) hold freed memory instead of 8 per
// core. Measured by bench/bench-mixed-worker.sh (one worker, four capabilities, --memory
// 256MiB): peak RSS 389 MiB without either, 348 with the threshold, 299 with both. The
// MALLOC_MMAP_THRESHOLD_ and MALLOC_ARENA_MAX environment variables still win.
static void TuneAllocator() {
  if (std::getenv("MALLOC_MMAP_THRESHOLD_") == nullptr) mallopt(M_MMAP_THRESHOLD, 1 << 20);
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 4);
}

namespace {

// Blocks SIGINT, SIGTERM and SIGHUP in every thread (the mask is inherited by the threads
// started after it) and takes them on one thread of their own: a SIGHUP goes to the command
// that reloads on it (ferry serve); any other requests the stop. SIGPIPE is ignored.
void TakeSignals(ferry::cli::Hangups& hangups) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);  // inherited by every thread started below
  std::signal(SIGPIPE, SIG_IGN);
  std::thread([set, &hangups] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) {
      // A SIGHUP goes to the command that reloads on it (ferry serve); any other stops.
      if (sig == SIGHUP && hangups.Notify()) continue;
      ferry::obs::Log(ferry::obs::Level::kWarn, "interrupted, stopping...");
      StopSource().request_stop();
      return;
    }
  }).detach();
}

void RegisterCommands(CLI::App& app, ferry::cli::Context& ctx) {
  ferry::cli::RegisterCopy(app, ctx);
  ferry::cli::RegisterBucket(app, ctx);
  ferry::cli::RegisterList(app, ctx);
  ferry::cli::RegisterJobs(app, ctx);
  ferry::cli::RegisterCache(app, ctx);
  ferry::cli::RegisterArchive(app, ctx);
  ferry::cli::RegisterReplicate(app, ctx);
  ferry::cli::RegisterUnpack(app, ctx);
  ferry::cli::RegisterEstimate(app, ctx);
  ferry::cli::RegisterBackup(app, ctx);
  ferry::cli::RegisterRestore(app, ctx);
  ferry::cli::RegisterCatalog(app, ctx);
  ferry::cli::RegisterServe(app, ctx);
  ferry::cli::RegisterEvents(app, ctx);
  ferry::cli::RegisterVerify(app, ctx);
  ferry::cli::RegisterConfig(app, ctx);
  ferry::cli::RegisterInventory(app, ctx);
}

// `ferry help [COMMAND]`: the same text as `ferry [COMMAND] --help`
void AddHelpCommand(CLI::App& app, ferry::cli::Context& ctx) {
  auto* help = app.add_subcommand("help", "show the help of ferry or of one command");
  auto help_of = std::make_shared<std::vector<std::string>>();
  help->add_option("command", *help_of, "a command, e.g. sync (or two: cache warm)");
  auto man = std::make_shared<bool>(false);
  help->add_flag("--man", *man,
                 "print the manual page of every command in roff (man -l -), as the package "
                 "installs it");
  help->callback([&app, help_of, man, &ctx] {
    if (*man) {
      if (!help_of->empty()) {
        std::fprintf(stderr, "ferry: error: --man prints the page of every command: give no "
                             "command\n");
        ctx.exit_code = 2;
        return;
      }
      std::fputs(ferry::cli::ManPage(app, {.version = ferry::cli::VersionNumber(), .date = ""}).c_str(),
                 stdout);
      return;
    }
    const CLI::App* target = &app;
    for (const std::string& name : *help_of) {
      const CLI::App* sub = nullptr;
      for (const CLI::App* s : target->get_subcommands([](const CLI::App*) { return true; })) {
        if (s->get_name() == name) sub = s;
      }
      if (sub == nullptr) {
        std::fprintf(stderr, "ferry: error: no command '%s' (see ferry help)\n", name.c_str());
        ctx.exit_code = 2;
        return;
      }
      target = sub;
    }
    std::fputs(target->help().c_str(), stdout);
  });
}

// --metrics-file: the metrics at exit; a failure to write them is the exit code when the
// command itself succeeded.
void WriteMetricsFile(ferry::cli::Context& ctx) {
  if (ctx.global.metrics_file.empty()) return;
  if (ferry::Status s = ferry::obs::WriteExpositionFile(ferry::obs::DefaultRegistry(),
                                                        ctx.global.metrics_file);
      !s.ok()) {
    const int code = ferry::cli::ReportError(s);
    if (ctx.exit_code == 0) ctx.exit_code = code;
  }
}

}  // namespace

int main(int argc, char** argv) {
  TuneAllocator();
  static ferry::cli::Hangups hangups;
  TakeSignals(hangups);

  CLI::App app{"ferry: copy and sync objects between S3-compatible stores and local folders"};
  app.require_subcommand(1);
  app.set_version_flag("--version", ferry::cli::VersionText());
  ferry::cli::Context ctx;
  ctx.stop = StopSource().get_token();
  ctx.hangups = &hangups;
  AddGlobalOptions(app, ctx.global);
  ferry::cli::MetricsServer metrics_server;
  app.parse_complete_callback([&] {
    const auto parsed = app.get_subcommands();
    ApplyGlobalOptions(ctx.global, metrics_server,
                       parsed.empty() ? "" : parsed.front()->get_name());
  });
  RegisterCommands(app, ctx);
  AddHelpCommand(app, ctx);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::RuntimeError& e) {  // ApplyGlobalOptions, which printed the error
    return e.get_exit_code();
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ferry: error: %s (see ferry --help)\n", e.what());
    return 2;
  }
  WriteMetricsFile(ctx);
  return ctx.exit_code;
}
