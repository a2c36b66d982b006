// What one key's pass records and writes of a version (see key_records.h).
#include "replicate/key_records.h"

#include <chrono>

#include "replicate/sla.h"

namespace ferry::replicate::internal {

using storage::ObjectInfo;

namespace {

int64_t KeyRecordNanos(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

int64_t FirstSeenOr0(const std::map<std::string, int64_t>& first_seen_ns, const std::string& id) {
  auto it = first_seen_ns.find(id);
  return it == first_seen_ns.end() ? 0 : it->second;
}

}  // namespace

VersionStatus NewKeyRow(const RowPlace& at, const ObjectInfo& v, VersionState state,
                        int64_t now_ns) {
  VersionStatus s;
  s.source = std::string(at.source);
  s.rule = at.rule.id;
  s.destination = std::string(at.destination);
  s.key = std::string(at.key);
  s.source_version = VersionName(v);
  s.state = state;
  s.source_etag = v.etag;
  s.delete_marker = v.delete_marker;
  s.updated_ns = now_ns;
  // SLA: pending since its write at the source (a time ahead of ours, clocks disagreeing,
  // counts from now).
  s.size = static_cast<int64_t>(v.size);
  const int64_t written = KeyRecordNanos(v.mtime);
  s.pending_since_ns = written > 0 && written <= s.updated_ns ? written : s.updated_ns;
  s.threshold_ns =
      ThresholdNsFor(at.rule, s.pending_since_ns, FirstSeenOr0(at.first_seen_ns, at.rule.id));
  return s;
}

std::optional<std::string_view> RepairReasonOf(
    const VersionStatus* before, const ObjectInfo& v, const std::string& rule_id,
    const std::map<std::string, int64_t>& first_seen_ns) {
  auto first_seen = first_seen_ns.find(rule_id);
  if (first_seen != first_seen_ns.end() && KeyRecordNanos(v.mtime) <= first_seen->second) {
    return std::nullopt;
  }
  return before == nullptr                          ? kRepairMissed
         : before->state == VersionState::kFailed ? kRepairFailed
                                                  : kRepairInterrupted;
}

storage::WriteSpec ReplicaSpecOf(const ObjectInfo& d, std::string_view origin,
                                 const Connected& connected) {
  storage::WriteSpec spec;
  spec.size = d.size;
  spec.content = d.content;
  spec.metadata = d.metadata;
  if (!spec.metadata.count(storage::kMetaMtime)) {
    spec.metadata[storage::kMetaMtime] = std::to_string(KeyRecordNanos(d.mtime));
  }
  MarkReplica(d, origin, connected, spec.metadata);
  spec.tags = d.tags;
  spec.storage_class = d.storage_class;
  spec.mtime = d.source_mtime();
  // The replica keeps the version's additional checksum (the store checks the bytes against
  // it; a whole copy sends the value the bytes read were checked against).
  if (d.checksum) {
    spec.checksum_algorithm = d.checksum->algorithm;
    if (d.checksum->full_object()) spec.checksum_value = d.checksum->value;
  }
  return spec;
}

}  // namespace ferry::replicate::internal
