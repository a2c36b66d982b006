// The ferry subcommands. Each Register* adds one CLI11 subcommand whose callback runs the
// command and stores its exit code in `exit_code`:
//   0 success; 1 some objects failed or the run failed; 2 bad input (usage, config, location).
// Errors are printed as one line: "ferry: error: <message>".
#pragma once

#include <stop_token>
#include <string>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "jobs/worker.h"

namespace ferry::cli {

struct GlobalOptions {
  std::string config_path;
  bool verbose = false;
};

struct Context {
  GlobalOptions global;
  std::stop_token stop;
  int exit_code = 0;
};

void RegisterCopy(CLI::App& app, Context& ctx);    // cp and sync (commands/copy.cc)
void RegisterBucket(CLI::App& app, Context& ctx);  // mb, rb (commands/bucket.cc)
void RegisterList(CLI::App& app, Context& ctx);    // ls (commands/list.cc)
void RegisterJobs(CLI::App& app, Context& ctx);    // worker, jobs (commands/jobs.cc)

// Prints "ferry: error: ..." and returns the exit code for `status`.
int ReportError(const Status& status);

// How a durable run lists (--listers, --scan-chunk): shared by cp/sync and worker.
struct ListingArgs {
  int listers = 4;
  int scan_chunk = 10000;
};
void AddListingOptions(CLI::App* cmd, ListingArgs& args);
// Checks the values and sets them on `w`; kInvalidArgument naming the flag.
Status ApplyListingOptions(const ListingArgs& args, jobs::WorkerOptions& w);

}  // namespace ferry::cli
