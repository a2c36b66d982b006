// A backup's durable run as `ferry backup` and serve's scheduled backups queue it
// (backup_internal.h, "Queueing a backup"): its options checked, the location claimed for
// the source in the catalog, the deletions of earlier runs settled.
#include <filesystem>

#include "cli/commands/backup_internal.h"
#include "cli/commands/cost_report.h"
#include "plan/filter.h"

namespace ferry::cli {
namespace {

// The source as the catalog records it: "remote:bucket/prefix/" or "s3://bucket/prefix/", or a
// folder's absolute path ("/data/x", whatever the spelling).
std::string SourceText(const app::Location& l) {
  if (l.is_s3()) return (l.remote.empty() ? "s3://" : l.remote + ":") + l.bucket + "/" + l.prefix;
  std::error_code ec;
  std::string path = std::filesystem::absolute(l.path, ec).lexically_normal().string();
  if (ec) path = l.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

}  // namespace

Result<jobs::RunOptions> BackupRunOptions(const BackupRunSpec& spec) {
  jobs::RunOptions options;
  options.command = "backup";
  options.transport.unpack_jobs = false;
  options.transport.backup = true;
  if (spec.compress_level < 0 || spec.compress_level > 19) {
    return Status::InvalidArgument("--compress-level: 1..19 (0 = adaptive)");
  }
  options.transport.level = spec.compress_level;
  if (!spec.archive_size.empty()) {
    auto v = plan::ParseSize(spec.archive_size);
    if (!v.ok()) return v.status().WithContext("--archive-size");
    if (*v < (1u << 20) || *v > (4ull << 30)) {
      return Status::InvalidArgument("--archive-size: 1MiB..4GiB");
    }
    options.transport.batch_bytes = *v;
  }
  if (spec.max_attempts < 1) return Status::InvalidArgument("--max-attempts: at least 1");
  options.max_attempts = spec.max_attempts;
  return options;
}

Result<uint64_t> SettleDeletions(jobs::JobStore& store, backup::CatalogStore& catalog,
                                 const std::string& location, jobs::RunId run) {
  uint64_t recorded = 0;
  FERRY_ASSIGN_OR_RETURN(std::vector<int64_t> runs, catalog.RunsWithGone(location));
  for (int64_t id : runs) {
    auto info = store.GetRun(id);
    if (!info.ok() && info.status().code() != ErrorCode::kNotFound) return info.status();
    if (!info.ok()) {
      FERRY_RETURN_IF_ERROR(catalog.DiscardGone(location, id));
      continue;
    }
    FERRY_ASSIGN_OR_RETURN(jobs::RunCounts counts, store.CountJobs(id));
    const auto scans = counts.by_kind.find(jobs::kScanKind);
    const bool listed = scans != counts.by_kind.end() && scans->second.active() == 0 &&
                        scans->second.of(jobs::JobState::kDead) == 0 &&
                        scans->second.of(jobs::JobState::kDone) > 0;
    if (listed) {
      FERRY_ASSIGN_OR_RETURN(uint64_t n, catalog.CommitGone(location, id));
      if (id == run) recorded += n;
    } else if (info->state != jobs::RunState::kRunning) {
      FERRY_RETURN_IF_ERROR(catalog.DiscardGone(location, id));
    }
  }
  return recorded;
}

Result<PreparedBackup> PrepareBackupRun(jobs::JobStore& store, app::Wiring& wiring,
                                        const BackupRunSpec& spec) {
  FERRY_ASSIGN_OR_RETURN(app::Location src, app::ParseLocation(spec.source));
  FERRY_ASSIGN_OR_RETURN(BackupLocation loc, ParseBackupLocation(spec.location));
  FERRY_ASSIGN_OR_RETURN(jobs::RunOptions options, BackupRunOptions(spec));
  options.transport.staging = loc.text;
  // What the adaptive level weighs, as for `ferry sync --compress`: the configured [costs] of
  // the link the archives cross (the source's region to the backup location's) and CPU.
  const CostInputs cost = CostInputsFor(wiring.config().costs, RegionOf(wiring, src),
                                        RegionOf(wiring, loc.location));
  options.transport.price_per_gib = cost.per_gb;
  options.transport.price_per_cpu_second = cost.prices.per_cpu_second;
  PreparedBackup out;
  if (state::SqlSession* session = store.session(); session != nullptr) {
    // One source per backup location: another source's listing lacks every key of the first,
    // which would all be recorded as deleted (and let go by a prune).
    FERRY_ASSIGN_OR_RETURN(out.catalog, backup::CatalogStore::Open(*session));
    const std::string source = SourceText(src);
    FERRY_ASSIGN_OR_RETURN(std::string owner, out.catalog->ClaimSource(loc.text, source));
    if (owner != source) {
      return Status::InvalidArgument("backup location " + loc.text + " holds the backups of " +
                                     owner + ", not of " + source + ": back up " + source +
                                     " into a location of its own");
    }
  }
  out.request.source = spec.source;
  out.request.destination = loc.text;
  out.request.options = std::move(options);
  out.location = std::move(loc);
  return out;
}

}  // namespace ferry::cli
