// The summary of `ferry cp` / `ferry sync` (copy_internal.h): one JSON document on stdout, or
// lines on stderr. CLI scripts compare both byte for byte: a change here is a change of output.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands/copy_internal.h"
#include "cli/commands/metrics.h"
#include "transfer/progress.h"

namespace ferry::cli {
namespace {

// --compress's part of the JSON summary: the staged archives, the ratio, cost and levels.
nlohmann::json CopyTransportJson(const CopyArgs& a, const transfer::Stats& s) {
  const uint64_t wire = s.transport_bytes_wire.load();
  nlohmann::json transport = {
      {"staging", a.staging},
      {"archives", s.archives_staged.load()},
      {"entries", s.entries_packed.load()},
      {"bytes_in", s.transport_bytes_in.load()},
      {"bytes_wire", wire},
      {"ratio", wire == 0 ? 0.0
                          : static_cast<double>(s.transport_bytes_in.load()) /
                                static_cast<double>(wire)},
      {"archives_unpacked", s.archives_unpacked.load()},
      {"checksums_verified", s.entries_verified.load()},
      {"already_present", s.entries_already_present.load()}};
  AddCostJson(transport, s, a.cost);
  // The adaptive level: archives packed per content class and level.
  auto& levels = transport["levels"] = nlohmann::json::object();
  for (const auto& [cls, counts] : s.LevelsUsed()) {
    for (const auto& [level, n] : counts) levels[cls][std::to_string(level)] = n;
  }
  return transport;
}

// What the run cost at each store it sent requests to (docs/design/cost.md); a dry run's
// estimate adds the copies and deletes it planned to the listings it sent.
std::vector<StoreRunCost> CopyStoreCosts(const CopyArgs& a, const transfer::Stats& s) {
  std::vector<StoreRunCost> stores = MeasuredStoreCosts(*a.config);
  auto src = app::ParseLocation(a.src);
  auto dst = app::ParseLocation(a.dst);
  if (!src.ok() || !dst.ok()) return stores;
  if (a.dry_run) AddDryRunEstimate(stores, *a.config, *src, *dst, s);
  AddStoredBytes(stores, StoreLabelOf(*dst), s.bytes_copied.load(), a.storage_class);
  return stores;
}

nlohmann::json CopyStoreCostJson(const CopyArgs& a, const transfer::Stats& s) {
  nlohmann::json cost = StoreCostsJson(CopyStoreCosts(a, s));
  cost["estimate"] = a.dry_run;
  return cost;
}

void PrintCopyStoreCosts(const CopyArgs& a, const transfer::Stats& s) {
  for (const std::string& line : StoreCostLines(CopyStoreCosts(a, s))) {
    std::fprintf(stderr, "%s%s\n", a.dry_run ? "dry run estimate: " : "", line.c_str());
  }
}

// A durable run's part of the JSON summary (--state): the run, its jobs, where it is kept.
void AddCopyDurableJson(const DurableSummary& d, nlohmann::json& j) {
  j["run"] = d.run;
  j["resumed"] = d.resumed;
  j["jobs_dead"] = d.dead_jobs;
  j["state"] = d.state;
  j["state_kept"] = d.kept;
  j["state_transactions"] = d.state_transactions;
}

void PrintCopyJson(const CopyArgs& a, const transfer::Stats& s, const transfer::SyncResult& r,
                   const std::vector<transfer::Failure>& failures, uint64_t failed,
                   const DurableSummary* d, bool ok) {
  nlohmann::json j;
  j["command"] = a.move ? "move" : a.sync ? "sync" : "cp";
  j["source"] = a.src;
  j["destination"] = a.dst;
  j["dry_run"] = a.dry_run;
  j["ok"] = ok;
  if (!r.status.ok()) j["error"] = r.status.message();
  // The run's counters: the same table, and so the same atomics, that the metrics registry
  // reads (metrics.h StatsFields).
  for (const StatsField& f : StatsFields()) {
    if (f.json != nullptr) j[f.json] = (s.*f.member).load();
  }
  if (a.compress) j["transport"] = CopyTransportJson(a, s);
  if (a.config != nullptr) j["cost"] = CopyStoreCostJson(a, s);
  j["objects_failed"] = failed;
  j["retries"] = s.retries();
  j["deletes_skipped"] = r.deletes_skipped;
  j["seconds"] = r.seconds;
  j["peak_buffer_bytes"] = r.peak_buffer_bytes;
  if (d != nullptr) AddCopyDurableJson(*d, j);
  auto& list = j["failures"] = nlohmann::json::array();
  for (const auto& f : failures) {
    list.push_back({{"key", f.key}, {"action", f.action}, {"error", f.status.message()}});
  }
  std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// The failures kept (the first ones), and how many more there were.
void PrintCopyFailures(const std::vector<transfer::Failure>& failures, uint64_t failed) {
  for (const auto& f : failures) {
    std::fprintf(stderr, "failed: %s %s: %s\n", f.action.c_str(), f.key.c_str(),
                 f.status.message().c_str());
  }
  if (failed > failures.size()) {
    std::fprintf(stderr, "... and %llu more failures\n",
                 static_cast<unsigned long long>(failed - failures.size()));
  }
}

// The one line every run prints: listed, copied, unchanged, deleted, failed, time and rate.
void PrintCopyTotals(const CopyArgs& a, const transfer::Stats& s, const transfer::SyncResult& r,
                     uint64_t failed) {
  const double rate = r.seconds > 0 ? static_cast<double>(s.bytes_copied.load()) / r.seconds : 0;
  std::fprintf(stderr,
               "%s%s: %llu objects listed, %llu %s (%s), %llu unchanged, %llu %s, %llu failed "
               "in %.2f s (%s/s)\n",
               a.dry_run ? "dry run: " : "", a.move ? "move" : a.sync ? "sync" : "cp",
               static_cast<unsigned long long>(s.objects_listed.load()),
               static_cast<unsigned long long>(s.objects_copied.load()),
               a.dry_run ? "to copy" : "copied",
               transfer::HumanBytes(static_cast<double>(s.bytes_copied.load())).c_str(),
               static_cast<unsigned long long>(s.objects_skipped.load()),
               static_cast<unsigned long long>(s.objects_deleted.load()),
               a.dry_run ? "to delete" : "deleted", static_cast<unsigned long long>(failed),
               r.seconds, transfer::HumanBytes(rate).c_str());
}

// --compress (not a dry run): what was packed, staged and unpacked, its cost and zstd levels.
void PrintCopyTransportText(const CopyArgs& a, const transfer::Stats& s) {
  const uint64_t in = s.transport_bytes_in.load(), wire = s.transport_bytes_wire.load();
  std::fprintf(stderr,
               "compressed transport: %llu objects packed into %llu archives, %s in, %s on "
               "the wire (ratio %.2f, %llu stored raw); %llu archives unpacked, %llu "
               "checksums verified\n",
               static_cast<unsigned long long>(s.entries_packed.load()),
               static_cast<unsigned long long>(s.archives_staged.load()),
               transfer::HumanBytes(static_cast<double>(in)).c_str(),
               transfer::HumanBytes(static_cast<double>(wire)).c_str(),
               wire == 0 ? 0.0 : static_cast<double>(in) / static_cast<double>(wire),
               static_cast<unsigned long long>(s.entries_stored_raw.load()),
               static_cast<unsigned long long>(s.archives_unpacked.load()),
               static_cast<unsigned long long>(s.entries_verified.load()));
  std::fprintf(stderr, "%s\n", CostLine(s, a.cost).c_str());
  if (const std::string levels = s.LevelsUsedText(); !levels.empty()) {
    std::fprintf(stderr, "adaptive zstd levels (level x archives): %s\n", levels.c_str());
  }
}

// Retries, and objects copied that ferry could not check or keep in full.
void PrintCopyRetriesAndUnchecked(const transfer::Stats& s) {
  if (s.retries() > 0) {
    std::fprintf(stderr,
                 "%llu retries (%llu requests after transient failures, %llu reads or writes "
                 "refused by a checksum, %llu job attempts)\n",
                 static_cast<unsigned long long>(s.retries()),
                 static_cast<unsigned long long>(s.request_retries.load()),
                 static_cast<unsigned long long>(s.checksum_retries.load()),
                 static_cast<unsigned long long>(s.job_retries.load()));
  }
  if (s.objects_unverified > 0) {
    std::fprintf(stderr,
                 "%llu objects copied could not be verified end to end: their source declares "
                 "no checksum ferry can check (no ferry checksum, no MD5 ETag, a multipart "
                 "layout no part size reproduces)\n",
                 static_cast<unsigned long long>(s.objects_unverified.load()));
  }
  if (s.objects_etag_encrypted > 0) {
    std::fprintf(stderr,
                 "%llu objects copied are encrypted at the source (SSE-KMS or SSE-C): their "
                 "ETags are not MD5s, so ferry's CRC32C checked them where they have one\n",
                 static_cast<unsigned long long>(s.objects_etag_encrypted.load()));
  }
  if (s.classes_not_kept > 0 || s.tags_not_kept > 0) {
    std::fprintf(stderr,
                 "the destination could not keep the storage class of %llu objects and the "
                 "tags of %llu objects (it does not support them); bytes and metadata were "
                 "copied\n",
                 static_cast<unsigned long long>(s.classes_not_kept.load()),
                 static_cast<unsigned long long>(s.tags_not_kept.load()));
  }
}

// Objects not copied (or not yet): archived, restarted, folder markers, links, conflicts.
void PrintCopyNotCopied(const CopyArgs& a, const transfer::Stats& s) {
  if (s.archived_not_copied > 0 || s.restores_requested > 0) {
    // Never failures: the run's exit status does not count them (docs/design/glacier.md).
    std::fprintf(stderr,
                 "%llu archived objects (Glacier, Deep Archive) not copied: not readable before "
                 "a restore%s; %llu restores requested, %llu archived objects copied\n",
                 static_cast<unsigned long long>(s.archived_not_copied.load()),
                 a.restore_archived.empty()
                     ? " (--restore-archived DAYS restores them and copies them when ready)"
                     : " within --restore-wait",
                 static_cast<unsigned long long>(s.restores_requested.load()),
                 static_cast<unsigned long long>(s.archived_copied.load()));
  }
  if (s.uploads_restarted > 0) {
    std::fprintf(stderr,
                 "%llu unfinished uploads started over: their source changed since\n",
                 static_cast<unsigned long long>(s.uploads_restarted.load()));
  }
  if (s.markers_skipped > 0) {
    std::fprintf(stderr, "%llu folder markers skipped (keys ending in '/': folders here)\n",
                 static_cast<unsigned long long>(s.markers_skipped.load()));
  }
  if (s.folders_not_followed > 0) {
    std::fprintf(stderr,
                 "%llu symbolic links to folders not followed: nothing copied from them, "
                 "nothing under them deleted\n",
                 static_cast<unsigned long long>(s.folders_not_followed.load()));
  }
  if (s.listed_not_found > 0) {
    std::fprintf(stderr,
                 "%llu listed but not found on the source (named in the warnings above)\n",
                 static_cast<unsigned long long>(s.listed_not_found.load()));
  }
  if (s.conflicts_deferred > 0) {
    std::fprintf(stderr,
                 "%llu objects left for the next run: a file and a folder of one name trade "
                 "places, the old entries were deleted first; run again to copy them\n",
                 static_cast<unsigned long long>(s.conflicts_deferred.load()));
  }
}

// Deletions held back: after failures, or because the source has the object again.
void PrintCopyDeletesHeld(const transfer::Stats& s, const transfer::SyncResult& r) {
  if (r.deletes_skipped && s.deletes_planned.load() > 0) {
    std::fprintf(stderr, "not deleting %llu destination objects because of the failures above\n",
                 static_cast<unsigned long long>(s.deletes_planned.load()));
  }
  if (s.deletes_kept.load() > 0) {
    std::fprintf(stderr, "kept %llu destination objects planned for deletion: the source has "
                 "them again\n", static_cast<unsigned long long>(s.deletes_kept.load()));
  }
}

// ferry move's source deletes (transfer/move_source.h) and --backup-dir's copies.
void PrintCopyMovedAndKept(const CopyArgs& a, const transfer::Stats& s,
                           const transfer::SyncResult& r) {
  if (s.sources_deleted.load() > 0 && !r.deletes_skipped) {
    std::fprintf(stderr, "%llu source objects %s: the destination proved them\n",
                 static_cast<unsigned long long>(s.sources_deleted.load()),
                 a.dry_run ? "to delete" : "deleted");
  }
  if (s.sources_kept.load() > 0) {
    std::fprintf(stderr, "%llu source objects kept: nothing proved their copy by a checksum "
                 "(named above)\n", static_cast<unsigned long long>(s.sources_kept.load()));
  }
  if (r.deletes_skipped && s.deletes_planned.load() == 0) {
    std::fprintf(stderr, "no source object deleted: the run did not finish; run it again to "
                 "move the rest\n");
  }
  if (s.backups_kept.load() > 0) {
    std::fprintf(stderr, "%llu destination objects kept in --backup-dir before being replaced "
                 "or deleted\n", static_cast<unsigned long long>(s.backups_kept.load()));
  }
}

// A durable run with dead jobs: where it is kept and how to finish it.
void PrintCopyDurableFailed(const DurableSummary& d) {
  // The run has ended (failed): the same command again starts a new run.
  std::fprintf(stderr,
               "run %lld failed, kept in %s: see why with `ferry jobs dlq %lld --state %s`; "
               "rerun the command for a new run, or fix the cause and `ferry jobs redrive "
               "%lld --state %s` then rerun it to finish this one\n",
               static_cast<long long>(d.run), d.state.c_str(), static_cast<long long>(d.run),
               d.state.c_str(), static_cast<long long>(d.run), d.state.c_str());
}

}  // namespace

void PrintSummary(const CopyArgs& a, const transfer::Stats& s, const transfer::SyncResult& r,
                  const std::vector<transfer::Failure>& failures, uint64_t failed,
                  const DurableSummary* d) {
  const bool ok = r.status.ok() && failed == 0 && (d == nullptr || d->dead_jobs == 0);
  if (a.json) return PrintCopyJson(a, s, r, failures, failed, d, ok);
  PrintCopyFailures(failures, failed);
  PrintCopyTotals(a, s, r, failed);
  if (a.config != nullptr) PrintCopyStoreCosts(a, s);
  if (a.compress && !a.dry_run) PrintCopyTransportText(a, s);
  PrintCopyRetriesAndUnchecked(s);
  PrintCopyNotCopied(a, s);
  PrintCopyDeletesHeld(s, r);
  PrintCopyMovedAndKept(a, s, r);
  if (d != nullptr && d->dead_jobs > 0) PrintCopyDurableFailed(*d);
}

}  // namespace ferry::cli
