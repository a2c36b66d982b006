#include "cli/engine_options.h"

#include <fmt/format.h>

namespace ferry::cli {
namespace {

// "128MiB", or the bytes.
std::string EngineOptionSize(uint64_t bytes) {
  if (bytes % (1u << 20) == 0) return fmt::format("{}MiB", bytes >> 20);
  return fmt::format("{} bytes", bytes);
}

std::string ConcurrencyHelp(const app::EngineSettings& d, const std::string& default_text) {
  const std::string n = default_text.empty() ? std::to_string(d.default_concurrency)
                                             : default_text;
  if (d.profile == app::EngineProfile::kKeys) {
    return fmt::format(
        "keys (objects) in flight per run, up to {}; the process runs 4 x N requests at once, "
        "at least {} (default N = {}, or [transfer] concurrency)",
        app::kEngineMaxKeys, app::kEngineMinKeyRequests, n);
  }
  if (d.adaptive_allowed) {
    return fmt::format(
        "requests in flight, fixed (default: adapted to the link, up to {}; or [transfer] "
        "concurrency, fixed)",
        n);
  }
  return fmt::format("requests in flight (default {}, or [transfer] concurrency)", n);
}

}  // namespace

void AddEngineOptions(CLI::App* cmd, EngineArgs& args, const app::EngineSettings& defaults,
                      const std::string& default_text) {
  cmd->add_option("--concurrency", args.concurrency, ConcurrencyHelp(defaults, default_text))
      ->check(CLI::Range(1, app::kEngineMaxRequests));
  cmd->add_option("--memory", args.memory,
                  fmt::format("buffer memory budget of the process: every byte of objects held "
                              "counts in it (default {}, or [transfer] memory)",
                              EngineOptionSize(defaults.default_memory)));
}

app::EngineSettings WithEngineArgs(app::EngineSettings settings, const EngineArgs& args) {
  settings.concurrency = args.concurrency;
  settings.memory = args.memory;
  return settings;
}

}  // namespace ferry::cli
