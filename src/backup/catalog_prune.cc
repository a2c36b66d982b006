// Retention of a backup location: the policy (pure) and the prune in its crash order
// (contracts in catalog_prune.h).
#include "backup/catalog_prune.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

namespace ferry::backup {
namespace {

// One state of a key: a version (entry != nullptr) or its deletion.
struct State {
  int64_t ms = 0;
  const CatalogEntry* entry = nullptr;
  const Tombstone* tombstone = nullptr;
};

// Newest first; at the same time a deletion is newer (a tombstone as new as an entry hides it).
bool StateNewer(const State& a, const State& b) {
  if (a.ms != b.ms) return a.ms > b.ms;
  if ((a.tombstone != nullptr) != (b.tombstone != nullptr)) return a.tombstone != nullptr;
  if (a.entry != nullptr && b.entry != nullptr) return NewerThan(*a.entry, *b.entry);
  return false;
}

// Plans one key: appends what goes to `plan`, marks kept entries in `kept`.
void PlanKey(std::vector<State>& states, const RetentionPolicy& policy, int64_t now_ms,
             PrunePlan& plan, std::set<const CatalogEntry*>& kept) {
  std::sort(states.begin(), states.end(), StateNewer);
  const int64_t window_start =
      policy.keep_within_ms > 0 ? now_ms - policy.keep_within_ms
                                : std::numeric_limits<int64_t>::max();
  int64_t oldest_kept = std::numeric_limits<int64_t>::max();
  for (size_t i = 0; i < states.size(); ++i) {
    const State& s = states[i];
    if (s.entry == nullptr) continue;
    const bool newest_live = i == 0;
    const bool last_n = i < policy.keep_last;
    // Current until the next newer state (the newest: still current).
    const int64_t superseded = i == 0 ? std::numeric_limits<int64_t>::max() : states[i - 1].ms;
    const bool within = policy.keep_within_ms > 0 && superseded > window_start;
    if (newest_live || last_n || within) {
      kept.insert(s.entry);
      oldest_kept = std::min(oldest_kept, s.ms);
    } else {
      plan.dropped.push_back(*s.entry);
    }
  }
  for (const State& s : states) {
    // A tombstone hides the kept versions older than it; with none, it goes with them.
    if (s.tombstone != nullptr && s.ms < oldest_kept) {
      plan.dropped_tombstones.push_back(*s.tombstone);
    }
  }
}

}  // namespace

PrunePlan PlanPrune(std::span<const CatalogEntry> entries, std::span<const Tombstone> tombstones,
                    std::span<const CatalogArchive> archives, const RetentionPolicy& policy,
                    int64_t now_ms) {
  std::map<std::string, std::vector<State>> by_key;
  for (const CatalogEntry& e : entries) {
    by_key[e.key].push_back(State{.ms = e.backed_up_ms, .entry = &e, .tombstone = nullptr});
  }
  for (const Tombstone& t : tombstones) {
    by_key[t.key].push_back(State{.ms = t.deleted_ms, .entry = nullptr, .tombstone = &t});
  }
  PrunePlan plan;
  std::set<const CatalogEntry*> kept;
  for (auto& key_states : by_key) PlanKey(key_states.second, policy, now_ms, plan, kept);
  plan.kept = kept.size();
  // Per archive: entries kept and dropped.
  struct Use {
    uint64_t kept = 0;
    uint64_t dropped = 0;
    uint64_t dropped_bytes = 0;
  };
  std::map<std::string, Use> use;
  for (const CatalogEntry& e : entries) {
    Use& u = use[e.archive];
    if (kept.count(&e) != 0) {
      ++u.kept;
    } else {
      ++u.dropped;
      u.dropped_bytes += e.data_bytes;
    }
  }
  for (const CatalogArchive& a : archives) {
    const Use u = use.count(a.archive) != 0 ? use[a.archive] : Use{};
    if (u.kept == 0) {
      plan.doomed.push_back(a);
      plan.doomed_bytes += a.archive_bytes;
    } else if (u.dropped > 0) {
      plan.partly_kept.push_back(
          PartlyKept{.archive = a, .dropped_entries = u.dropped, .dropped_bytes = u.dropped_bytes});
    }
  }
  std::sort(plan.doomed.begin(), plan.doomed.end(),
            [](const CatalogArchive& a, const CatalogArchive& b) { return a.archive < b.archive; });
  return plan;
}

Result<PruneResult> PruneCatalog(CatalogStore& catalog, storage::Backend& backup,
                                 const PruneRequest& request, std::stop_token stop) {
  if (!request.policy.any()) {
    return Status::InvalidArgument("prune: give --keep-last N and/or --keep-within DURATION");
  }
  PruneResult result;
  // An interrupted prune's archives: their rows are gone, the objects maybe not.
  FERRY_ASSIGN_OR_RETURN(std::vector<CatalogArchive> earlier, catalog.Doomed(request.location));
  if (!request.dry_run) {
    for (const CatalogArchive& a : earlier) {
      FERRY_RETURN_IF_ERROR(backup.Delete(a.archive, stop).WithContext("deleting " + a.archive));
      FERRY_RETURN_IF_ERROR(catalog.ForgetDoomed(request.location, a.archive));
      ++result.earlier_doomed;
      result.bytes_freed += a.archive_bytes;
    }
  }
  // A backup may record archives while this reads. The archives are read first: every one
  // listed then has its entries in the entries read after it (an archive and its entries are
  // recorded in one transaction), so none is doomed for entries not yet seen. One recorded in
  // between is not planned at all; ForgetRows keeps any that gained entries since.
  FERRY_ASSIGN_OR_RETURN(std::vector<CatalogArchive> archives, catalog.Archives(request.location));
  std::vector<CatalogEntry> entries;
  FERRY_RETURN_IF_ERROR(catalog.Visit(request.location, "", [&](const CatalogEntry& e) {
    entries.push_back(e);
    return Status::Ok();
  }));
  FERRY_ASSIGN_OR_RETURN(std::vector<Tombstone> tombstones,
                         catalog.Tombstones(request.location, ""));
  result.plan = PlanPrune(entries, tombstones, archives, request.policy, request.now_ms);
  if (request.approve) FERRY_RETURN_IF_ERROR(request.approve(result.plan));
  if (request.dry_run) return result;
  const PrunePlan& plan = result.plan;
  // Rows first (one transaction), so that no row ever points into a deleted archive.
  FERRY_ASSIGN_OR_RETURN(
      const std::vector<CatalogArchive> doomed,
      catalog.ForgetRows(plan.dropped, plan.dropped_tombstones, plan.doomed));
  for (const CatalogArchive& a : doomed) {
    if (stop.stop_requested()) return Status::Cancelled("prune interrupted; run it again");
    FERRY_RETURN_IF_ERROR(backup.Delete(a.archive, stop).WithContext("deleting " + a.archive));
    FERRY_RETURN_IF_ERROR(catalog.ForgetDoomed(request.location, a.archive));
    ++result.archives_deleted;
    result.bytes_freed += a.archive_bytes;
  }
  return result;
}

}  // namespace ferry::backup
