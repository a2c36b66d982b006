// Two-way convergence of one key's pass (see key_two_way.h).
#include "replicate/key_two_way.h"

#include <memory>
#include <vector>

#include "obs/log.h"
#include "replicate/key_order.h"

namespace ferry::replicate::internal {
namespace {

using storage::ObjectInfo;

// The destination's versions from its newest down to the current one read before this pass
// wrote, those this pass did not make with their order (LatestIfAfter picks one to keep
// current). Nothing when the newest version is not this pass's (a write landed after ours: it
// is the newest, and the reverse pass orders it).
Result<std::optional<Ordered>> LaterThanOursAt(const TwoWayKey& k, storage::Backend& dst,
                                               const std::string& name,
                                               const KeyDestState& ds) {
  const std::string& key = k.work.key;
  FERRY_ASSIGN_OR_RETURN(std::unique_ptr<storage::ListingCursor> cursor,
                         dst.ListVersions(key, "", ""));
  std::vector<Ordered> theirs;
  bool newest = true;
  for (int looked = 0; looked < 64; ++looked) {
    FERRY_ASSIGN_OR_RETURN(const ObjectInfo* e, cursor->Next());
    if (e == nullptr || e->key != key) break;
    const bool mine = ds.ours.count(e->version_id) != 0;
    if (newest && !mine) return std::optional<Ordered>();
    newest = false;
    if (!mine && !e->delete_marker) {
      FERRY_ASSIGN_OR_RETURN(ObjectInfo d, dst.StatVersion(key, e->version_id, false, k.stop));
      d.key = key;
      d.version_id = e->version_id;
      d.mtime = e->mtime;
      theirs.push_back(Ordered{OrderOf(d, name, k.connected), e->version_id, e->mtime});
    }
    if (e->version_id == ds.current->version_id) break;
  }
  return LatestIfAfter(theirs, *ds.last_written);
}

// The replica of `theirs` a reverse rule wrote to the source (its COMPLETED row) made current
// on the source, and its row moved to the copy made.
Status SourceTakesTheirs(const TwoWayKey& k, const Ordered& theirs) {
  for (const VersionStatus& r : k.work.written_rows) {
    if (r.source != theirs.order.origin || r.source_version != theirs.order.version) continue;
    if (r.delete_marker || r.dest_version.empty()) continue;
    std::optional<std::string> made =
        k.writer.KeepCurrent(*k.o.source, k.o.source_name, r.dest_version);
    if (made) {
      VersionStatus moved = r;
      moved.dest_version = *made;
      FERRY_RETURN_IF_ERROR(k.o.store->Record(moved));
    }
    break;
  }
  return Status::Ok();
}

}  // namespace

Status KeepLatestCurrent(const TwoWayKey& k, const std::map<std::string, KeyDestState>& dests) {
  for (const auto& [name, ds] : dests) {
    if (!ds.current || !ds.last_written ||
        !MayBeLater(*ds.current, name, *ds.last_written, k.connected)) {
      continue;
    }
    storage::Backend& dst = *k.o.destinations.at(name);
    Result<std::optional<Ordered>> later = LaterThanOursAt(k, dst, name, ds);
    if (!later.ok()) {
      k.stats.failed.fetch_add(1);
      obs::Log(obs::Level::kWarn, "reading the versions of " + k.work.key + " at " + name +
                                      " failed: " + later.status().message());
      continue;
    }
    if (!*later) continue;
    const Ordered theirs = **later;
    k.writer.KeepCurrent(dst, name, theirs.version, theirs.listed);
    if (!SourceCurrentWasWritten(k.work.versions, k.o.source_name, *ds.last_written)) continue;
    FERRY_RETURN_IF_ERROR(SourceTakesTheirs(k, theirs));
  }
  return Status::Ok();
}

Status HealCoveredWrite(const TwoWayKey& k, bool touched) {
  const std::vector<ObjectInfo>& versions = k.work.versions;
  if (!touched || versions.empty()) return Status::Ok();
  const ObjectInfo& current = versions.back();
  if (!current.is_latest || current.delete_marker) return Status::Ok();
  const std::string current_name = VersionName(current);
  std::optional<Ordered> best = LatestOriginal(versions, k.o.source_name, k.seen);
  if (!best || !k.seen.KnownReplica(current_name)) return Status::Ok();
  std::optional<WriteOrder> current_order = k.seen.ReplicaOrder(current_name);
  if (!current_order) {
    Result<ObjectInfo> d =
        current.version_id.empty()
            ? k.o.source->Stat(k.work.key, false, k.stop)
            : k.o.source->StatVersion(k.work.key, current.version_id, false, k.stop);
    if (!d.ok()) {
      k.stats.failed.fetch_add(1);
      obs::Log(obs::Level::kWarn, "reading the current version of " + k.work.key + " at " +
                                      k.o.source_name + " failed: " + d.status().message());
      return Status::Ok();
    }
    current_order = OrderOf(*d, k.o.source_name, k.connected);
  }
  if (*current_order < best->order) {
    k.writer.KeepCurrent(*k.o.source, k.o.source_name, best->version, best->listed);
  }
  return Status::Ok();
}

}  // namespace ferry::replicate::internal
