// estimate::StratifiedSampler: picks the objects `ferry estimate` reads from a listing of any
// size, spread across size and content classes, with bounded memory. Each object falls in a
// stratum (content class: the key's extension, at most `max_classes` of them, the rest
// "other"; size class: under 64 KiB, under 1 MiB, under 16 MiB, larger); each stratum counts
// its objects and bytes and keeps a uniform random sample of at most `sample` objects
// (reservoir sampling). Pick then shares `sample` objects out between the strata in proportion
// to their bytes (what compression acts on), every stratum getting at least one.
//
// Memory: strata x `sample` ObjectInfos at most, whatever the listing's length.
// Deterministic for a seed. Thread-safety: one thread at a time.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "storage/backend.h"

namespace ferry::estimate {

// "csv", "json", ... (lower case, at most 8 characters of letters and digits after the last
// '.' of the key's last segment), else "".
std::string ExtensionOf(std::string_view key);
// 0: < 64 KiB, 1: < 1 MiB, 2: < 16 MiB, 3: larger.
int SizeClassOf(uint64_t size);
std::string_view SizeClassName(int size_class);  // "<64KiB", "<1MiB", "<16MiB", ">=16MiB"

struct Stratum {
  std::string content;  // extension, "other" past max_classes, "none" without one
  int size_class = 0;
  uint64_t objects = 0;
  uint64_t bytes = 0;
  std::vector<storage::ObjectInfo> reservoir;  // uniform sample of its objects
};

// One object picked: the stratum it stands for (index into strata()).
struct Picked {
  size_t stratum = 0;
  storage::ObjectInfo object;
};

class StratifiedSampler {
 public:
  explicit StratifiedSampler(size_t sample, uint64_t seed = 1, size_t max_classes = 16);

  void Add(const storage::ObjectInfo& object);
  // At most `sample` objects (every object when there are fewer), at least one per stratum
  // (so more than `sample` when there are more strata), grouped by stratum.
  std::vector<Picked> Pick();

  const std::vector<Stratum>& strata() const { return strata_; }
  // ObjectInfos held now (the memory bound: at most strata() x sample).
  size_t held() const;

 private:
  size_t StratumOf(const storage::ObjectInfo& object);

  size_t sample_;
  size_t max_classes_;
  std::mt19937_64 rng_;
  std::vector<std::string> classes_;  // extensions given a class of their own
  std::vector<Stratum> strata_;
};

}  // namespace ferry::estimate
