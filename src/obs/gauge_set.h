// GaugeSet: gauges whose series come and go with what a refresh read (the state store's runs,
// jobs/run_metrics.h): each Replace gives every series of its families with its value; series
// it does not name are removed, new ones added, the others read the new value. The registry
// reads the values at render time (observed series), so a scrape always sees one whole
// Replace, never a half-updated set.
//
// Thread-safety: Replace runs concurrently with renders (the registry calls the readers with a
// family's lock held; Replace never holds its own lock while it adds or removes a series, so
// the two lock orders never meet), but one at a time: its caller serializes the calls.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "obs/metrics.h"

namespace ferry::obs {

class GaugeSet {
 public:
  struct FamilySpec {
    std::string name;
    std::string help;
    std::vector<std::string> labels;
  };
  // The series of one family: label values (as many as its labels, in order) -> value.
  using Values = std::map<std::vector<std::string>, double>;

  GaugeSet(Registry& registry, std::vector<FamilySpec> families);
  ~GaugeSet();  // removes every series
  GaugeSet(const GaugeSet&) = delete;
  GaugeSet& operator=(const GaugeSet&) = delete;

  // `values[i]`: every series of family i now (families without an entry have none).
  void Replace(std::vector<Values> values);
  // How many series the set holds now (over every family).
  size_t size() const;

 private:
  using Key = std::pair<size_t, std::vector<std::string>>;  // family index, label values

  Registry& registry_;
  const std::vector<FamilySpec> families_;
  mutable std::mutex mu_;  // values_ and series_
  std::map<Key, double> values_;
  std::map<Key, std::unique_ptr<Registration>> series_;
};

}  // namespace ferry::obs
