// Delete jobs: the keys a scan planned as destination-only, deleted once the run reached its
// delete phase. That can be long after the scan (a redrive days later), so each key is checked
// against the source again right before: a key the source has now is kept. With --backup-dir
// each is copied there first (RunContext::backup).
#include <algorithm>

#include "jobs/worker_internal.h"
#include "storage/find_keys.h"
#include "transfer/report_rows.h"

namespace ferry::jobs {
namespace {

// Sets present[i] for each of `keys` (sorted, unique) that `src` has now: one listing of the
// keys' range while it stays cheaper than a Stat per key left, then a Stat per key
// (storage/find_keys.h, shared with --files-from runs). A folder the listing could not enter
// keeps the keys under it.
Status FindOnSource(storage::Backend& src, const std::vector<std::string>& keys,
                    std::vector<bool>& present, std::stop_token stop) {
  auto mark = [&present](const storage::ObjectInfo&, size_t first, size_t end) {
    for (size_t i = first; i < end; ++i) present[i] = true;
    return Status::Ok();
  };
  FERRY_ASSIGN_OR_RETURN(size_t next, storage::FindKeysByListing(src, keys, mark, stop));
  for (; next < keys.size(); ++next) {
    auto info = storage::StatKey(src, keys[next], stop);
    if (!info.ok()) return info.status().WithContext("source");
    present[next] = info->has_value();
  }
  return Status::Ok();
}

// --backup-dir: each of `keys` copied into the backup location before any is deleted; a key no
// longer on the destination needs neither (it leaves `keys`). The first failure stops the job
// with nothing deleted (its retry copies them again: the same bytes under the same keys).
Status KeepBeforeDeleting(const transfer::BackupDir& backup, std::vector<std::string>& keys,
                          std::stop_token stop) {
  std::vector<std::string> kept;
  kept.reserve(keys.size());
  for (std::string& key : keys) {
    const Status s = backup.KeepKey(key, stop);
    if (s.code() == ErrorCode::kNotFound) continue;
    FERRY_RETURN_IF_ERROR(s);
    kept.push_back(std::move(key));
  }
  keys = std::move(kept);
  return Status::Ok();
}

}  // namespace

Status RunDeleteJob(RunContext& ctx, std::vector<std::string> keys, transfer::Stats& stats,
                    std::stop_token stop, report::RowSink* rows) {
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  std::vector<bool> present(keys.size(), false);
  FERRY_RETURN_IF_ERROR(FindOnSource(*ctx.src, keys, present, stop));
  std::vector<std::string> gone;
  for (size_t i = 0; i < keys.size(); ++i) {
    if (!present[i]) gone.push_back(std::move(keys[i]));
  }
  if (ctx.backup != nullptr) FERRY_RETURN_IF_ERROR(KeepBeforeDeleting(*ctx.backup, gone, stop));
  if (!gone.empty()) FERRY_RETURN_IF_ERROR(ctx.dst->DeleteMany(gone, stop));
  stats.objects_deleted += gone.size();
  if (rows != nullptr) {
    for (std::string& key : gone) {
      rows->Add(transfer::DeleteRow(std::move(key), Status::Ok(), /*dry_run=*/false));
    }
  }
  stats.deletes_kept += keys.size() - gone.size();
  return Status::Ok();
}

}  // namespace ferry::jobs
