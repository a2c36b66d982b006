// KindRegistry: the job kinds a process knows, by name (handler.h). Builtin() holds scan,
// transfer and delete, registered in registry.cc, the one place that lists them. A test or a
// new capability copies it and registers more; the worker, AdvanceRun and `ferry jobs` ask the
// registry and never name a kind.
//
// Thread-safety: const methods are thread-safe; Register must not race with them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "jobs/kinds/handler.h"

namespace ferry::replicate {
struct PassStats;
}

namespace ferry::jobs {

// Replication passes as durable runs (`ferry replicate --state`, docs/design/replication.md).
inline constexpr char kReplicateScanKind[] = "replicate-scan";  // versions of a key range
inline constexpr char kReplicateKeysKind[] = "replicate-keys";  // a batch of keys' versions

class KindRegistry {
 public:
  // The built-in kinds (scan, transfer, delete, pack, unpack, replicate-scan, replicate-keys).
  static const KindRegistry& Builtin();

  // Adds a kind. kAlreadyExists when its name is taken, kInvalidArgument for an empty name or
  // a negative phase.
  Status Register(std::shared_ptr<const JobHandler> handler);
  // The handler of `kind`; nullptr when this process does not know it.
  const JobHandler* Find(std::string_view kind) const;
  // Every kind name, sorted.
  std::vector<std::string> Names() const;
  // The phase of `kind`; a kind this process does not know counts as phase 0 (its jobs then
  // hold back every later phase rather than being skipped).
  int PhaseOf(std::string_view kind) const;
  // Whether the objects and bytes of `kind` count toward progress (unknown kinds: yes).
  bool CountsProgress(std::string_view kind) const;
  // "scan,transfer" -> {"scan", "transfer"} (`ferry worker --kinds`): kInvalidArgument naming
  // the first name this registry does not know, and the known ones.
  Result<std::vector<std::string>> ParseKinds(std::string_view list) const;

 private:
  std::map<std::string, std::shared_ptr<const JobHandler>, std::less<>> handlers_;
};

// Progress of a run: the objects and bytes of the kinds that count toward it.
struct Progress {
  uint64_t objects_done = 0;
  uint64_t objects_total = 0;
  uint64_t bytes_done = 0;
  uint64_t bytes_total = 0;
};
Progress ProgressOf(const RunCounts& counts, const KindRegistry& kinds);

// The built-in handlers (one file each: scan_kind.cc, transfer_kind.cc, delete_kind.cc).
std::shared_ptr<const JobHandler> MakeScanHandler();
std::shared_ptr<const JobHandler> MakeTransferHandler();
std::shared_ptr<const JobHandler> MakeDeleteHandler();
// Compressed transport (pack_kind.cc, unpack_kind.cc).
std::shared_ptr<const JobHandler> MakePackHandler();
std::shared_ptr<const JobHandler> MakeUnpackHandler();
// Replication (replicate_scan_kind.cc, replicate_keys_kind.cc). `totals`, when given, also
// receives the counts of every replicate-keys job this handler runs (ferry replicate's summary).
std::shared_ptr<const JobHandler> MakeReplicateScanHandler();
std::shared_ptr<const JobHandler> MakeReplicateKeysHandler(replicate::PassStats* totals = nullptr);
// "replicate-event": one key of a continuous replication run, listed when the job runs
// (`ferry serve`'s event intake enqueues them).
std::shared_ptr<const JobHandler> MakeReplicateEventHandler(replicate::PassStats* totals = nullptr);

}  // namespace ferry::jobs
