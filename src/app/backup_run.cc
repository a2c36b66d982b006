// A backup's durable run as `ferry backup` and serve's scheduled backups queue it
// (backup_run.h): its options checked, the location claimed for the source in the catalog,
// the deletions of earlier runs settled.
#include "app/backup_run.h"

#include <filesystem>

#include "estimate/cost.h"
#include "plan/filter.h"

namespace ferry::app {
namespace {

// The source as the catalog records it: "remote:bucket/prefix/" or "s3://bucket/prefix/", or a
// folder's absolute path ("/data/x", whatever the spelling).
std::string BackupSourceText(const Location& l) {
  if (l.is_s3()) return (l.remote.empty() ? "s3://" : l.remote + ":") + l.bucket + "/" + l.prefix;
  std::error_code ec;
  std::string path = std::filesystem::absolute(l.path, ec).lexically_normal().string();
  if (ec) path = l.path;
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// The region of `location` as its S3 client knows it; "" for a folder or when it cannot be told.
std::string BackupRegionOf(Wiring& wiring, const Location& location) {
  if (!location.is_s3()) return "";
  auto client = wiring.ClientFor(location);
  return client.ok() ? (*client)->options().region : "";
}

}  // namespace

Result<BackupLocation> ParseBackupLocation(const std::string& text) {
  FERRY_ASSIGN_OR_RETURN(Location loc, ParseLocation(text));
  if (!loc.is_s3()) {
    return Status::InvalidArgument("backup location " + text +
                                   ": must be an S3 location (REMOTE:bucket/prefix or "
                                   "s3://bucket/prefix): archives are written as multipart "
                                   "uploads");
  }
  BackupLocation out;
  out.text = (loc.remote.empty() ? "s3://" : loc.remote + ":") + loc.bucket + "/" + loc.prefix;
  out.location = std::move(loc);
  return out;
}

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

Result<PreparedBackup> PrepareBackupRun(jobs::JobStore& store, Wiring& wiring,
                                        const BackupRunSpec& spec) {
  FERRY_ASSIGN_OR_RETURN(Location src, ParseLocation(spec.source));
  FERRY_ASSIGN_OR_RETURN(BackupLocation loc, ParseBackupLocation(spec.location));
  FERRY_ASSIGN_OR_RETURN(jobs::RunOptions options, BackupRunOptions(spec));
  options.transport.staging = loc.text;
  // What the adaptive level weighs, as for `ferry sync --compress`: the configured [costs] of
  // the link the archives cross (the source's region to the backup location's) and CPU.
  const estimate::Prices& prices = wiring.config().costs;
  options.transport.price_per_gib = estimate::PricePerGb(prices, BackupRegionOf(wiring, src),
                                                         BackupRegionOf(wiring, loc.location));
  options.transport.price_per_cpu_second = prices.per_cpu_second;
  PreparedBackup out;
  if (state::SqlSession* session = store.session(); session != nullptr) {
    // One source per backup location: another source's listing lacks every key of the first,
    // which would all be recorded as deleted (and let go by a prune).
    FERRY_ASSIGN_OR_RETURN(out.catalog, backup::CatalogStore::Open(*session));
    const std::string source = BackupSourceText(src);
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

}  // namespace ferry::app
