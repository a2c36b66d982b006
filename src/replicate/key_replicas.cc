// Replica recognition of one key's pass (see key_replicas.h).
#include "replicate/key_replicas.h"

#include <utility>

namespace ferry::replicate::internal {

using storage::ObjectInfo;

bool ReplicaRowHolds(const VersionStatus& row, const Connected& connected) {
  if (row.message == kReplicaRowWrittenHere) return true;
  if (row.message.compare(0, kReplicaRowOf.size(), kReplicaRowOf) != 0) return false;
  return connected.contains(std::string_view(row.message).substr(kReplicaRowOf.size()));
}

std::optional<std::string> ReplicaByStore(const std::set<std::string>& written_here,
                                          const ObjectInfo& v) {
  if (written_here.count(VersionName(v)) == 0) return std::nullopt;
  return std::string(kReplicaRowWrittenHere);
}

std::optional<std::string> ReplicaByMarks(const ObjectInfo& details, std::string_view source,
                                          const Connected& connected) {
  if (!IsReplica(details, source, connected)) return std::nullopt;
  return std::string(kReplicaRowOf) + details.metadata.at(kMetaReplicaOrigin);
}

SourceVersionsSeen::SourceVersionsSeen(std::string source, const Connected& connected,
                                       const std::vector<VersionStatus>& rows,
                                       const std::set<std::string>& written_here)
    : source_(std::move(source)), connected_(connected), rows_(rows), written_here_(written_here) {}

void SourceVersionsSeen::Learn(const ObjectInfo& d, const std::string& version) {
  if (IsReplica(d, source_, connected_)) {
    replica_orders_[version] = OrderOf(d, source_, connected_);
  } else {
    originals_.insert(version);
  }
}

bool SourceVersionsSeen::KnownReplica(const std::string& version) const {
  if (written_here_.count(version) || replica_orders_.count(version)) return true;
  for (const VersionStatus& r : rows_) {
    if (r.source_version == version && r.state == VersionState::kReplica) return true;
  }
  return false;
}

bool SourceVersionsSeen::KnownOriginal(const ObjectInfo& v) const {
  const std::string version = VersionName(v);
  if (originals_.count(version)) return true;
  if (KnownReplica(version)) return false;
  for (const VersionStatus& r : rows_) {
    if (r.source_version == version) return true;
  }
  return false;
}

std::optional<WriteOrder> SourceVersionsSeen::ReplicaOrder(const std::string& version) const {
  auto it = replica_orders_.find(version);
  if (it == replica_orders_.end()) return std::nullopt;
  return it->second;
}

ReplicaSought SoughtReplicaOf(const ObjectInfo& details, std::string_view source,
                              const Connected& connected) {
  ReplicaSought sought;
  MarkReplica(details, source, connected, sought.marks);
  sought.facts = ReplicaFacts{.size = details.size,
                              .md5_etag = details.etag_is_md5() ? details.etag : std::string()};
  return sought;
}

bool MayHaveLanded(const VersionStatus* row, const ObjectInfo& v) {
  if (row == nullptr || v.delete_marker) return false;
  const bool queued = row->state == VersionState::kPending && IsQueuedMessage(row->message);
  return !queued &&
         (row->state == VersionState::kPending || row->state == VersionState::kFailed);
}

std::optional<std::chrono::system_clock::time_point> InFlightUntil(
    const VersionStatus& row, std::chrono::system_clock::time_point now) {
  const auto pending_at = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(row.updated_ns)));
  const auto settled = pending_at + kWriteInFlightGrace;
  if (now >= settled || IsPackedMessage(row.message)) return std::nullopt;
  return settled;
}

}  // namespace ferry::replicate::internal
