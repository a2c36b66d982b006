// RunPass: one replication pass over a source (as S3 Batch Replication does for what exists):
// lists every version of the source, and for each version and destination, the winning rule
// (rules.h) decides whether it is replicated. Called by `ferry replicate` (cli/commands).
//
// Per key, versions are replicated oldest first, so a destination's history has the source's
// order; a key's versions go to a destination one after another (different keys in parallel,
// `concurrency` at a time). What a pass did is recorded per version in the StatusStore, so that:
// a COMPLETED or REPLICA version costs nothing on the next pass but the listing; a version whose
// write was started and not confirmed (PENDING, the process died) is first looked for at the
// destination and replicated again only when it is not there; FAILED versions are tried again
// (only they, with retry_failed_only). After a version failed, the key's later versions are not
// written to that destination in this pass (FAILED, "an older version failed"): order is kept.
//
// Data path: same endpoint and credentials (Backend::CanCopyFrom): CopyObject with versionId and
// new metadata (Backend::CopyFromWithSpec) up to the single-copy limit. Otherwise (or above it)
// the version is read (ReadVersionAt) and written (Put, or a chunked write above
// multipart_threshold), checked on the way: the CRC32C ferry records is computed from the bytes
// read and compared with one the source declares, a single-part MD5 ETag is compared with the
// MD5 of the bytes read and sent as Content-MD5.
//
// Two-way: a replica (replica.h) is never replicated; a delete marker the status store says a
// pass wrote to the source is a replica too. Before the first write of a key to a destination
// its current version is read (HEAD); when that one is later (WriteOrder) than the newest
// version the pass wrote, it is copied again on the destination (as a replica of its own
// original) so that it stays current: both sides converge on the latest original write.
//
// Execution: a pass's keys are tasks of the process's one transfer::Executor (PassOptions::
// executor), served by its workers beside every other run's, and every byte of a version it
// holds is a buffer of that executor's pool, counted in its ByteBudget; a key holds one buffer
// at a time.
//
// Thread-safety: one call at a time per PassOptions.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "obs/metrics.h"
#include "replicate/rules.h"
#include "replicate/status_store.h"
#include "storage/backend.h"
#include "transfer/executor.h"
#include "transfer/journal.h"

namespace ferry::replicate {

// One version a dry run would replicate (PassOptions::plan).
struct PlannedVersion {
  std::string rule;         // the rule's id
  std::string destination;  // the rule's destination location
  std::string key;
  std::string version;      // VersionName of the version or delete marker
  bool delete_marker = false;
  uint64_t size = 0;        // its bytes (0 for a delete marker)
};
// The dry run's line of `p`: "<rule> -> <destination>: <key> (version <id>)", or
// "... (delete marker <id>)".
std::string PlanLine(const PlannedVersion& p);

class TransportCollector;  // transport.h

struct PassOptions {
  std::string source_name;  // location name of the source, as rules name destinations
  storage::Backend* source = nullptr;
  // Every destination location of an enabled rule, opened.
  std::map<std::string, storage::Backend*> destinations;
  const RuleSet* rules = nullptr;  // validated
  StatusStore* store = nullptr;    // may be null only with dry_run, which never writes it
  Clock* clock = nullptr;
  // The process's executor, required by RunPass and ReplicateKeys (not by PreparePass): keys
  // run as its tasks, version bytes are held in its buffers (its ByteBudget bounds them), so
  // its workers bound the keys in flight. Not owned; it outlives the pass. Tests pass
  // testing::TestExecutor() or one of their own (a number of workers, a budget to measure).
  transfer::Executor* executor = nullptr;
  // The run's --concurrency, keys in flight: its caller sizes the process's executor from it,
  // durable runs store it. The pass itself does not read it (the executor's workers bound it).
  int concurrency = 16;
  bool dry_run = false;            // nothing written, nothing recorded: `plan` lines only
  bool retry_failed_only = false;  // act on FAILED versions only
  // The repair scan of a continuous run (`ferry serve`): events should have brought every
  // version written since its rule was first seen, so each such version this pass writes (or
  // whose tags it copies) is counted in ferry_replication_scan_repaired_total (sla.h).
  bool scan_repairs = false;
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;
  // The largest version copied on the server with one CopyObject (capped by the destination's
  // Features::max_single_put, 5 GiB on S3); larger ones are copied in UploadPartCopy parts.
  uint64_t server_side_copy_limit = 5ull << 30;
  // Dry run: called (from pass threads, one call at a time) with each version a rule would
  // replicate (PlanLine prints it).
  std::function<void(const PlannedVersion&)> plan;
  // Called (from pass threads, concurrently) right before each write to a destination; an error
  // stops the key there (the version is not written, its row stays PENDING) and ends the pass
  // with it. Durable passes check that the job still holds its lease: two jobs never write one
  // key at once.
  std::function<Status()> before_write;
  // Durable passes: one job at a time writes a key (jobs' key locks: a scan's keys job and an
  // event's job may hold the same key). `lock_key` is called before a key that may need a
  // write is looked at closer (its status rows are then read again: another job may have just
  // finished it); false means another job holds it: the key is left alone in this pass and
  // counted `busy` (its holder writes it; an event's job tries again later). `unlock_key`
  // after the key's writes. Both null: no locking (one process, or a dry run).
  std::function<Result<bool>(const std::string& key)> lock_key;
  std::function<void(const std::string& key)> unlock_key;
  // Durable passes: the checkpoints of a chunked write of `key` to the destination named
  // `destination` (a key of `destinations`), so that a version whose job is claimed again after
  // a crash or a lost lease resumes with the parts already written (transfer/resume.h). Called
  // from pass threads, concurrently. Null: a chunked write that is interrupted starts over.
  std::function<std::shared_ptr<transfer::UploadJournal>(const std::string& destination,
                                                         const std::string& key)>
      journal;
  // Compressed transport (Destination::transport): the versions for such destinations are not
  // written but handed to this collector (from pass threads; a key's versions in order), which
  // the replicate-keys job packs once its keys are done (transport.h). A key with a delete
  // marker to replicate there goes directly instead (its versions in order). Null: written
  // directly.
  TransportCollector* transported = nullptr;
  // With `transported`: each version collected is also recorded PENDING with QueuedMessage()
  // (transport.h) at once, while its key is held: an event's job of `ferry serve` leaves it to
  // the run's pack job instead of packing it (Transport::max_delay).
  bool queue_transported = false;
  // Compressed transport: whether a PENDING row of a packed version is still on its way in an
  // archive whose unpack job will write it (then the pass leaves it alone). Null: never.
  std::function<Result<bool>(const VersionStatus&)> in_transit;
  // --max-delete (a durable pass's keys jobs): a key whose pass would delete it at a destination
  // that keeps no versions (a replicated delete marker there is a DELETE: MarkerDeletes in
  // key_markers.h) is not replicated now, to none of its destinations, but handed to this with
  // the number of those deletes (from the pass's calling thread, one call at a time): the
  // caller parks it for the run's delete phase, which runs only when the run's deletes are
  // within the limit. Null: every key is replicated as it comes.
  std::function<void(const std::string& key, uint64_t deletes)> defer_deletes;
  // Where the SLA metrics of the versions this process replicates go (sla.h): latency, failures,
  // threshold counters; RunPass also refreshes the pending gauges at its start and end. Null:
  // obs::DefaultRegistry(), which `--metrics-file` and `/metrics` render.
  obs::Registry* metrics = nullptr;
};

struct PassStats {
  std::atomic<uint64_t> versions_listed{0};
  std::atomic<uint64_t> replicated{0};       // versions written (incl. delete markers)
  std::atomic<uint64_t> delete_markers{0};   // delete markers written
  std::atomic<uint64_t> already{0};          // COMPLETED before this pass
  std::atomic<uint64_t> replicas{0};         // replicas found, not replicated back
  std::atomic<uint64_t> recovered{0};        // PENDING found at the destination
  std::atomic<uint64_t> restored{0};         // later current versions kept current (two-way)
  std::atomic<uint64_t> tags_synced{0};      // replica_modifications: tag sets copied across
  std::atomic<uint64_t> failed{0};
  std::atomic<uint64_t> busy{0};             // keys left to the job that held them (lock_key)
  std::atomic<uint64_t> deferred{0};         // keys handed to PassOptions::defer_deletes
  std::atomic<uint64_t> planned{0};          // dry run: versions that would be replicated
  std::atomic<uint64_t> planned_bytes{0};    // dry run: their bytes (delete markers have none)
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> server_side{0};      // versions copied on the server
  std::atomic<uint64_t> server_side_parts{0};  // ... of them in parts (UploadPartCopy)
  // Parts of interrupted chunked writes found on the destination and not sent again
  // (PassOptions::journal), and their bytes.
  std::atomic<uint64_t> parts_resumed{0};
  std::atomic<uint64_t> bytes_resumed{0};
  // Versions written that no checksum proved: no CRC32C declared, and no common part size
  // reproduces their multipart ETag (the same bytes were read twice).
  std::atomic<uint64_t> unverified{0};
  // Versions encrypted with SSE-KMS that a matching rule left out: it does not select
  // SseKmsEncryptedObjects (S3 replicates them only then).
  std::atomic<uint64_t> kms_not_selected{0};
  // Compressed transport: versions packed for a destination, archives, their bytes in and on
  // the wire (the archives').
  std::atomic<uint64_t> transported{0};
  std::atomic<uint64_t> transport_archives{0};
  std::atomic<uint64_t> transport_bytes_in{0};
  std::atomic<uint64_t> transport_bytes_wire{0};
};

// Errors: a failed listing or status store (the pass stops); per-version failures are counted
// and recorded, not returned. kCancelled when `stop` was requested. Unless a dry run, the SLA
// gauges (sla.h) are refreshed from the store before the first key and after the last.
// kInternal without an executor (PassOptions::executor), as for a missing source, rules, clock
// or store.
Status RunPass(const PassOptions& options, PassStats& stats, std::stop_token stop);

// --- A pass in pieces (the durable pass: the replicate-scan and replicate-keys job kinds,
// kinds/replicate_*.cc, run these in any process; RunPass is the same pieces in one).

// What a pass knows before its first key: when each enabled rule was first seen (unix ns;
// existing_objects = off), and which destinations may hold originals (a pass has run from them:
// two-way), where a key's writes are ordered against the destination's current version.
struct PassScope {
  std::map<std::string, int64_t> first_seen_ns;
  std::set<std::string> two_way;
};

// The first step of a pass: records (first time only) and reads when each enabled rule was
// first seen, and asks the store which destinations are known sources. A dry run records
// nothing. Errors: the status store's; kInternal for options without source, rules or clock.
Result<PassScope> PreparePass(const PassOptions& options);

// One key of the source as a version listing shows it: its versions and delete markers, oldest
// first (an unversioned source: one version "null").
struct KeyVersions {
  std::string key;
  std::vector<storage::ObjectInfo> versions;
};

// Replicates `keys` (each key's versions in order, different keys `concurrency` at a time), as
// RunPass does with the keys it lists: the status rows are read 200 keys a query. Errors as
// RunPass's (a failed status store; kCancelled); per-version failures are counted and recorded.
Status ReplicateKeys(const PassOptions& options, const PassScope& scope,
                     std::vector<KeyVersions> keys, PassStats& stats, std::stop_token stop);

}  // namespace ferry::replicate
