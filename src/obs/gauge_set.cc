#include "obs/gauge_set.h"

namespace ferry::obs {

GaugeSet::GaugeSet(Registry& registry, std::vector<FamilySpec> families)
    : registry_(registry), families_(std::move(families)) {}

GaugeSet::~GaugeSet() {
  std::map<Key, std::unique_ptr<Registration>> series;
  {
    std::lock_guard lock(mu_);
    series.swap(series_);
  }
  series.clear();  // outside mu_, before values_ goes away
}

void GaugeSet::Replace(std::vector<Values> values) {
  std::map<Key, double> fresh;
  for (size_t f = 0; f < values.size() && f < families_.size(); ++f) {
    for (auto& [labels, value] : values[f]) fresh.emplace(Key{f, labels}, value);
  }
  std::vector<Key> added;
  std::vector<std::unique_ptr<Registration>> removed;
  {
    std::lock_guard lock(mu_);
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
    values_ = std::move(fresh);  // a series about to go reads 0 until removed below
  }
  // Outside mu_: a render holds a family's lock and then calls a reader, which takes mu_.
  removed.clear();
  for (const Key& key : added) {
    const FamilySpec& f = families_[key.first];
    auto reg = std::make_unique<Registration>(
        registry_.Observe(MetricType::kGauge, f.name, f.help, f.labels, key.second, [this, key] {
          std::lock_guard lock(mu_);
          auto it = values_.find(key);
          return it == values_.end() ? 0.0 : it->second;
        }));
    std::lock_guard lock(mu_);
    series_[key] = std::move(reg);
  }
}

size_t GaugeSet::size() const {
  std::lock_guard lock(mu_);
  return series_.size();
}

}  // namespace ferry::obs
