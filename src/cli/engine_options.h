// --concurrency and --memory, declared once for every command that opens the engine
// (app/engine.h): the flags as given go into EngineArgs, and WithEngineArgs puts them on the
// command's EngineSettings, which app::Engine::Open resolves (flag, then the config's
// [transfer], then the command's default) and checks. One help text per profile: what N
// counts (requests, or keys with the requests derived from them) and the command's defaults.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "app/engine.h"

namespace ferry::cli {

// The flags as given: 0 and "" when not given.
struct EngineArgs {
  int concurrency = 0;
  std::string memory;
};

// Adds --concurrency N (1..1024, refused by the parser otherwise) and --memory SIZE to `cmd`,
// into `args`. `defaults` is the command's EngineSettings (its profile, defaults and whether it
// adapts) for the help texts; `default_text`, when given, says the default N in words instead
// of the number (a default that depends on the locations).
void AddEngineOptions(CLI::App* cmd, EngineArgs& args, const app::EngineSettings& defaults,
                      const std::string& default_text = "");

// `settings` with the flags of `args` on it.
app::EngineSettings WithEngineArgs(app::EngineSettings settings, const EngineArgs& args);

}  // namespace ferry::cli
