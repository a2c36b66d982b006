// replica_modifications: tag changes made on either side of a replicated version flow to the
// other side (see pass.h and docs/design/replication.md, "Replica modifications").
//
// S3 gives no cheap signal that tags changed: PutObjectTagging changes neither the version's
// ETag nor its time, and listings carry no tags. So the pass reads the tags of each key's
// current version (a HEAD, and GetObjectTagging when it counts some), only for keys whose
// current version some rule with replica_modifications has replicated (or that is a replica
// of such a destination), and compares them with the digest recorded when both sides last
// agreed. Metadata changes need nothing here: in S3 they make a new version, which the pass
// replicates like any other.
#include "obs/log.h"
#include "replicate/pass_internal.h"
#include "replicate/replica.h"

namespace ferry::replicate::internal {
namespace {

const Rule* RuleById(const RuleSet& rules, std::string_view id) {
  for (const Rule& r : rules.rules) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

// Whether an enabled rule of this pass whose prefix starts `key` sends it to `location` with
// replica_modifications.
bool SyncsTo(const RuleSet& rules, std::string_view key, std::string_view location) {
  for (const Rule& r : rules.rules) {
    if (!r.enabled || !r.replica_modifications || !key.starts_with(r.prefix)) continue;
    for (const Destination& d : r.destinations) {
      if (d.location == location) return true;
    }
  }
  return false;
}

// One pair to compare: the status row that records it, and the other side's version.
struct Pair {
  VersionStatus row;
  storage::Backend* other = nullptr;
  std::string other_name;
  std::string other_version;
};

}  // namespace

Status SyncTags(const PassOptions& o, const KeyWork& work,
                const std::map<std::string, storage::Tags>& read_tags, PassStats& stats,
                SlaMetrics& sla, std::stop_token stop) {
  if (o.dry_run || work.versions.empty()) return Status::Ok();
  const storage::ObjectInfo& current = work.versions.back();
  if (!current.is_latest || current.delete_marker) return Status::Ok();
  const std::string name = VersionName(current);
  std::vector<Pair> pairs;
  // The current version is an original this source replicated ...
  for (const VersionStatus& r : work.rows) {
    if (r.source_version != name || r.state != VersionState::kCompleted ||
        r.dest_version.empty()) {
      continue;
    }
    const Rule* rule = RuleById(*o.rules, r.rule);
    auto dst = o.destinations.find(r.destination);
    if (rule == nullptr || !rule->enabled || !rule->replica_modifications ||
        dst == o.destinations.end()) {
      continue;
    }
    pairs.push_back({r, dst->second, r.destination, r.dest_version});
  }
  // ... or a replica a pass from a destination of this one wrote here.
  for (const VersionStatus& r : work.written_rows) {
    if (r.dest_version != name || r.state != VersionState::kCompleted) continue;
    auto dst = o.destinations.find(r.source);
    if (dst == o.destinations.end() || !SyncsTo(*o.rules, work.key, r.source)) continue;
    pairs.push_back({r, dst->second, r.source, r.source_version});
  }
  if (pairs.empty()) return Status::Ok();
  storage::Tags tags;
  if (auto it = read_tags.find(name); it != read_tags.end()) {
    tags = it->second;
  } else {
    Result<storage::ObjectInfo> d =
        name == "null" ? o.source->Stat(work.key, true, stop)
                       : o.source->StatVersion(work.key, current.version_id, true, stop);
    if (!d.ok()) {
      stats.failed.fetch_add(1);
      obs::Log(obs::Level::kWarn, "reading the tags of " + work.key + " at " + o.source_name +
                                      " failed: " + d.status().message());
      return Status::Ok();
    }
    tags = d->tags.value_or(storage::Tags{});
  }
  const std::string digest = TagsDigest(tags);
  for (Pair& p : pairs) {
    if (p.row.tags_digest == digest) continue;
    Status s = p.other->PutVersionTags(work.key, p.other_version, tags, stop);
    if (!s.ok()) {
      stats.failed.fetch_add(1);
      obs::Log(obs::Level::kWarn, "copying the tags of " + work.key + " to " + p.other_name +
                                      " failed: " + s.message());
      continue;
    }
    stats.tags_synced.fetch_add(1);
    p.row.tags_digest = digest;
    FERRY_RETURN_IF_ERROR(o.store->Record(p.row));
    if (o.scan_repairs) sla.Repaired(p.row, kRepairTags);
  }
  return Status::Ok();
}

}  // namespace ferry::replicate::internal
