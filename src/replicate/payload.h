// What a durable replication pass stores in its run and jobs (JSON, nlohmann-json), so that a
// `ferry worker` on another machine rebuilds the pass from them and its own config file (the
// remotes the locations name):
//
//   run options, beside the jobs' own (jobs/payload.h), "replicate":
//     {"source":name, "rules":[{"id", "priority", "enabled", "prefix", "tags":[[k,v]...],
//       "destinations":[{"location", "storage_class"[, "transport":{"staging", "region",
//       "level"[, "max_delay_s", "batch_objects", "batch_bytes"]}]}], "delete_markers",
//       "existing_objects",
//       "versions":"all"|"latest", "replica_modifications"}],
//      "concurrency":n, "retry_failed":bool, "batch_versions":n, "multipart_threshold":n,
//      "part_size":n, "server_side_copy_limit":n}
//   replicate-event: {"k":key, "t":unix ns of the oldest event it stands for (0: unknown),
//                     "n":events it stands for}
//   replicate-pack: {} (the run's versions waiting to be packed are in the status store)
//   replicate-keys: {"keys":[{"k":key, "v":[{"i":version_id, "s":size, "e":etag,
//                    "m":mtime_ns, "c":class, "d":delete_marker, "l":is_latest}...]}...]}
//                    (versions oldest first)
//
// A key is a JSON string when it is UTF-8 and {"hex":...} otherwise (a local file name is
// bytes), so every key round-trips exactly. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "replicate/pass.h"
#include "replicate/rules.h"
#include "replicate/transport.h"

namespace ferry::replicate {

// A pass as a durable run stores it: what PassOptions holds besides opened backends.
struct DurablePass {
  std::string source;  // the source's location name (as rules name destinations)
  RuleSet rules;       // validated, destinations by location name
  int concurrency = 16;
  bool retry_failed_only = false;
  uint64_t batch_versions = 200;  // versions per replicate-keys job (a key is never split)
  uint64_t multipart_threshold = 64ull << 20;
  uint64_t part_size = 16ull << 20;
  uint64_t server_side_copy_limit = 5ull << 30;
};

// The "replicate" member of the run's options JSON: EncodeDurablePass adds it to `run_options`
// (a JSON object, the jobs' RunOptions) and returns the whole; DecodeDurablePass reads it back.
// kInvalidArgument for text that is not such an object, or one without "replicate".
Result<std::string> EncodeDurablePass(const DurablePass& pass, const std::string& run_options);
Result<DurablePass> DecodeDurablePass(const std::string& run_options);

// The unpack job of a transported archive for one destination (transport.h):
//   {"archive":key, "staging":name, "destination":name, "region":name, "storage_class":c,
//    "objects":n, "bytes":n}
std::string EncodeTransportUnpack(const TransportUnpack& u);
Result<TransportUnpack> DecodeTransportUnpack(const std::string& json);

// The kind of the jobs below.
inline constexpr char kReplicateEventKind[] = "replicate-event";

// The replicate-event job of one key (`ferry serve`'s event intake): the key's versions are
// listed and replicated when it runs (events are hints: the source is read before acting).
struct EventWork {
  std::string key;
  int64_t first_event_ns = 0;  // when the oldest event it stands for happened (0: unknown)
  uint64_t events = 1;         // how many events it stands for
};
// The replicate-pack job of a continuous run (`ferry serve`) with compressed transport: packs
// the versions that event jobs left waiting (QueuedMessage rows, transport.h) into archives.
// At most one waits per coalesce key: kPackLater (due max_delay after the first version
// waited) and kPackNow (enough waits for a batch, or the rest of one that was cut).
inline constexpr char kReplicatePackKind[] = "replicate-pack";
inline constexpr char kPackLater[] = "transport-pack";
inline constexpr char kPackNow[] = "transport-pack-now";

std::string EncodeEventWork(const EventWork& work);
Result<EventWork> DecodeEventWork(const std::string& json);

std::string EncodeKeyBatch(const std::vector<KeyVersions>& keys);
Result<std::vector<KeyVersions>> DecodeKeyBatch(const std::string& json);

}  // namespace ferry::replicate
