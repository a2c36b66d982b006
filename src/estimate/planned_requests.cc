#include "estimate/planned_requests.h"

#include <algorithm>

namespace ferry::estimate {
namespace {

// GETs of at most kRestoreRangeBytes that read `bytes` (an empty run reads nothing).
uint64_t RestoreRangedGets(uint64_t bytes) {
  return (bytes + kRestoreRangeBytes - 1) / kRestoreRangeBytes;
}

// What reading the wanted frames of one archive sends: its opening, then each run of
// contiguous frames (`reads` sorted by data_offset); a small archive is read whole.
void AddOneArchiveRead(StoreUsage& backup, std::vector<PlannedArchiveRead>& reads,
                       uint64_t archive_bytes) {
  if (archive_bytes > 0 && archive_bytes < kRestoreWholeBelow) {  // read whole when opened
    backup.requests["HEAD"] += 1;
    backup.requests["GET"] += 1;
    backup.bytes_out += archive_bytes;
    return;
  }
  std::sort(reads.begin(), reads.end(), [](const auto& a, const auto& b) {
    return a.data_offset < b.data_offset;
  });
  backup.requests["HEAD"] += 1;
  backup.requests["GET"] += 2;
  backup.bytes_out += kRestoreOpenTailBytes;
  uint64_t run_start = reads.front().data_offset, run_end = run_start;
  auto close_run = [&] {
    backup.requests["GET"] += RestoreRangedGets(run_end - run_start);
    backup.bytes_out += run_end - run_start;
  };
  for (const PlannedArchiveRead& r : reads) {
    if (r.data_offset > run_end) {  // a gap: frames between runs are never read
      close_run();
      run_start = r.data_offset;
    }
    run_end = std::max(run_end, r.data_offset + r.data_bytes);
  }
  close_run();
}

}  // namespace

void AddPlannedCopies(StoreUsages& usages, const PlannedCopies& plan) {
  if (!plan.to.empty() && plan.objects > 0) {
    usages[plan.to].requests[plan.from == plan.to ? "COPY" : "PUT"] += plan.objects;
  }
  if (!plan.from.empty() && plan.from != plan.to && plan.objects > 0) {
    StoreUsage& source = usages[plan.from];
    source.requests["GET"] += plan.objects;
    source.bytes_out += plan.bytes;
  }
  if (!plan.to.empty() && plan.deletes > 0) usages[plan.to].requests["DELETE"] += plan.deletes;
  if (!plan.from.empty() && plan.source_deletes > 0) {
    usages[plan.from].requests["DELETE"] += plan.source_deletes;
  }
}

void AddPlannedRestore(StoreUsages& usages, const PlannedRestore& plan) {
  if (plan.reads.empty()) return;
  if (!plan.to.empty()) {
    StoreUsage& dst = usages[plan.to];
    dst.requests["HEAD"] += plan.reads.size();
    dst.requests["PUT"] += plan.reads.size();
  }
  if (plan.from.empty()) return;
  std::map<std::string, std::vector<PlannedArchiveRead>> by_archive;
  for (const PlannedArchiveRead& r : plan.reads) by_archive[r.archive].push_back(r);
  StoreUsage& backup = usages[plan.from];
  for (auto& [archive, reads] : by_archive) {
    const auto size = plan.archive_bytes.find(archive);
    AddOneArchiveRead(backup, reads, size == plan.archive_bytes.end() ? 0 : size->second);
  }
}

}  // namespace ferry::estimate
