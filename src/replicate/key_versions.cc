// Which versions of a key a pass wants (see key_versions.h).
#include "replicate/key_versions.h"

#include <chrono>
#include <set>

#include "replicate/key_replicas.h"
#include "replicate/pass_internal.h"

namespace ferry::replicate::internal {

using storage::ObjectInfo;

const VersionStatus* FindKeyRow(const std::vector<VersionStatus>& rows, std::string_view rule,
                                std::string_view destination, std::string_view version) {
  for (const VersionStatus& r : rows) {
    if (r.rule == rule && r.destination == destination && r.source_version == version) return &r;
  }
  return nullptr;
}

bool HasFailedRow(const std::vector<VersionStatus>& rows, const ObjectInfo& v) {
  const std::string version = VersionName(v);
  for (const VersionStatus& r : rows) {
    if (r.source_version == version && r.state == VersionState::kFailed) return true;
  }
  return false;
}

bool VersionDone(const VersionStatus* row, const ObjectInfo& v, const Connected& connected) {
  if (row == nullptr) return false;
  if (row->state == VersionState::kReplica) return ReplicaRowHolds(*row, connected);
  // An unversioned source rewrites version "null": done only for the same bytes.
  return row->state == VersionState::kCompleted &&
         (VersionName(v) != "null" || row->source_etag == v.etag);
}

bool StillRefused(const VersionStatus* row, const ObjectInfo& v, bool retry_failed_only) {
  return !retry_failed_only && row != nullptr && IsLastingRefusal(*row) &&
         row->source_etag == v.etag;
}

bool RuleWants(const Rule& rule, const ObjectInfo& v, const VersionStatus* row, bool undeleted,
               const VersionRules& r) {
  if (rule.versions == VersionsMode::kLatest && !v.is_latest) return false;
  if (v.delete_marker && !rule.delete_markers) return false;
  if (!rule.existing_objects) {
    auto it = r.first_seen_ns.find(rule.id);
    const int64_t ns =
        std::chrono::duration_cast<std::chrono::nanoseconds>(v.mtime.time_since_epoch()).count();
    if (it != r.first_seen_ns.end() && ns <= it->second) return false;
  }
  if (r.retry_failed_only) return row != nullptr && row->state == VersionState::kFailed;
  return !VersionDone(row, v, r.connected) || undeleted;
}

VersionVerdict JudgeVersion(const Rule& rule, const ObjectInfo& v, const VersionStatus* row,
                            bool undeleted, const VersionRules& r) {
  if (VersionDone(row, v, r.connected) && !undeleted && !r.retry_failed_only) {
    return row->state == VersionState::kReplica ? VersionVerdict::kReplica
                                                : VersionVerdict::kDone;
  }
  if (StillRefused(row, v, r.retry_failed_only)) return VersionVerdict::kRefused;
  return RuleWants(rule, v, row, undeleted, r) ? VersionVerdict::kWanted
                                               : VersionVerdict::kNotWanted;
}

bool EncryptedNotSelected(const Rule& rule, const ObjectInfo& details) {
  return details.etag_opaque && !rule.sse_kms_objects;
}

bool KeyMayWrite(std::string_view source, const RuleSet& rules, const PassScope& scope,
                 const KeyWork& work) {
  if (!scope.two_way.empty() || !work.written_rows.empty()) return true;
  const Connected connected = ConnectedLocations(source, rules);
  std::set<std::string> listed;
  for (const ObjectInfo& v : work.versions) listed.insert(VersionName(v));
  for (const VersionStatus& r : work.rows) {
    if (!listed.count(r.source_version)) return true;
  }
  for (const Rule& rule : rules.rules) {
    if (!rule.enabled || work.key.compare(0, rule.prefix.size(), rule.prefix) != 0) continue;
    if (rule.replica_modifications) return true;
    for (const Destination& d : rule.destinations) {
      for (const ObjectInfo& v : work.versions) {
        const std::string version = VersionName(v);
        bool done = false;
        for (const VersionStatus& r : work.rows) {
          done = done || (r.rule == rule.id && r.destination == d.location &&
                          r.source_version == version && VersionDone(&r, v, connected));
        }
        if (!done) return true;
      }
    }
  }
  return false;
}

}  // namespace ferry::replicate::internal
