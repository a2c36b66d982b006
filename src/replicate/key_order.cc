// Order in one key's pass (see key_order.h).
#include "replicate/key_order.h"

#include <utility>

#include "replicate/key_versions.h"

namespace ferry::replicate::internal {

using storage::ObjectInfo;

const VersionStatus* WrittenAfter(const std::vector<ObjectInfo>& versions, const ObjectInfo& v,
                                  const std::vector<VersionStatus>& rows, std::string_view rule,
                                  std::string_view destination) {
  const VersionStatus* newest = nullptr;
  bool after = false;
  for (const ObjectInfo& later : versions) {
    if (after) {
      const VersionStatus* r = FindKeyRow(rows, rule, destination, VersionName(later));
      if (r != nullptr && r->state == VersionState::kCompleted) newest = r;
    }
    after = after || &later == &v;
  }
  return newest;
}

std::optional<std::string> SupersededMessage(const VersionStatus& newer) {
  if (!newer.dest_version.empty()) return std::nullopt;
  return "superseded: the destination keeps no versions and holds a newer one (" +
         newer.source_version + ")";
}

bool SourceCurrentWasWritten(const std::vector<ObjectInfo>& versions, std::string_view source,
                             const WriteOrder& written) {
  if (versions.empty()) return false;
  const ObjectInfo& newest = versions.back();
  return newest.is_latest && !newest.delete_marker && written.origin == source &&
         written.version == VersionName(newest);
}

bool MayBeLater(const ObjectInfo& current, std::string_view name, const WriteOrder& written,
                const Connected& connected) {
  WriteOrder bound = OrderOf(current, name, connected);
  if (!IsReplica(current, name, connected)) bound.time_ms += 999;
  return written < bound;
}

std::optional<Ordered> LatestIfAfter(const std::vector<Ordered>& theirs,
                                     const WriteOrder& last_written) {
  const Ordered* best = nullptr;
  for (const Ordered& o : theirs) {
    if (best == nullptr || best->order < o.order) best = &o;
  }
  if (best != nullptr && last_written < best->order) return *best;
  return std::nullopt;
}

std::optional<Ordered> LatestOriginal(const std::vector<ObjectInfo>& versions,
                                      std::string_view source, const SourceVersionsSeen& seen) {
  std::optional<Ordered> best;
  for (const ObjectInfo& v : versions) {
    if (v.delete_marker || !seen.KnownOriginal(v)) continue;
    Ordered o{WriteOrder{EpochMillis(v.mtime), std::string(source), VersionName(v)},
              v.version_id, v.mtime};
    if (!best || best->order < o.order) best = std::move(o);
  }
  return best;
}

}  // namespace ferry::replicate::internal
