// What one key's pass records and writes of a version (key.cc): its status row (with the SLA
// figures: pending since its write, the threshold it is held to), the reason a repair scan's
// write is counted under, and the write spec a replica is written with (its details, the
// replica marks). Pure functions over plain data; thread-safe. See docs/design/replication.md,
// "Status store", "Latency and SLA metrics" and "Replicas, two-way, convergence".
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "replicate/replica.h"
#include "replicate/rules.h"
#include "replicate/status_store.h"
#include "storage/backend.h"
#include "storage/object_info.h"

namespace ferry::replicate::internal {

// Where a row of the key's pass belongs: the pass's source, the winning rule and destination,
// the key, and when each rule was first seen (PassScope::first_seen_ns).
struct RowPlace {
  std::string_view source;
  const Rule& rule;
  std::string_view destination;
  std::string_view key;
  const std::map<std::string, int64_t>& first_seen_ns;
};

// The row of listed version `v` at `at` in `state`, updated at `now_ns`: pending since the
// version's write at the source (a write time ahead of `now_ns`, clocks disagreeing, or none,
// counts from `now_ns`), held to its rule's threshold (ThresholdNsFor: none for a version
// written before the rule was first seen).
VersionStatus NewKeyRow(const RowPlace& at, const storage::ObjectInfo& v, VersionState state,
                        int64_t now_ns);

// The reason a repair scan's write of `v` (PassOptions::scan_repairs) is counted under
// (SlaMetrics::Repaired): no row before it (kRepairMissed), a FAILED row (kRepairFailed), any
// other (kRepairInterrupted). `before`: the row as listed. nullopt: not counted, the version
// predates its rule `rule_id` (the backfill of existing objects, which no event was to bring).
std::optional<std::string_view> RepairReasonOf(
    const VersionStatus* before, const storage::ObjectInfo& v, const std::string& rule_id,
    const std::map<std::string, int64_t>& first_seen_ns);

// The spec a replica of `d` (a version of `origin`, with details) is written with: its size,
// content headers, metadata (ferry-mtime added when absent, the replica marks: MarkReplica),
// tags, storage class, write time and additional checksum (the value only for a full-object
// one). The object lock and a destination's overrides are the caller's.
storage::WriteSpec ReplicaSpecOf(const storage::ObjectInfo& d, std::string_view origin,
                                 const Connected& connected);

}  // namespace ferry::replicate::internal
