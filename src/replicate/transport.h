// Compressed transport of replicated versions (Destination::transport;
// docs/design/replication.md, "Compressed transport").
//
// Source side: a pass hands every version it would write to a transported destination to a
// TransportCollector instead of writing it (pass.h, PassOptions::transported). Once the keys of
// a replicate-keys job are done, PackTransported packs what was collected into one archive per
// staging location: an entry per version (key, source version id, the metadata a direct copy
// writes — the source's user metadata and content headers, tags, storage class, ferry's replica
// marks —, its bytes read again from the source, by version id), each entry meant for the
// regions of every destination staged there that wants it. A key's versions are adjacent and
// oldest first. Then, in this order: the status rows go PENDING (message "packed in
// <archive>"), the archive's progress rows are added (one per destination, kStaged), and the
// caller enqueues one unpack job per destination (TransportUnpack) with its finish. A crash
// before the finish leaves PENDING rows whose archive no unpack job reads: the job's rerun finds
// them (not at the destination) and packs them again into the same archive key.
//
// Target side: UnpackTransported writes the entries meant for one destination (its region)
// with transport::UnpackArchive, a key's versions one after another in the archive's order,
// and records each version COMPLETED with the version the write made. An entry a crashed attempt
// may have written is recognised by its row (COMPLETED) or by its replica metadata at the
// destination (never written twice). The archive is deleted by the last destination's unpacker
// (the progress rows decide: transport/store.h).
//
// Delete markers are not carried: a key with a delete marker to replicate to a transported
// destination goes to it directly in that pass (all its versions, in order), see key.cc.
//
// Errors: the backends', the stores'; kDataLoss when bytes read differ from the CRC32C the
// source version declares. Thread-safety: TransportCollector is thread-safe; the functions are
// one call per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "transfer/executor.h"
#include "replicate/pass.h"
#include "replicate/status_store.h"
#include "storage/backend.h"
#include "transport/level_store.h"
#include "transport/run_archives.h"
#include "transport/store.h"
#include "transport/unpack.h"

namespace ferry::replicate {

// One version for one transported destination.
struct TransportedVersion {
  const Destination* destination = nullptr;  // with its transport
  storage::ObjectInfo version;               // the version's details (key, version id, ...)
  storage::WriteSpec spec;                   // what a direct copy would write
  VersionStatus row;                         // recorded PENDING once packed
};

class TransportCollector {
 public:
  void Add(TransportedVersion v);
  std::vector<TransportedVersion> Take();
  size_t size() const;
  // Whether a version of `key` was added (since the collector was made: Take keeps the keys).
  bool Has(const std::string& key) const;
  // The keys of the versions added, sorted.
  std::vector<std::string> Keys() const;

 private:
  mutable std::mutex mu_;
  std::vector<TransportedVersion> items_;  // GUARDED_BY(mu_)
  std::set<std::string> keys_;             // GUARDED_BY(mu_)
};

// The unpack work of one archive for one destination (the "unpack" job of a replication run).
struct TransportUnpack {
  std::string archive;      // key under `staging`
  std::string staging;      // staging location name
  std::string destination;  // destination location name
  std::string region;       // the job's region
  std::string storage_class;  // the destination's override ("" = the entry's)
  uint64_t objects = 0;       // entries meant for it
  uint64_t bytes = 0;
};

struct PackedTransport {
  std::vector<TransportUnpack> unpacks;
  uint64_t archives = 0;
  uint64_t versions = 0;  // (version, destination) pairs packed
  // (version, destination) pairs recorded FAILED: their bytes, read twice alike, contradict
  // what the version declares (PackOptions::refused), a lasting failure of the version's own
  uint64_t refused = 0;
  uint64_t entries = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_wire = 0;  // archive bytes
};

struct PackTransportOptions {
  // The archive key of a staging location for this job (the same on every attempt).
  std::function<std::string(const std::string& staging)> archive_key;
  // Opened staging locations by name.
  std::map<std::string, storage::Backend*> staging;
  transport::TransportStore* archives = nullptr;
  transport::LevelStore* levels = nullptr;  // adaptive level (level 0); null: level 3
  bool retry = false;                       // an earlier attempt may have left an upload
  // The process's executor (required): the versions' reads are its tasks, their bytes in its
  // ByteBudget (transport::PackObjects). Not owned.
  transfer::Executor* executor = nullptr;
};

// Packs `items` (as collected, each key's versions in order) as described above; the rows
// recorded PENDING are stamped on o.clock (null: SystemClock::Default()).
Result<PackedTransport> PackTransported(const PassOptions& o, std::vector<TransportedVersion> items,
                                        const PackTransportOptions& t, std::stop_token stop);

// Where UnpackTransported reads, writes and records.
struct TransportedUnpackSides {
  storage::Backend& staging;
  storage::Backend& dst;
  StatusStore& status;
  transport::TransportStore& archives;
  std::string source_name;  // the rows' source
  // Before each write that makes a version visible (transport::UnpackOptions::before_write):
  // the job's lease fence. Null: none.
  std::function<Status()> before_write;
  // The process's executor (required): the writes are its tasks (transport::UnpackOptions).
  transfer::Executor* executor = nullptr;
  // Stamps the rows recorded COMPLETED (VersionStatus::updated_ns). Null: SystemClock::Default().
  Clock* clock = nullptr;
  // The SLA metrics of the versions written (sla.h). Null: obs::DefaultRegistry().
  obs::Registry* metrics = nullptr;
};

// Unpacks `u` from `sides.staging` into `sides.dst`, recording each version in `sides.status`.
// Returns what UnpackArchive did.
Result<transport::UnpackResult> UnpackTransported(const TransportUnpack& u,
                                                  const TransportedUnpackSides& sides,
                                                  std::stop_token stop);

// What the replica of an original must be besides its marks (claims any writer can copy): the
// original's size, and its ETag where both are MD5s of their bytes ("" = not one: an encrypted
// or multipart ETag, or unknown).
struct ReplicaFacts {
  uint64_t size = 0;
  std::string md5_etag;
};

// The version of `key` on `dst` that is the replica of the original whose replica marks are
// `marks` (MarkReplica's metadata; IsReplicaOf decides) and that agrees with `facts`, among the
// key's 16 newest versions; nullopt when none (or `dst` keeps no versions). A version that
// cannot be read (other than gone) is an error, never "none": the caller would write the
// version twice. The unstamped first version an interrupted chunked commit leaves right below
// its replica (completed, copied onto itself with its ferry-crc32c, and killed before deleting
// the first; the same ETag and size) is deleted, as the commit would have: each source version
// has one version at the destination.
Result<std::optional<std::string>> FindReplicaOf(storage::Backend& dst, const std::string& key,
                                                 const std::map<std::string, std::string>& marks,
                                                 const ReplicaFacts& facts, std::stop_token stop);

// The message of a PENDING row whose version was packed into `archive` (on `staging`):
// "packed in <archive> at <staging>".
std::string PackedMessage(const std::string& staging, const std::string& archive);
bool IsPackedMessage(const std::string& message);

// The message of a PENDING row whose version an event's job left for the run's pack job
// (PassOptions::queue_transported): "queued for transport". Nothing has written such a
// version: a pass that meets the row packs it without looking for a replica first.
std::string QueuedMessage();
bool IsQueuedMessage(const std::string& message);

// How a continuous run batches its transported versions (Transport::max_delay, batch_*): one
// pack job serves every staging location of the run, so it takes the shortest delay and the
// smallest limits of the run's transported destinations. `max_delay` 0 (also: no transported
// destination): no batching, each event's job packs its own versions.
struct PackBatching {
  std::chrono::seconds max_delay{0};
  uint64_t objects = 0;
  uint64_t bytes = 0;
  bool enabled() const { return max_delay.count() > 0; }
};
PackBatching BatchingOf(const RuleSet& rules);

// PassOptions::in_transit for a keys job: true when `row` (PENDING, packed) was packed into an
// archive other than the job's own (`archive_key` of its staging) whose progress row for the
// row's destination is not done: that archive's unpack job writes it.
std::function<Result<bool>(const VersionStatus&)> InTransit(
    transport::TransportStore& archives,
    std::function<std::string(const std::string& staging)> archive_key);

// The archive keys of one replication run on its staging locations: "r<run>-j<job>-<8 hex>.fza",
// the hex digits the CRC32C of the run's source, creation time and the staging location's
// name, so that the passes of two state stores staging into one prefix never share a key (nor
// take each other's archives for their own).
struct RunArchiveNames {
  int64_t run = 0;
  std::string source;         // the run's source (RunSpec::source)
  int64_t created_ticks = 0;  // the run's creation time, time_since_epoch().count()

  // The key of the archive of job `job` on `staging` (the same on every attempt).
  std::string KeyOf(int64_t job, const std::string& staging) const;
  // "r<run>-j": every archive of the run starts with it (so may another store's).
  std::string Prefix() const;
  // Whether `key` is an archive of this run on `staging` (its hex digits too).
  bool IsOfRun(const std::string& staging, std::string_view key) const;
};

// What DiscardRunArchives removed.
using DiscardedArchives = transport::DiscardedArchives;

// `ferry replicate --restart`: the archives of the discarded run `run` leave staging. On each of
// `staging` (the run's staging locations by name): every archive of the run is deleted (those
// with unpack jobs left, those packed by a job killed before it could enqueue them), every
// unfinished upload of one is aborted (a pack killed mid-archive), and every progress row of the
// run's archives not done becomes done. The versions they carried keep their PENDING rows:
// the next pass looks for them at each destination by their replica marks (an archive unpacked
// in part) and packs the rest again, as it does for a version whose archive was unpacked
// (InTransit is false for a done archive). Call it once no job of the run can run any more
// (its leases ended): an unpack still running could otherwise finish on a deleted archive.
// Idempotent. Errors: the staging backends' (deletes, listings), the store's.
Result<DiscardedArchives> DiscardRunArchives(const RunArchiveNames& run,
                                             const std::map<std::string, storage::Backend*>& staging,
                                             transport::TransportStore& archives,
                                             std::stop_token stop);

}  // namespace ferry::replicate
