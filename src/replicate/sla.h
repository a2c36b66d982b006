// SLA metrics of replication, as S3 Replication Time Control publishes them per rule and
// destination: replication latency, operations and bytes pending, operations failed, and with a
// threshold (Rule::replication_time) what missed it. Series (labels `rule`, `destination`;
// docs/design/replication.md, "Latency and SLA metrics"):
//
//   ferry_replication_latency_seconds                 histogram  write at the source -> replica
//   ferry_replication_operations_pending              gauge      versions PENDING or FAILED
//   ferry_replication_bytes_pending                   gauge      their bytes
//   ferry_replication_oldest_pending_seconds          gauge      age of the oldest of them
//   ferry_replication_operations_failed_total         counter    + label `reason`
//   ferry_replication_threshold_seconds               gauge      the rule's replication_time
//   ferry_replication_replicated_after_threshold_total   counter completed later than it
//   ferry_replication_replicated_within_threshold_total  counter completed within it
//   ferry_replication_missed_threshold_total          counter    pending past it (once each)
//   ferry_replication_within_threshold_ratio          gauge      within / completed, 1 if none
//   ferry_replication_scan_repaired_total             counter    + label `reason` (Repaired)
//
// Who feeds what. The pass (key.cc, and UnpackTransported for compressed transport) reports
// every version it records COMPLETED (Completed) or FAILED (Failed), in the process that wrote
// it: counters and the histogram are this process's. The gauges describe the status store: the
// owner of a pass calls Refresh when the pass starts and when it ends (RunPass does; `ferry
// replicate` for its durable pass, also every 30 s while it runs), and a long-running process
// calls it periodically, e.g. every 15 to 60 s (`ferry serve`: every 30 s per source, through
// SlaRefresher): each call is one UPDATE (the versions newly past their threshold) and one
// GROUP BY query over the pending rows only (their own index), so its cost grows with what is
// pending, not with what was replicated.
// Several processes sharing one store publish the same gauge values: aggregate them with max(),
// not sum(); counters add up across processes.
//
// Latency of a version: from its write time at the source (its LastModified; a delete marker's
// time) to the moment its COMPLETED row is recorded. A version written before its rule was
// first seen (the backfill of existing objects, S3 Batch Replication's work) is held to no
// threshold, as S3 RTC applies to new objects only: it lands in the histogram with its true
// age, and in none of the threshold counters.
//
// Thread-safety: thread-safe; Refresh calls of one object run one at a time.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "obs/metrics.h"
#include "obs/periodic_refresh.h"
#include "replicate/rules.h"
#include "replicate/status_store.h"

namespace ferry::replicate {

// ferry_replication_latency_seconds's bucket bounds, in seconds: 0.1 to 3600, 900 (S3 RTC's 15
// minutes) among them.
std::vector<double> SlaLatencyBuckets();

// The `reason` label of a failure: the name of ferry's error code (VersionStatus::error_code,
// "kPermissionDenied", or ErrorCodeName's "PermissionDenied") in snake case without the k:
// "permission_denied". "unknown" when empty.
std::string FailureReason(std::string_view error_code);

// The threshold (ns) a row of `rule` for a version written at `written_ns` is held to: the
// rule's replication_time, or 0 (none) when the rule has none or the version was written at or
// before `first_seen_ns`, when the rule was first seen (0: unknown, no such exclusion).
int64_t ThresholdNsFor(const Rule& rule, int64_t written_ns, int64_t first_seen_ns);

// The reasons of ferry_replication_scan_repaired_total: a version no event brought (no row:
// the event was lost, or never sent), one whose earlier write failed or was interrupted (its
// row FAILED or PENDING, no replica found), a tag set that differed (RGW 16 sends no tagging
// events).
inline constexpr std::string_view kRepairMissed = "missed";
inline constexpr std::string_view kRepairFailed = "failed";
inline constexpr std::string_view kRepairInterrupted = "interrupted";
inline constexpr std::string_view kRepairTags = "tags";

class SlaMetrics {
 public:
  // Registers the families in `registry` (which must outlive this object). `source` is the
  // source whose rows Refresh flags past their threshold ("" = every source of the store);
  // `rules` (may be null; copied) name the (rule, destination) series published even when
  // nothing of them is pending (at 0), and the thresholds (ferry_replication_threshold_seconds).
  explicit SlaMetrics(obs::Registry& registry, std::string source = "",
                      const RuleSet* rules = nullptr);

  // `row` (state COMPLETED, updated_ns the completion time) is about to be recorded: observes
  // its latency (updated_ns - pending_since_ns; nothing when pending_since_ns is unknown) and,
  // when it is held to a threshold, counts it within or after it; after it sets
  // row.missed_threshold.
  void Completed(VersionStatus& row);
  // `row` was recorded FAILED: counts it by FailureReason(row.error_code).
  void Failed(const VersionStatus& row);
  // A repair scan (PassOptions::scan_repairs: the scan of a continuous run, whose events should
  // have brought every new version) wrote `row`'s version or copied its tags: counted by
  // `reason`, kRepair* below.
  void Repaired(const VersionStatus& row, std::string_view reason);

  // Flags in `store` the versions of the source newly pending past their threshold (counted in
  // ferry_replication_missed_threshold_total) and sets the pending gauges from the store's
  // pending rows of every source, summed per (rule, destination) (the series carry no source
  // label); series this object published before that have nothing pending any more go to 0.
  // Errors: the store's (the gauges keep their values).
  Status Refresh(StatusStore& store, Clock& clock);

 private:
  using Labels = std::pair<std::string, std::string>;  // rule, destination
  void SetRatio(const Labels& l);

  const std::string source_;
  obs::FamilyRef<obs::Histogram> latency_;
  obs::FamilyRef<obs::Gauge> pending_;
  obs::FamilyRef<obs::Gauge> bytes_pending_;
  obs::FamilyRef<obs::Gauge> oldest_pending_;
  obs::FamilyRef<obs::Counter> failed_;
  obs::FamilyRef<obs::Gauge> threshold_;
  obs::FamilyRef<obs::Counter> after_threshold_;
  obs::FamilyRef<obs::Counter> within_threshold_;
  obs::FamilyRef<obs::Counter> missed_threshold_;
  obs::FamilyRef<obs::Gauge> ratio_;
  obs::FamilyRef<obs::Counter> repaired_;
  std::set<Labels> known_;  // (rule, destination) of the rules given, fixed after construction
  std::mutex mu_;
  std::set<Labels> published_;  // GUARDED_BY(mu_): pending series Refresh has set
};

// Keeps a SlaMetrics's gauges fresh while a pass (or a process) runs: Refresh now, then every
// `interval` on a thread of its own (none when `interval` is 0: only at the start and the end),
// and once more when destroyed (the pass ended). A failed
// refresh is logged (warn) and the next one tried: the metrics are a view of the store, never a
// reason to stop replicating. `metrics`, `store` and `clock` must outlive it.
class SlaRefresher {
 public:
  SlaRefresher(SlaMetrics& metrics, StatusStore& store, Clock& clock,
               std::chrono::milliseconds interval = std::chrono::seconds(30));
  ~SlaRefresher();
  SlaRefresher(const SlaRefresher&) = delete;
  SlaRefresher& operator=(const SlaRefresher&) = delete;

 private:
  void RefreshOnce();
  SlaMetrics& metrics_;
  StatusStore& store_;
  Clock& clock_;
  obs::PeriodicRefresh timer_;  // last: it calls RefreshOnce, which reads the members above
};

}  // namespace ferry::replicate
