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

namespace ferry::storage {
class Backend;
}  // namespace ferry::storage

namespace ferry::cli {

// Options of the app itself (main.cc), accepted before or after the subcommand.
struct GlobalOptions {
  std::string config_path;
  bool verbose = false;
  std::string log_level;            // debug|info|warn|error ("" = info, debug with
                                    // $FERRY_CURL_VERBOSE)
  std::string log_format = "text";  // text|json
  std::string metrics_file;         // the Prometheus exposition written here at exit
  std::string metrics_listen;       // HOST:PORT serving GET /metrics while the command runs
  // The process's limits (cli/limits_options.h); over the config file's [limits]. Unset: "",
  // 0, 0.
  std::string bwlimit;
  double max_rps = 0;
  int max_rps_burst = 0;
  bool no_adaptive_rate = false;  // --no-adaptive-rate: over [limits] adaptive
  int low_level_retries = 10;  // transfer/low_level_retries.h
  bool no_sign_request = false;  // app::SetNoSignRequest
  std::string request_payer;     // "requester": app::SetRequesterPays
};

class Hangups;  // cli/hangups.h

struct Context {
  GlobalOptions global;
  std::stop_token stop;
  Hangups* hangups = nullptr;  // SIGHUPs, for a command that reloads on them (main.cc's)
  int exit_code = 0;
};

void RegisterCopy(CLI::App& app, Context& ctx);    // cp and sync (commands/copy.cc)
void RegisterBucket(CLI::App& app, Context& ctx);  // mb, rb (commands/bucket.cc)
void RegisterList(CLI::App& app, Context& ctx);    // ls (commands/list.cc)
void RegisterJobs(CLI::App& app, Context& ctx);    // worker, jobs (commands/jobs.cc)
void RegisterCache(CLI::App& app, Context& ctx);   // cache warm|expire|serve|verify (cache*.cc)
void RegisterArchive(CLI::App& app, Context& ctx); // archive pack/ls/cat (commands/archive.cc)
void RegisterReplicate(CLI::App& app, Context& ctx);  // replicate (commands/replicate.cc)
void RegisterUnpack(CLI::App& app, Context& ctx);  // unpack (commands/unpack.cc)
void RegisterEstimate(CLI::App& app, Context& ctx);  // estimate (commands/estimate.cc)
void RegisterBackup(CLI::App& app, Context& ctx);    // backup (commands/backup.cc)
void RegisterRestore(CLI::App& app, Context& ctx);   // restore (commands/restore.cc)
void RegisterServe(CLI::App& app, Context& ctx);     // serve (commands/serve.cc)
void RegisterCatalog(CLI::App& app, Context& ctx);   // catalog ls|export|rebuild (catalog.cc)
void RegisterEvents(CLI::App& app, Context& ctx);    // events setup|show|remove (events.cc)
void RegisterVerify(CLI::App& app, Context& ctx);
void RegisterInventory(CLI::App& app, Context& ctx); // inventory ls (commands/inventory.cc)
void RegisterConfig(CLI::App& app, Context& ctx);    // config check (commands/config.cc)    // verify (commands/verify.cc)

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

// --preserve-lock of `ferry restore` and `ferry unpack` (the retention and legal hold archive
// entries recorded, written to each object): kFailedPrecondition in one line when `dst` has
// no object lock (Backend::HasObjectLock), before anything is written.
Status CheckPreserveLock(storage::Backend& dst, std::stop_token stop);

}  // namespace ferry::cli
