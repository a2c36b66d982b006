// The level bandit's pure choice (contract in level.h).
#include "transport/level.h"

namespace ferry::transport {

LevelPrices LevelPricesFrom(double per_gib, double per_cpu_second) {
  LevelPrices p;
  if (per_gib >= 0) p.per_gb = per_gib * 1e9 / static_cast<double>(1ull << 30);
  if (per_cpu_second >= 0) p.per_cpu_second = per_cpu_second;
  return p;
}

double NetBenefitPerGb(const LevelStats& s, const LevelPrices& prices) {
  if (s.bytes_in == 0) return 0;
  const double gb_in = static_cast<double>(s.bytes_in) / 1e9;
  const double gb_saved = (static_cast<double>(s.bytes_in) - static_cast<double>(s.bytes_out)) / 1e9;
  return (gb_saved * prices.per_gb - s.cpu_seconds * prices.per_cpu_second) / gb_in;
}

int BestLevel(std::span<const LevelStats> history, const LevelPrices& prices) {
  int best = 0;
  double best_value = 0;
  for (const LevelStats& s : history) {
    if (s.trials < kMinTrials || s.level < kMinLevel || s.level > kMaxLevel) continue;
    const double v = NetBenefitPerGb(s, prices);
    if (best == 0 || v > best_value || (v == best_value && s.level < best)) {
      best = s.level;
      best_value = v;
    }
  }
  return best == 0 ? kStartLevel : best;
}

LevelChoice ChooseLevel(std::span<const LevelStats> history, const LevelPrices& prices,
                        const UniformSource& uniform, const Exploration& rates) {
  LevelChoice c;
  c.best = BestLevel(history, prices);
  c.level = c.best;
  const double u = uniform();
  int distance = 0;
  if (u < rates.step1) {
    distance = 1;
  } else if (u < rates.step1 + rates.step2) {
    distance = 2;
  } else if (u < rates.step1 + rates.step2 + rates.step3) {
    distance = 3;
  }
  if (distance == 0) return c;
  int level = c.best + (uniform() < 0.5 ? -distance : distance);
  // Beyond the range: the same distance the other way (from level 1, -2 is +2).
  if (level < kMinLevel || level > kMaxLevel) level = 2 * c.best - level;
  c.level = level;
  c.step = level - c.best;
  return c;
}

}  // namespace ferry::transport
