#include "transfer/stats.h"

namespace ferry::transfer {

void Stats::AddFailure(std::string key, std::string action, Status status) {
  failure_count_.fetch_add(1);
  std::lock_guard lock(mu_);
  if (kept_.size() < kMaxKeptFailures) {
    kept_.push_back(Failure{std::move(key), std::move(action), std::move(status)});
  }
}

std::vector<Failure> Stats::KeptFailures() const {
  std::lock_guard lock(mu_);
  return kept_;
}

void Stats::AddLevelUsed(std::string_view content_class, int level) {
  std::lock_guard lock(mu_);
  levels_[std::string(content_class)][level] += 1;
}

std::map<std::string, std::map<int, uint64_t>> Stats::LevelsUsed() const {
  std::lock_guard lock(mu_);
  return levels_;
}

std::string Stats::LevelsUsedText() const {
  std::string line;
  for (const auto& [cls, counts] : LevelsUsed()) {
    line += (line.empty() ? "" : "; ") + cls;
    for (const auto& [level, n] : counts) {
      line += " " + std::to_string(level) + "x" + std::to_string(n);
    }
  }
  return line;
}

}  // namespace ferry::transfer
