// Payloads of durable jobs and the run's options, as JSON (nlohmann-json). A worker on another
// machine rebuilds everything it needs from them and its own config file (remote names).
//
//   run options:  {"command":"cp"|"sync", "delete":bool, "filter":{...}, "decide":{...}, ...}
//                 (runs stored before "command" existed decode with command "")
//   scan:         {"start_after":key, "last":key}    a key range (key_range.h); no "last":
//                                                    to the end
//   transfer:     {"objects":[{"k":key,"s":size,"e":etag,"m":mtime_ns,"c":class,
//                              "d":need_details,"r":reason,"x":destination_present,
//                              "v":version_id,       "v" only when not "" (= the current
//                              "f":error}]}          version); payloads without it decode so.
//                                                    "f": the error this object's last attempt
//                                                    failed with (a retried or dead job keeps
//                                                    each object's own); absent: none known
//   delete:       {"keys":[key,...]}
//   pack:         the transfer payload: the objects of one archive (compressed runs; the
//                 unpack payload is transport's: transport/kinds/kinds.h)
// Run options with --backup-dir add "backup_dir":{"location":location, "suffix":text}.
// Run options of a compressed run (--compress) add
//   "transport":{"staging":location, "region":name, "level":n, "batch_bytes":n,
//                "batch_objects":n[, "unpack_jobs":false][, "backup":true]
//                [, "prices":{"per_gib":x, "per_cpu_second":y}]}
// A key is a JSON string when it is UTF-8 (S3 keys always are) and {"hex":"..."} otherwise (a
// local file name is bytes), so that every key round-trips exactly.
// Pure; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "jobs/key_range.h"
#include "plan/delete_limit.h"
#include "plan/filter.h"
#include "transfer/engine.h"

namespace ferry::jobs {

// Compressed transport through a staging location (src/transport, docs/design/transport.md).
// Stored with the run as data; what they mean is transport's (its RunHook and kinds).
struct TransportOptions {
  std::string staging;  // location text of the staging prefix; "" = no compression
  std::string region;   // the region unpack jobs belong to ("" = any worker)
  int level = 0;        // zstd level; 0 = adaptive per content class (transport/level.h)
  uint64_t batch_bytes = 64ull << 20;  // raw bytes per archive
  uint64_t batch_objects = 5000;       // objects per archive
  // false: packs enqueue no unpack jobs; the destination side finds the archives by listing
  // the staging prefix (`ferry unpack`), where no state store is shared.
  bool unpack_jobs = true;
  // Backup mode (`ferry backup`, docs/design/backup.md): the archives are kept at the staging
  // location (the backup location), never unpacked; each is recorded with its entries in the
  // backup catalog (backup/catalog.h), and a scan packs only what the catalog lacks.
  bool backup = false;
  // The prices the adaptive level weighs (transport::LevelPrices), from the command's [costs]:
  // $ per GiB from the source's region to the staging's, and $ per CPU-second; < 0: the
  // defaults. Carried by the run so that every worker weighs the same; a resume does not
  // compare them (a changed price only steers later batches).
  double price_per_gib = -1;
  double price_per_cpu_second = -1;
  bool enabled() const { return !staging.empty(); }
  bool operator==(const TransportOptions&) const = default;
};

// --report, --report-format, --report-level of a durable run (jobs/job_report.h): every
// worker of the run writes its jobs' rows there.
struct ReportOptions {
  std::string location;  // "" = no report
  std::string format = "csv";
  std::string level = "changes";
  bool wanted() const { return !location.empty(); }
  bool operator==(const ReportOptions&) const = default;
};

struct RunOptions {
  std::string command;  // "cp" or "sync": a run resumes only as the command that started it
  bool delete_extra = false;
  plan::FilterOptions filter;
  plan::DecideOptions decide;
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;
  uint64_t server_side_copy_limit = 5ull << 30;
  std::string storage_class;
  int max_attempts = 5;
  TransportOptions transport;
  bool preserve_lock = false;  // --preserve-lock (transfer::TransferOptions::preserve_lock)
  bool preserve_acl = false;   // --preserve-acl (transfer::TransferOptions::preserve_acl)
  storage::WriteAcl acl;       // --acl, --grants
  // --checksum-algorithm; --metadata, --content-type, --metadata-directive.
  std::optional<checksum::Algorithm> checksum_algorithm{};
  transfer::MetadataOverrides overrides{};
  // --restore-archived and its flags (transfer::RestoreOptions; clock not recorded).
  transfer::RestoreOptions restore{};
  // --max-delete: checked by Worker::AdvanceRun before it unparks the deletes, so that any
  // worker that moves the run on applies it (jobs/delete_guard.h).
  plan::DeleteLimit max_delete{};
  // --files-from: the list the run's keys came from, as the command line named it ("" = a run
  // over full listings). Its keys are in the run's list-scan jobs (sorted, at most
  // kListChunkKeys a job), stored when the run was created: a worker anywhere reads them there
  // and no other key of either side is touched. Kept for the resume's comparison and messages.
  std::string files_from;
  ReportOptions report{};
  // --part-jobs-min-parts: an object of at least this many parts (of part_size) is spread over
  // the run's workers as part jobs (jobs/part_jobs.h); 0 = never (runs stored before it).
  int part_jobs_min_parts = 0;
  // --backup-dir (its location text, "" = none) and --suffix: each destination object the run
  // replaces or deletes is first copied there on the server (transfer/backup_dir.h), by
  // whichever worker replaces or deletes it (RunContext::backup).
  std::string backup_dir;
  std::string backup_suffix;
  // A move's --delete-empty-src-dirs: the source folders its deletes emptied are removed
  // (storage::Backend::RemoveEmptiedFolders); a run's source otherwise keeps its folders.
  bool delete_empty_src_dirs = false;
};

// Keys of one list-scan job, at most.
inline constexpr size_t kListChunkKeys = 1000;

std::string EncodeRunOptions(const RunOptions& options);
Result<RunOptions> DecodeRunOptions(const std::string& json);

std::string EncodeScan(const KeyRange& range);
Result<KeyRange> DecodeScan(const std::string& json);

// `errors`, when not empty, holds one message per object (same order): the error each one's
// last attempt failed with, kept so that a dead job reports every object with its own error
// (app::DeadObjects), not the job's one last_error. "" for an object writes no "f".
std::string EncodeTransfer(const std::vector<transfer::CopyRequest>& objects,
                           const std::vector<std::string>& errors = {});
Result<std::vector<transfer::CopyRequest>> DecodeTransfer(const std::string& json);
// The "f" of each object of a transfer payload, in order ("" where there is none).
Result<std::vector<std::string>> DecodeTransferErrors(const std::string& json);
// What a worker needs to know of a transfer job before it runs it: how many objects, and the
// size of the first. Read without building the document (a job's payload is otherwise decoded
// twice: once to count what it puts in flight, once to run it). A payload DecodeTransfer
// refuses may still be counted; Run reports it.
struct TransferShape {
  size_t objects = 0;
  uint64_t first_size = 0;
};
Result<TransferShape> PeekTransfer(const std::string& json);

std::string EncodeDelete(const std::vector<std::string>& keys);
Result<std::vector<std::string>> DecodeDelete(const std::string& json);

// A list-scan job's keys (ascending, unique; the delete payload's form).
std::string EncodeListScan(const std::vector<std::string>& keys);
Result<std::vector<std::string>> DecodeListScan(const std::string& json);

}  // namespace ferry::jobs
