// Delete markers in one key's pass (see key_markers.h).
#include "replicate/key_markers.h"

#include "replicate/key_replicas.h"
#include "replicate/replica.h"

namespace ferry::replicate::internal {

using storage::ObjectInfo;

std::set<std::string> MarkerDirectDestinations(const RuleSet& rules, std::string_view key,
                                               const std::vector<ObjectInfo>& versions,
                                               const std::vector<VersionStatus>& rows,
                                               const VersionRules& r) {
  std::set<std::string> direct;
  for (const ObjectInfo& v : versions) {
    if (!v.delete_marker) continue;
    for (const Winner& w : WinningRules(rules, key, nullptr)) {
      if (!w.destination->transport.compress) continue;
      const VersionStatus* row =
          FindKeyRow(rows, w.rule->id, w.destination->location, VersionName(v));
      // A marker is never the current version written again after an undelete.
      if (RuleWants(*w.rule, v, row, /*undeleted=*/false, r)) {
        direct.insert(w.destination->location);
      }
    }
  }
  return direct;
}

uint64_t MarkerDeletes(const RuleSet& rules, std::string_view key,
                       const std::vector<ObjectInfo>& versions,
                       const std::vector<VersionStatus>& rows,
                       const std::set<std::string>& written_here, const VersionRules& r,
                       const std::function<bool(const std::string&)>& keeps_versions) {
  uint64_t deletes = 0;
  for (const ObjectInfo& v : versions) {
    if (!v.delete_marker || ReplicaByStore(written_here, v)) continue;
    for (const Winner& w : WinningRules(rules, key, nullptr)) {
      const std::string& dest = w.destination->location;
      if (keeps_versions(dest)) continue;
      const VersionStatus* row = FindKeyRow(rows, w.rule->id, dest, VersionName(v));
      // A marker is never the current version written again after an undelete.
      if (JudgeVersion(*w.rule, v, row, /*undeleted=*/false, r) == VersionVerdict::kWanted) {
        ++deletes;
      }
    }
  }
  return deletes;
}

UndoneDeletes FindUndoneDeletes(const std::vector<ObjectInfo>& versions,
                                const std::vector<VersionStatus>& rows) {
  UndoneDeletes undone;
  if (versions.empty()) return undone;
  const ObjectInfo& current = versions.back();
  if (!current.is_latest || current.delete_marker) return undone;
  std::set<std::string> listed;
  for (const ObjectInfo& v : versions) listed.insert(VersionName(v));
  for (const VersionStatus& marker : rows) {
    if (!marker.delete_marker || marker.state != VersionState::kCompleted ||
        !marker.dest_version.empty() || listed.count(marker.source_version)) {
      continue;
    }
    bool written_since = false;
    for (const VersionStatus& r : rows) {
      written_since = written_since ||
                      (r.rule == marker.rule && r.destination == marker.destination &&
                       !r.delete_marker && r.state == VersionState::kCompleted &&
                       r.updated_ns > marker.updated_ns);
    }
    if (!written_since) undone.insert({marker.rule, marker.destination});
  }
  return undone;
}

bool IsUndeleted(const VersionStatus* row, const ObjectInfo& v,
                 const std::vector<ObjectInfo>& versions, const UndoneDeletes& undone) {
  return row != nullptr && !undone.empty() && &v == &versions.back() &&
         undone.count({row->rule, row->destination}) != 0;
}

}  // namespace ferry::replicate::internal
