#include "jobs/backlog_metrics.h"

#include <set>
#include <vector>

#include "obs/log.h"

namespace ferry::jobs {

// The five series of one (run, role, kind), removed together.
struct BacklogMetrics::Series {
  obs::Registration waiting, waiting_bytes, oldest, running, delayed;
};

BacklogMetrics::BacklogMetrics(obs::Registry& registry, RoleOf role_of)
    : registry_(registry), role_of_(std::move(role_of)) {}

BacklogMetrics::~BacklogMetrics() {
  std::map<Key, std::unique_ptr<Series>> series;
  {
    std::lock_guard lock(mu_);
    series.swap(series_);
  }
  series.clear();  // unregistered before values_ goes away
}

Status BacklogMetrics::Refresh(JobStore& store, const Clock& clock) {
  const TimePoint now = clock.Now();
  Result<std::vector<BacklogRow>> rows = store.Backlog(now);
  if (!rows.ok()) return rows.status();
  std::map<Key, Values> fresh;
  for (const BacklogRow& r : *rows) {
    Values& v = fresh[Key{std::to_string(r.run), role_of_(r.kind), r.kind}];
    v.waiting += static_cast<double>(r.waiting);
    v.waiting_bytes += static_cast<double>(r.waiting_bytes);
    v.running += static_cast<double>(r.running);
    v.delayed += static_cast<double>(r.later);
    if (r.waiting > 0 && r.oldest_due != TimePoint{}) {
      const double age = std::chrono::duration<double>(now - r.oldest_due).count();
      v.oldest_seconds = std::max(v.oldest_seconds, std::max(0.0, age));
    }
  }
  std::vector<Key> added;
  std::vector<std::unique_ptr<Series>> removed;
  {
    std::lock_guard lock(mu_);
    values_ = fresh;  // series of keys gone read 0 until removed below
    for (auto it = series_.begin(); it != series_.end();) {
      if (fresh.count(it->first) == 0) {
        removed.push_back(std::move(it->second));
        it = series_.erase(it);
      } else {
        ++it;
      }
    }
    for (const auto& [key, v] : fresh) {
      if (series_.count(key) == 0) added.push_back(key);
    }
  }
  removed.clear();  // outside mu_: a render may hold the family's lock and wait for mu_
  const std::vector<std::string> labels = {"run", "role", "kind"};
  for (const Key& key : added) {
    auto s = std::make_unique<Series>();
    const std::vector<std::string> values = {std::get<0>(key), std::get<1>(key), std::get<2>(key)};
    auto reader = [this, key](double Values::*field) {
      return [this, key, field] {
        std::lock_guard lock(mu_);
        auto it = values_.find(key);
        return it == values_.end() ? 0.0 : it->second.*field;
      };
    };
    s->waiting = registry_.Observe(obs::MetricType::kGauge, "ferry_jobs_waiting",
                                   "Jobs a worker could claim now, per run, role and kind",
                                   labels, values, reader(&Values::waiting));
    s->waiting_bytes =
        registry_.Observe(obs::MetricType::kGauge, "ferry_jobs_waiting_bytes",
                          "Bytes the jobs a worker could claim now move", labels, values,
                          reader(&Values::waiting_bytes));
    s->oldest = registry_.Observe(obs::MetricType::kGauge, "ferry_jobs_oldest_waiting_seconds",
                                  "How long the oldest job a worker could claim has waited",
                                  labels, values, reader(&Values::oldest_seconds));
    s->running = registry_.Observe(obs::MetricType::kGauge, "ferry_jobs_running",
                                   "Jobs under a live lease (being worked on)", labels, values,
                                   reader(&Values::running));
    s->delayed = registry_.Observe(obs::MetricType::kGauge, "ferry_jobs_delayed",
                                   "Jobs due later (a retry's backoff, a continuous run's next round)",
                                   labels, values, reader(&Values::delayed));
    std::lock_guard lock(mu_);
    series_[key] = std::move(s);
  }
  return Status::Ok();
}

BacklogRefresher::BacklogRefresher(BacklogMetrics& metrics, JobStore& store, Clock& clock,
                                   std::chrono::milliseconds interval)
    : metrics_(metrics),
      store_(store),
      clock_(clock),
      timer_([this] { RefreshOnce(); }, clock, interval) {}

BacklogRefresher::~BacklogRefresher() = default;

void BacklogRefresher::RefreshOnce() {
  Status s = metrics_.Refresh(store_, clock_);
  const std::string error = s.ok() ? "" : s.message();
  if (error != last_error_ && !error.empty()) {
    obs::Log(obs::Level::kWarn, "refreshing the jobs backlog metrics failed: " + error);
  }
  last_error_ = error;
}

}  // namespace ferry::jobs
