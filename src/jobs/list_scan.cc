// LookUpKeys, ScanKeys and the jobs of a list (list_scan.h).
#include "jobs/list_scan.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "jobs/worker_internal.h"
#include "obs/log.h"
#include "plan/vector_cursor.h"
#include "storage/find_keys.h"
#include "transfer/report_rows.h"

namespace ferry::jobs {
namespace {

// One side's lookup of a batch of keys.
struct ListSide {
  storage::Backend* backend = nullptr;
  const char* name = "";
  std::vector<storage::ObjectInfo> listed;  // what the listing phase found
  size_t decided = 0;                       // keys decided by the listing phase
  std::vector<std::optional<storage::ObjectInfo>> statted;  // keys[decided..], by Stat
  std::vector<bool> seen;  // per key: found, or under a folder that could not be entered
  Status status;
};

void ListPhase(ListSide& side, const std::vector<std::string>& keys, std::stop_token stop) {
  side.seen.assign(keys.size(), false);
  auto found = [&side](const storage::ObjectInfo& o, size_t first, size_t end) {
    side.listed.push_back(o);
    for (size_t i = first; i < end; ++i) side.seen[i] = true;
    return Status::Ok();
  };
  auto decided = storage::FindKeysByListing(*side.backend, keys, found, stop);
  if (!decided.ok()) {
    side.status = decided.status().WithContext(side.name);
    return;
  }
  side.decided = *decided;
  side.statted.resize(keys.size() - side.decided);
}

// The side's objects in key order: the listing phase's, then the Stats' (all after them).
std::vector<storage::ObjectInfo> ObjectsOf(ListSide& side) {
  std::vector<storage::ObjectInfo> out = std::move(side.listed);
  for (auto& o : side.statted) {
    if (o) out.push_back(std::move(*o));
  }
  return out;
}

}  // namespace

Result<KeysFound> LookUpKeys(transfer::Executor& executor, storage::Backend& src,
                             storage::Backend& dst, const std::vector<std::string>& keys,
                             std::stop_token stop) {
  ListSide sides[2];
  sides[0].backend = &src;
  sides[0].name = "source";
  sides[1].backend = &dst;
  sides[1].name = "destination";
  transfer::RunAll(executor, 2, [&](size_t i) { ListPhase(sides[i], keys, stop); });
  for (ListSide& side : sides) FERRY_RETURN_IF_ERROR(side.status);
  const size_t src_stats = sides[0].statted.size();
  std::vector<Status> errors(src_stats + sides[1].statted.size());
  transfer::RunAll(executor, errors.size(), [&](size_t i) {
    ListSide& side = i < src_stats ? sides[0] : sides[1];
    const size_t at = i < src_stats ? i : i - src_stats;
    auto info = storage::StatKey(*side.backend, keys[side.decided + at], stop);
    if (!info.ok()) {
      errors[i] = info.status().WithContext(side.name);
    } else {
      side.statted[at] = std::move(*info);
    }
  });
  for (const Status& e : errors) FERRY_RETURN_IF_ERROR(e);
  if (stop.stop_requested()) return Status::Cancelled("interrupted");
  KeysFound out;
  const ListSide& s = sides[0];
  for (size_t i = 0; i < keys.size(); ++i) {
    const bool present = s.seen[i] || (i >= s.decided && s.statted[i - s.decided]);
    if (!present) out.missing.push_back(keys[i]);
  }
  out.source = ObjectsOf(sides[0]);
  out.destination = ObjectsOf(sides[1]);
  return out;
}

void ReportNotOnSource(const std::vector<std::string>& missing,
                       const std::function<bool(const std::string&)>& at_destination,
                       std::string_view why, report::RowSink* rows) {
  if (rows == nullptr) return;
  for (const std::string& key : missing) {
    if (!at_destination(key)) rows->Add(transfer::NotOnSourceRow(key, why));
  }
}

void ReportNotOnSource(const std::vector<std::string>& missing,
                       const std::vector<storage::ObjectInfo>& destination, std::string_view why,
                       report::RowSink* rows) {
  ReportNotOnSource(
      missing,
      [&destination](const std::string& key) {
        auto it = std::lower_bound(
            destination.begin(), destination.end(), key,
            [](const storage::ObjectInfo& o, const std::string& k) { return o.key < k; });
        return it != destination.end() && it->key == key;
      },
      why, rows);
}

void CountMissing(const std::vector<std::string>& missing, transfer::Stats& stats) {
  for (const std::string& key : missing) {
    const uint64_t n = ++stats.listed_not_found;
    if (n <= kNamedMissingAtMost) {
      obs::Log(obs::Level::kWarn, "listed but not found on the source", {{"key", key}});
    } else if (n == kNamedMissingAtMost + 1) {
      obs::Log(obs::Level::kWarn, "more listed keys not found on the source: counted in the "
                                  "summary, not named");
    }
  }
}

Status ScanKeys(const ScanContext& scan, const std::vector<std::string>& keys,
                std::vector<JobSpec>& more, std::stop_token stop) {
  RunContext& ctx = scan.run;
  if (ctx.hook != nullptr) {
    return Status::NotSupported("a --files-from run cannot be served by a run hook (--compress)");
  }
  FERRY_CHECK(scan.options.executor != nullptr);  // set by the Worker
  FERRY_ASSIGN_OR_RETURN(KeysFound found,
                         LookUpKeys(*scan.options.executor, *ctx.src, *ctx.dst, keys, stop));
  // The chunk's rows are recorded only once it is planned (job_report.h): a retried chunk (a
  // failed lookup) reports nothing twice.
  ReportNotOnSource(found.missing, found.destination, kListedNotOnSource, scan.rows);
  plan::VectorCursor src(std::move(found.source));
  plan::VectorCursor dst(std::move(found.destination));
  FERRY_RETURN_IF_ERROR(PlanObjects(scan, src, dst, more));
  // Counted once the chunk is planned: a retried chunk (a failed lookup) counts nothing twice.
  CountMissing(found.missing, scan.stats);
  return Status::Ok();
}

Result<std::vector<JobSpec>> ListScanJobs(
    RunId run, int max_attempts, const std::function<Result<const std::string*>()>& next) {
  std::vector<JobSpec> jobs;
  std::vector<std::string> chunk;
  auto flush = [&] {
    if (chunk.empty()) return;
    JobSpec spec;
    spec.run = run;
    spec.kind = kListScanKind;
    spec.payload = EncodeListScan(chunk);
    spec.max_attempts = max_attempts;
    jobs.push_back(std::move(spec));
    chunk.clear();
  };
  for (;;) {
    FERRY_ASSIGN_OR_RETURN(const std::string* key, next());
    if (key == nullptr) break;
    chunk.push_back(*key);
    if (chunk.size() == kListChunkKeys) flush();
  }
  flush();
  return jobs;
}

}  // namespace ferry::jobs
