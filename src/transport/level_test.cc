// The level bandit (level.h) on synthetic data whose best level is known, its exploration
// rates and its minimum trials, with a seeded random source.
#include "transport/level.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <map>
#include <random>
#include <vector>

namespace ferry::transport {
namespace {

// A fake machine and data: packing 1 GB at level L saves 70% x (1 - e^(-L/k)) of it and costs
// c x L^2 reference CPU-seconds; bytes out vary by +-0.3% from batch to batch.
struct FakeData {
  double k = 2.5;
  double c = 2.0;
  LevelStats Pack(int level, std::mt19937_64& gen) const {
    std::uniform_real_distribution<double> noise(-0.003, 0.003);
    const double in = 1e9;
    const double out = in * (1 - 0.7 * (1 - std::exp(-level / k))) * (1 + noise(gen));
    return LevelStats{.level = level,
                      .trials = 1,
                      .bytes_in = static_cast<uint64_t>(in),
                      .bytes_out = static_cast<uint64_t>(out),
                      .cpu_seconds = c * level * level};
  }
  // The level of highest expected net benefit under `prices`.
  int Best(const LevelPrices& prices) const {
    int best = 0;
    double value = 0;
    for (int l = kMinLevel; l <= kMaxLevel; ++l) {
      const double saved = 0.7 * (1 - std::exp(-l / k));
      const double v = saved * prices.per_gb - c * l * l * prices.per_cpu_second;
      if (best == 0 || v > value) {
        best = l;
        value = v;
      }
    }
    return best;
  }
};

// Runs `batches` batches through ChooseLevel, the history kept in memory as the store keeps
// it (sums per level); returns the chosen best level after each batch.
std::vector<int> Simulate(const FakeData& data, const LevelPrices& prices, int batches,
                          uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  UniformSource uniform = [&] { return u(gen); };
  std::map<int, LevelStats> history;
  std::vector<int> best;
  for (int i = 0; i < batches; ++i) {
    std::vector<LevelStats> rows;
    for (const auto& [level, s] : history) rows.push_back(s);
    const LevelChoice c = ChooseLevel(rows, prices, uniform);
    EXPECT_GE(c.level, kMinLevel);
    EXPECT_LE(c.level, kMaxLevel);
    const LevelStats t = data.Pack(c.level, gen);
    LevelStats& h = history[c.level];
    h.level = c.level;
    h.trials += 1;
    h.bytes_in += t.bytes_in;
    h.bytes_out += t.bytes_out;
    h.cpu_seconds += t.cpu_seconds;
    best.push_back(c.best);
  }
  return best;
}

TEST(LevelTest, ConvergesOnTheKnownBestLevel) {
  const FakeData data;
  const LevelPrices prices;
  ASSERT_EQ(data.Best(prices), 7);  // the synthetic data is built so
  for (uint64_t seed : {1u, 2u, 3u}) {
    const std::vector<int> best = Simulate(data, prices, 3000, seed);
    EXPECT_EQ(best.front(), kStartLevel);
    // The last thousand batches all exploit level 7.
    for (size_t i = 2000; i < best.size(); ++i) {
      ASSERT_EQ(best[i], 7) << "seed " << seed << " batch " << i;
    }
  }
}

TEST(LevelTest, FollowsThePrices) {
  // Data that pays for more CPU: cheap CPU makes a high level best; dear transfer too.
  const FakeData data{.k = 6.0, .c = 1.0};
  const LevelPrices prices;
  ASSERT_EQ(data.Best(prices), 12);
  const std::vector<int> best = Simulate(data, prices, 6000, 7);
  EXPECT_EQ(best.back(), 12);
  // CPU ten times dearer: the best level falls.
  const LevelPrices dear{.per_gb = 0.02, .per_cpu_second = 0.000125};
  const int low = data.Best(dear);
  ASSERT_LT(low, 7);
  EXPECT_EQ(Simulate(data, dear, 3000, 7).back(), low);
}

// The cost model's $/GiB becomes the bandit's $/GB (1e9 bytes); negative keeps the default.
TEST(LevelTest, PricesFromTheCostModel) {
  const LevelPrices defaults;
  const LevelPrices none = LevelPricesFrom(-1, -1);
  EXPECT_DOUBLE_EQ(none.per_gb, defaults.per_gb);
  EXPECT_DOUBLE_EQ(none.per_cpu_second, defaults.per_cpu_second);
  const LevelPrices p = LevelPricesFrom(0.09, 0.0001);
  EXPECT_NEAR(p.per_gb, 0.09 * 1e9 / 1073741824.0, 1e-12);
  EXPECT_DOUBLE_EQ(p.per_cpu_second, 0.0001);
  EXPECT_DOUBLE_EQ(LevelPricesFrom(0, -1).per_gb, 0.0);  // a free link: only CPU counts
}

TEST(LevelTest, ExplorationRates) {
  // Every level trusted, 10 clearly best.
  std::vector<LevelStats> history;
  for (int l = kMinLevel; l <= kMaxLevel; ++l) {
    history.push_back(LevelStats{.level = l,
                                 .trials = 50,
                                 .bytes_in = 50'000'000'000,
                                 .bytes_out = l == 10 ? 10'000'000'000ull : 40'000'000'000ull,
                                 .cpu_seconds = 1});
  }
  std::mt19937_64 gen(42);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  UniformSource uniform = [&] { return u(gen); };
  const int n = 200'000;
  std::map<int, int> steps;
  for (int i = 0; i < n; ++i) {
    const LevelChoice c = ChooseLevel(history, LevelPrices{}, uniform);
    ASSERT_EQ(c.best, 10);
    ASSERT_EQ(c.level, c.best + c.step);
    ++steps[c.step];
  }
  auto share = [&](int step) { return static_cast<double>(steps[step]) / n; };
  // Binomial standard deviations at n = 200,000 are under 0.001.
  EXPECT_NEAR(share(0), 0.80, 0.005);
  EXPECT_NEAR(share(-1) + share(1), 0.12, 0.004);
  EXPECT_NEAR(share(-2) + share(2), 0.05, 0.003);
  EXPECT_NEAR(share(-3) + share(3), 0.03, 0.003);
  EXPECT_NEAR(share(1), share(-1), 0.004);
  EXPECT_NEAR(share(3), share(-3), 0.003);
  EXPECT_EQ(steps.size(), 7u);  // nothing further than 3 away
}

TEST(LevelTest, StepsBeyondTheRangeGoTheOtherWay) {
  std::vector<LevelStats> history = {
      LevelStats{.level = 1, .trials = 10, .bytes_in = 1000, .bytes_out = 10, .cpu_seconds = 0}};
  // u = 0.15: a step of 2; then 0.1 < 0.5: downwards, reflected to upwards.
  std::array<double, 2> draws = {0.15, 0.1};
  size_t next = 0;
  UniformSource scripted = [&] { return draws[next++]; };
  const LevelChoice c = ChooseLevel(history, LevelPrices{}, scripted);
  EXPECT_EQ(c.best, 1);
  EXPECT_EQ(c.level, 3);
  EXPECT_EQ(c.step, 2);
}

TEST(LevelTest, ALevelIsTrustedOnlyAfterTenTrials) {
  // Level 3 trusted and fair; level 9 far better but tried nine times.
  std::vector<LevelStats> history = {
      LevelStats{.level = 3, .trials = 40, .bytes_in = 40'000'000'000,
                 .bytes_out = 20'000'000'000, .cpu_seconds = 100},
      LevelStats{.level = 9, .trials = 9, .bytes_in = 9'000'000'000,
                 .bytes_out = 1'000'000'000, .cpu_seconds = 30},
      // Level 12 is even better but has a single trial.
      LevelStats{.level = 12, .trials = 1, .bytes_in = 1'000'000'000, .bytes_out = 1,
                 .cpu_seconds = 1}};
  EXPECT_EQ(BestLevel(history, LevelPrices{}), 3);
  UniformSource exploit = [] { return 0.99; };
  EXPECT_EQ(ChooseLevel(history, LevelPrices{}, exploit).level, 3);
  history[1].trials = 10;
  history[1].bytes_in = 10'000'000'000;
  EXPECT_EQ(BestLevel(history, LevelPrices{}), 9);
  EXPECT_EQ(ChooseLevel(history, LevelPrices{}, exploit).level, 9);
  // Nothing trusted: zstd's default.
  EXPECT_EQ(BestLevel(std::vector<LevelStats>{history[2]}, LevelPrices{}), kStartLevel);
}

TEST(LevelTest, NetBenefitIsSavingMinusCpu) {
  const LevelStats s{.level = 5, .trials = 1, .bytes_in = 2'000'000'000,
                     .bytes_out = 500'000'000, .cpu_seconds = 400};
  // 1.5 GB saved x $0.02 - 400 s x $0.0000125 = $0.03 - $0.005, over 2 GB.
  EXPECT_NEAR(NetBenefitPerGb(s, LevelPrices{}), 0.0125, 1e-12);
  EXPECT_EQ(NetBenefitPerGb(LevelStats{}, LevelPrices{}), 0);
}

}  // namespace
}  // namespace ferry::transport
