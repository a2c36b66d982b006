// ferry catalog prune BACKUP_LOC [--keep-last N] [--keep-within DURATION] [--dry-run] [--json]:
// retention of a backup location (backup/catalog_prune.h, docs/design/backup.md). Versions
// outside the policy are forgotten by the catalog; archives none of whose entries is kept are
// deleted from the location (after their rows); archives with some kept entries stay whole.
// --dry-run prints what would go and changes nothing.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <optional>
#include <string>
#include <nlohmann/json.hpp>

#include "app/backup_prune.h"
#include "app/delete_limits.h"
#include "app/wiring.h"
#include "base/clock.h"
#include "cli/commands/backup_internal.h"
#include "plan/filter.h"
#include "storage/key.h"
#include "transfer/progress.h"
#include "backup/catalog_prune.h"

namespace ferry::cli {
namespace {

std::string Bytes(uint64_t n) { return transfer::HumanBytes(static_cast<double>(n)); }

void Print(const PruneArgs& a, const BackupLocation& loc, const backup::PruneResult& r) {
  const backup::PrunePlan& p = r.plan;
  uint64_t partly_bytes = 0, partly_entries = 0;
  for (const auto& k : p.partly_kept) {
    partly_bytes += k.dropped_bytes;
    partly_entries += k.dropped_entries;
  }
  if (a.json) {
    nlohmann::json archives = nlohmann::json::array();
    for (const auto& d : p.doomed) {
      archives.push_back({{"archive", d.archive}, {"bytes", d.archive_bytes}});
    }
    const nlohmann::json j = {{"backup", loc.text},
                              {"dry_run", a.dry_run},
                              {"versions_dropped", p.dropped.size()},
                              {"tombstones_dropped", p.dropped_tombstones.size()},
                              {"versions_kept", p.kept},
                              {"archives_deleted", a.dry_run ? p.doomed.size()
                                                             : r.archives_deleted},
                              {"archives", archives},
                              {"bytes_freed", a.dry_run ? p.doomed_bytes : r.bytes_freed},
                              {"archives_kept_whole", p.partly_kept.size()},
                              {"bytes_kept_in_them", partly_bytes},
                              {"earlier_archives_deleted", r.earlier_doomed},
                              {"ok", true}};
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  if (a.dry_run) {
    for (const auto& e : p.dropped) {
      std::printf("would drop: %s %12" PRIu64 " %s  %s#%" PRIu64 "\n",
                  TimeText(e.backed_up_ms).c_str(), e.size, storage::PrintableKey(e.key).c_str(),
                  e.archive.c_str(), e.entry);
    }
    for (const auto& d : p.doomed) {
      std::printf("would delete: %s (%s)\n", d.archive.c_str(), Bytes(d.archive_bytes).c_str());
    }
  }
  std::fprintf(stderr,
               "catalog prune%s: %zu versions %s (%zu tombstones), %" PRIu64 " kept; %zu "
               "archives %s (%s %s)\n",
               a.dry_run ? " (dry run)" : "", p.dropped.size(),
               a.dry_run ? "would be dropped" : "dropped", p.dropped_tombstones.size(), p.kept,
               p.doomed.size(), a.dry_run ? "would be deleted" : "deleted",
               Bytes(a.dry_run ? p.doomed_bytes : r.bytes_freed).c_str(),
               a.dry_run ? "would be freed" : "freed");
  if (!p.partly_kept.empty()) {
    std::fprintf(stderr,
                 "catalog prune: %zu archives kept whole: they still hold kept versions beside "
                 "%" PRIu64 " dropped ones (%s; repacking them is not done)\n",
                 p.partly_kept.size(), partly_entries, Bytes(partly_bytes).c_str());
  }
  if (r.earlier_doomed > 0) {
    std::fprintf(stderr, "catalog prune: %" PRIu64 " archives an interrupted prune left deleted\n",
                 r.earlier_doomed);
  }
}

}  // namespace

int RunCatalogPrune(const PruneArgs& a, Context& ctx) {
  backup::RetentionPolicy policy;
  policy.keep_last = a.keep_last;
  if (!a.keep_within.empty()) {
    auto age = plan::ParseAge(a.keep_within);
    if (!age.ok()) return ReportError(age.status().WithContext("--keep-within"));
    policy.keep_within_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*age).count();
  }
  if (!policy.any()) {
    return ReportError(
        Status::InvalidArgument("catalog prune: give --keep-last N and/or --keep-within DURATION"));
  }
  // --max-delete, checked before anything is opened; else the config's [catalog] max_delete
  // (app/delete_limits.h): the versions the plan would forget, of those held at the location.
  if (auto flag = app::ResolveDeleteLimit(a.max_delete, std::nullopt, ""); !flag.ok()) {
    return ReportError(flag.status());
  }
  auto opened = OpenBackup(ctx.global.config_path, a.location, a.state, ctx.stop);
  if (!opened.ok()) return ReportError(opened.status());
  auto limit = app::ResolveDeleteLimit(a.max_delete, opened->wiring->config().catalog.max_delete,
                                       "[catalog] max_delete");
  if (!limit.ok()) return ReportError(limit.status());
  const BackupLocation* loc = &opened->location;
  auto r = app::PruneBackupLocation(*opened->catalog.store, *opened->backend, *loc, policy,
                                    a.dry_run, SystemClock::Default(), ctx.stop,
                                    app::PruneDeleteCheck(*limit, a.dry_run));
  if (!r.ok()) return ReportError(r.status());
  Print(a, *loc, *r);
  return 0;
}

}  // namespace ferry::cli
