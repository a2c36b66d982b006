// The adaptive zstd level of compressed transport: per content class
// (content_class.h), a bandit over zstd levels 1..22 whose reward is the net benefit of a
// level, transfer cost saved minus CPU cost, learned from the packs of every worker (the
// history lives in the state database: level_store.h; CPU time is normalized by a benchmark
// so that fast and slow machines share it: level_cpu.h).
//
// The choice (ChooseLevel) exploits the best *trusted* level (tried at least kMinTrials
// times) and explores around it: 12% of batches try +-1 level, 5% +-2, 3% +-3 (the sign at
// random; a step beyond 1..22 goes the other way). Before any level is trusted the best is
// kStartLevel. So the choice climbs towards the level that pays most one trusted neighbour at
// a time, and follows it when prices or data change.
//
// Pure: the random draws come from the caller (tests inject a seeded or scripted source).
// Thread-safe (no state).
#pragma once

#include <cstdint>
#include <functional>
#include <span>

namespace ferry::transport {

// Prices the reward is computed with. The defaults are list prices of a public cloud:
// inter-region transfer $0.02/GB, and a vCPU at about $0.045/hour. CPU seconds are
// *reference* seconds (level_cpu.h). The configuration's [costs] table, when set, fills this.
struct LevelPrices {
  double per_gb = 0.02;               // $ per GB (1e9 bytes) crossing the expensive link
  double per_cpu_second = 0.0000125;  // $ per reference CPU-second
};

// LevelPrices from the cost model's prices (estimate/cost.h: $ per GiB, 2^30 bytes, and $ per
// CPU-second); a negative value keeps that default.
LevelPrices LevelPricesFrom(double per_gib, double per_cpu_second);

inline constexpr int kMinLevel = 1;
inline constexpr int kMaxLevel = 22;
inline constexpr int kStartLevel = 3;        // zstd's default: the best until one is trusted
inline constexpr uint64_t kMinTrials = 10;  // trials of a level before it is trusted

// The history of one level of one class: sums over its trials.
struct LevelStats {
  int level = 0;
  uint64_t trials = 0;
  uint64_t bytes_in = 0;   // raw bytes packed
  uint64_t bytes_out = 0;  // archive bytes (what crosses)
  double cpu_seconds = 0;  // reference CPU-seconds spent
};

// Net benefit in $ per GB packed: (bytes saved x per_gb - CPU x per_cpu_second) / GB in.
// 0 when nothing was packed.
double NetBenefitPerGb(const LevelStats& stats, const LevelPrices& prices);

// The trusted level (trials >= kMinTrials) of highest net benefit per GB (the lower level on a
// tie); kStartLevel when none is trusted. `history` holds at most one row per level, any order.
int BestLevel(std::span<const LevelStats> history, const LevelPrices& prices);

// Exploration rates: the share of batches that try a level 1, 2 or 3 away from the best.
struct Exploration {
  double step1 = 0.12;
  double step2 = 0.05;
  double step3 = 0.03;
};

struct LevelChoice {
  int level = kStartLevel;  // to pack at
  int best = kStartLevel;   // the best trusted level
  int step = 0;             // level - best: 0 = exploiting
};

// Returns a number in [0, 1) each call.
using UniformSource = std::function<double()>;

// The level of the next batch of a class: draws one number to decide between exploiting and a
// step of 1, 2 or 3, and a second one for its sign when it explores.
LevelChoice ChooseLevel(std::span<const LevelStats> history, const LevelPrices& prices,
                        const UniformSource& uniform, const Exploration& rates = {});

}  // namespace ferry::transport
