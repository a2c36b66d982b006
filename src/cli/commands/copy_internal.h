// Internals of `ferry cp` / `ferry sync` shared by copy.cc (options, runs) and summary.cc (the
// summary printed at the end).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "app/encryption.h"
#include "app/engine.h"
#include "app/files_from.h"
#include "app/wiring.h"
#include "app/write_flags.h"
#include "cli/commands.h"
#include "cli/engine_options.h"
#include "cli/commands/cost_report.h"
#include "cli/commands/cutoff.h"
#include "cli/commands/max_delete.h"
#include "cli/commands/move.h"
#include "cli/commands/report_flags.h"
#include "plan/filter.h"
#include "storage/backend.h"
#include "transfer/stats.h"
#include "transfer/sync.h"

namespace ferry::cli {

// The command line of cp / sync, as parsed.
struct CopyArgs {
  std::string src;
  std::string dst;
  bool sync = false;
  bool move = false;  // ferry move (move.h): the source deletes after proved copies
  bool dry_run = false;
  bool delete_extra = false;
  // --max-delete N|P% (max_delete.h; of a move's source deletes: move.h); "" = [sync]
  // max_delete or none
  std::string max_delete;
  // ferry move --delete-empty-src-dirs: a local source's folders the move emptied are removed
  // (app::WiringOptions::local_remove_emptied_folders); without it they stay (move.h)
  bool delete_empty_src_dirs = false;
  BackupDirArgs backup;    // --backup-dir, --suffix (move.h)
  CutoffArgs cutoff;       // --max-transfer, --max-duration, --cutoff-mode (cutoff.h)
  bool json = false;
  bool progress = false;
  bool no_progress = false;
  bool checksum = false;
  bool size_only = false;
  bool update = false;
  std::vector<std::string> include;
  std::vector<std::string> exclude;
  std::string min_size, max_size, newer_than, older_than;
  std::string storage_class;
  bool preserve_lock = false;       // carry retention and legal holds (S3 Object Lock)
  bool preserve_acl = false;        // carry each object's own ACL grants (S3 to S3)
  std::string acl;                  // canned ACL of written objects
  std::vector<std::string> grants;  // PERMISSION=TYPE=VALUE (AWS CLI --grants)
  EngineArgs engine;  // --concurrency, --memory (cli/engine_options.h)
  std::string part_size, threshold;
  std::string state;  // JobStore URL: durable, resumable run ("" = automatic state file)
  bool no_state = false;
  bool no_fsync = false;  // local destination: no fsync (faster; a power loss may cost files)
  bool detach = false;
  bool restart = false;  // discard the unfinished run of src and dst, start a new one
  int max_attempts = 5;
  // --part-jobs-min-parts N: a durable run spreads an object of at least N parts over its
  // workers (jobs/part_jobs.h); 0 = never.
  int part_jobs_min_parts = 0;
  std::string abort_uploads_after = "24h";
  ListingArgs listing;
  // --files-from LIST (app/files_from.h) and --files-from-format plain|csv ("" = by the name).
  std::string files_from;
  std::string files_from_format;
  // --source-inventory / --dest-inventory LOCATION: the keys from S3 Inventories instead
  // (FilesFrom::OpenInventories; docs/design/inventory.md).
  std::string source_inventory;
  std::string dest_inventory;
  ReportArgs report;  // --report, --report-format, --report-level (report_flags.h)
  // --notify URL, repeatable: told of the run's end besides the config's [[notify]]
  // (app/notify_run.h)
  std::vector<std::string> notify;
  // Compressed transport (--compress --staging LOC): see docs/design/transport.md.
  bool compress = false;
  std::string staging;
  int compress_level = 0;  // 0 = adaptive per content class
  std::string archive_size;   // raw bytes per archive ("" = 64MiB)
  std::string unpack_region;  // the region of the unpack jobs ("" = any worker)
  bool pack_only = false;     // leave the unpack jobs to `ferry worker --role unpack`
  CostInputs cost;            // set by the command from the config (the cost model's prices)
  // The run's config, for the prices of the stores it sent requests to (the summary's cost:
  // cost_report.h StoreRunCost); null: the summary has no cost. Set by the command, not owned.
  const app::Config* config = nullptr;
  // Server-side encryption (--sse, --sse-kms-key-id, --sse-c-key-*, --sse-c-copy-source-key-*).
  app::EncryptionFlags encryption;
  // --checksum-algorithm, --metadata, --content-type, --metadata-directive.
  app::WriteFlags write;
  // Archived sources (copy_restore.cc, docs/design/glacier.md): "" = no restores.
  std::string restore_archived;
  std::string restore_tier = "Standard";
  std::string restore_poll = "60s";
  std::string restore_wait = "48h";
};

// Registers --restore-archived, --restore-tier, --restore-poll and --restore-wait
// (copy_restore.cc).
void AddRestoreOptions(CLI::App* cmd, CopyArgs& args);
// Checks those flags (one kInvalidArgument line naming the flag) and sets `out` from them.
Status ApplyRestoreFlags(const CopyArgs& a, transfer::RestoreOptions& out);

// The engine cp and sync open (app/engine.h): without a number (flag or [transfer]), the
// requests in flight adapt to the link, up to 64 (transfer/adaptive.h); the memory holds one part
// at least.
app::EngineSettings CopyEngine(const CopyArgs& a, uint64_t part_size);

// The durable run (copy_durable.cc), the default: `options` and `filter` as BuildOptions and
// BuildFilterOptions made them, `dst` the destination the caller opened and checked,
// `files_from` the --files-from list read and sorted (null without one: a scan of everything).
// Returns the exit status (0 done; 1 not done; 2 bad input; kExitMaxDuration cut by
// --max-duration).
int RunWithState(const CopyArgs& a, Context& ctx, app::Wiring& wiring, storage::Backend& dst,
                 const transfer::SyncOptions& options, const plan::FilterOptions& filter,
                 app::FilesFrom* files_from);

// What a durable run adds to the summary.
struct DurableSummary {
  int64_t run = 0;
  bool resumed = false;
  uint64_t dead_jobs = 0;
  uint64_t state_transactions = 0;
  std::string state;  // redacted URL or path
  bool kept = true;   // the state stays (explicit --state, or a run that is not done)
};

// The compressed-transport flags (--compress, --staging, ...) make sense together only:
// kInvalidArgument (exit 2) naming the flag otherwise; the staging prefix must be an S3 location
// apart from both sides (copy_transport.cc).
Status ValidateTransportFlags(const CopyArgs& a);
// The staging location exists and answers with our credentials: checked once, up front.
Status CheckTransport(const CopyArgs& a, app::Wiring& wiring, Context& ctx);

// Prints the end-of-run summary: one line on stderr (failures first), or a JSON object on
// stdout with --json. `d` is null for in-memory runs.
void PrintSummary(const CopyArgs& a, const transfer::Stats& s, const transfer::SyncResult& r,
                  const std::vector<transfer::Failure>& failures, uint64_t failed,
                  const DurableSummary* d);

}  // namespace ferry::cli
