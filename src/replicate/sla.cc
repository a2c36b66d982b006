// The SLA metrics of replication (contract in sla.h).
#include "replicate/sla.h"

#include <algorithm>
#include <cctype>
#include <chrono>

#include "obs/log.h"

namespace ferry::replicate {
namespace {

constexpr double kNsPerSecond = 1e9;

int64_t NowNs(Clock& clock) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock.Now().time_since_epoch())
      .count();
}

}  // namespace

std::vector<double> SlaLatencyBuckets() {
  return {0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600};
}

std::string FailureReason(std::string_view error_code) {
  if (error_code.size() > 1 && error_code[0] == 'k' &&
      std::isupper(static_cast<unsigned char>(error_code[1]))) {
    error_code.remove_prefix(1);
  }
  if (error_code.empty()) return "unknown";
  std::string out;
  for (char c : error_code) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isupper(u)) {
      if (!out.empty()) out.push_back('_');
      out.push_back(static_cast<char>(std::tolower(u)));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

int64_t ThresholdNsFor(const Rule& rule, int64_t written_ns, int64_t first_seen_ns) {
  if (rule.replication_time.count() <= 0) return 0;
  if (first_seen_ns > 0 && written_ns <= first_seen_ns) return 0;
  return std::chrono::duration_cast<std::chrono::nanoseconds>(rule.replication_time).count();
}

SlaMetrics::SlaMetrics(obs::Registry& registry, std::string source, const RuleSet* rules)
    : source_(std::move(source)),
      latency_(registry.AddHistogram(
          "ferry_replication_latency_seconds",
          "Seconds from a version's write at the source to its replica's (COMPLETED)",
          {"rule", "destination"}, SlaLatencyBuckets())),
      pending_(registry.AddGauge("ferry_replication_operations_pending",
                                 "Versions to replicate not COMPLETED yet (PENDING or FAILED)",
                                 {"rule", "destination"})),
      bytes_pending_(registry.AddGauge("ferry_replication_bytes_pending",
                                       "Bytes of the versions pending replication",
                                       {"rule", "destination"})),
      oldest_pending_(registry.AddGauge(
          "ferry_replication_oldest_pending_seconds",
          "Seconds since the oldest pending version was written at the source (0: none)",
          {"rule", "destination"})),
      failed_(registry.AddCounter("ferry_replication_operations_failed_total",
                                  "Versions whose replication failed, by ferry's error code",
                                  {"rule", "destination", "reason"})),
      threshold_(registry.AddGauge("ferry_replication_threshold_seconds",
                                   "The rule's replication time threshold",
                                   {"rule", "destination"})),
      after_threshold_(registry.AddCounter(
          "ferry_replication_replicated_after_threshold_total",
          "Versions replicated later than their threshold after their write",
          {"rule", "destination"})),
      within_threshold_(registry.AddCounter(
          "ferry_replication_replicated_within_threshold_total",
          "Versions replicated within their threshold after their write",
          {"rule", "destination"})),
      missed_threshold_(registry.AddCounter(
          "ferry_replication_missed_threshold_total",
          "Versions still pending when their threshold after their write passed (once each)",
          {"rule", "destination"})),
      ratio_(registry.AddGauge(
          "ferry_replication_within_threshold_ratio",
          "Versions replicated within their threshold / versions replicated under one, as this "
          "process saw them (1 when none)",
          {"rule", "destination"})),
      repaired_(registry.AddCounter(
          "ferry_replication_scan_repaired_total",
          "Versions (or tag sets) a repair scan replicated that no event had brought, by reason",
          {"rule", "destination", "reason"})) {
  if (rules == nullptr) return;
  for (const Rule& r : rules->rules) {
    if (!r.enabled) continue;
    for (const Destination& d : r.destinations) {
      const Labels l{r.id, d.location};
      known_.insert(l);
      if (r.replication_time.count() <= 0) continue;
      threshold_.WithLabels({l.first, l.second})
          .Set(static_cast<double>(r.replication_time.count()));
      // The threshold counters exist from the start, at 0: increase() over a series sees its
      // first count only when the series was there before it.
      missed_threshold_.WithLabels({l.first, l.second});
      SetRatio(l);
    }
  }
}

void SlaMetrics::SetRatio(const Labels& l) {
  const double within =
      static_cast<double>(within_threshold_.WithLabels({l.first, l.second}).value());
  const double after =
      static_cast<double>(after_threshold_.WithLabels({l.first, l.second}).value());
  ratio_.WithLabels({l.first, l.second}).Set(within + after == 0 ? 1 : within / (within + after));
}

void SlaMetrics::Completed(VersionStatus& row) {
  if (row.pending_since_ns <= 0) return;  // a row of older ferry: its write time is unknown
  const int64_t latency_ns = std::max<int64_t>(0, row.updated_ns - row.pending_since_ns);
  latency_.WithLabels({row.rule, row.destination})
      .Observe(static_cast<double>(latency_ns) / kNsPerSecond);
  if (row.threshold_ns <= 0) return;
  const bool late = latency_ns > row.threshold_ns;
  row.missed_threshold = row.missed_threshold || late;
  (late ? after_threshold_ : within_threshold_).WithLabels({row.rule, row.destination}).Add();
  threshold_.WithLabels({row.rule, row.destination})
      .Set(static_cast<double>(row.threshold_ns) / kNsPerSecond);
  SetRatio({row.rule, row.destination});
}

void SlaMetrics::Failed(const VersionStatus& row) {
  failed_.WithLabels({row.rule, row.destination, FailureReason(row.error_code)}).Add();
}

void SlaMetrics::Repaired(const VersionStatus& row, std::string_view reason) {
  repaired_.WithLabels({row.rule, row.destination, std::string(reason)}).Add();
}

Status SlaMetrics::Refresh(StatusStore& store, Clock& clock) {
  std::lock_guard lock(mu_);
  const int64_t now = NowNs(clock);
  FERRY_ASSIGN_OR_RETURN(std::vector<LabelCount> missed, store.MarkMissedThreshold(source_, now));
  for (const LabelCount& m : missed) {
    missed_threshold_.WithLabels({m.rule, m.destination}).Add(static_cast<uint64_t>(m.count));
  }
  FERRY_ASSIGN_OR_RETURN(std::vector<SlaTotals> totals, store.SlaTotalsOf("", true));
  struct Sum {
    int64_t pending = 0;
    int64_t bytes = 0;
    int64_t oldest_ns = 0;  // 0: none known
  };
  std::map<Labels, Sum> sums;
  for (const Labels& l : known_) sums[l];
  for (const Labels& l : published_) sums[l];
  for (const SlaTotals& t : totals) {
    Sum& s = sums[{t.rule, t.destination}];
    s.pending += t.pending;
    s.bytes += t.pending_bytes;
    if (t.oldest_pending_since_ns > 0 &&
        (s.oldest_ns == 0 || t.oldest_pending_since_ns < s.oldest_ns)) {
      s.oldest_ns = t.oldest_pending_since_ns;
    }
  }
  for (const auto& [l, s] : sums) {
    pending_.WithLabels({l.first, l.second}).Set(static_cast<double>(s.pending));
    bytes_pending_.WithLabels({l.first, l.second}).Set(static_cast<double>(s.bytes));
    const int64_t age_ns = s.oldest_ns == 0 ? 0 : std::max<int64_t>(0, now - s.oldest_ns);
    oldest_pending_.WithLabels({l.first, l.second})
        .Set(static_cast<double>(age_ns) / kNsPerSecond);
    published_.insert(l);
  }
  return Status::Ok();
}

SlaRefresher::SlaRefresher(SlaMetrics& metrics, StatusStore& store, Clock& clock,
                           std::chrono::milliseconds interval)
    : metrics_(metrics),
      store_(store),
      clock_(clock),
      timer_([this] { RefreshOnce(); }, clock, interval) {}

SlaRefresher::~SlaRefresher() = default;

void SlaRefresher::RefreshOnce() {
  if (Status s = metrics_.Refresh(store_, clock_); !s.ok()) {
    obs::Log(obs::Level::kWarn, "refreshing the replication SLA metrics failed: " + s.message());
  }
}

}  // namespace ferry::replicate
