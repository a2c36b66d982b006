#include "estimate/sampler.h"

#include <algorithm>
#include <cctype>
#include <cmath>

namespace ferry::estimate {

std::string ExtensionOf(std::string_view key) {
  const size_t slash = key.rfind('/');
  std::string_view name = slash == std::string_view::npos ? key : key.substr(slash + 1);
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 == name.size()) return "";
  std::string_view ext = name.substr(dot + 1);
  if (ext.size() > 8) return "";
  std::string out;
  for (char c : ext) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return "";
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

int SizeClassOf(uint64_t size) {
  if (size < (64ull << 10)) return 0;
  if (size < (1ull << 20)) return 1;
  if (size < (16ull << 20)) return 2;
  return 3;
}

std::string_view SizeClassName(int size_class) {
  static constexpr std::string_view kNames[] = {"<64KiB", "<1MiB", "<16MiB", ">=16MiB"};
  return kNames[std::clamp(size_class, 0, 3)];
}

StratifiedSampler::StratifiedSampler(size_t sample, uint64_t seed, size_t max_classes)
    : sample_(std::max<size_t>(1, sample)), max_classes_(max_classes), rng_(seed) {}

size_t StratifiedSampler::StratumOf(const storage::ObjectInfo& o) {
  std::string content = ExtensionOf(o.key);
  if (content.empty()) {
    content = "none";
  } else if (std::find(classes_.begin(), classes_.end(), content) == classes_.end()) {
    if (classes_.size() < max_classes_) {
      classes_.push_back(content);
    } else {
      content = "other";
    }
  }
  const int size_class = SizeClassOf(o.size);
  for (size_t i = 0; i < strata_.size(); ++i) {
    if (strata_[i].size_class == size_class && strata_[i].content == content) return i;
  }
  strata_.push_back(Stratum{.content = std::move(content),
                            .size_class = size_class,
                            .objects = 0,
                            .bytes = 0,
                            .reservoir = {}});
  return strata_.size() - 1;
}

void StratifiedSampler::Add(const storage::ObjectInfo& o) {
  Stratum& s = strata_[StratumOf(o)];
  ++s.objects;
  s.bytes += o.size;
  if (s.reservoir.size() < sample_) {
    s.reservoir.push_back(o);
    return;
  }
  // Reservoir sampling: the n-th object replaces a kept one with probability sample/n.
  std::uniform_int_distribution<uint64_t> pick(0, s.objects - 1);
  const uint64_t j = pick(rng_);
  if (j < sample_) s.reservoir[j] = o;
}

size_t StratifiedSampler::held() const {
  size_t n = 0;
  for (const Stratum& s : strata_) n += s.reservoir.size();
  return n;
}

std::vector<Picked> StratifiedSampler::Pick() {
  // Shares: one each, then the rest in proportion to bytes (largest remainders), capped by
  // what each reservoir holds.
  const size_t k = strata_.size();
  std::vector<size_t> share(k, 0);
  size_t left = sample_;
  for (size_t i = 0; i < k; ++i) {
    share[i] = std::min<size_t>(1, strata_[i].reservoir.size());
    left -= std::min(left, share[i]);
  }
  while (left > 0) {
    uint64_t open_bytes = 0;
    for (size_t i = 0; i < k; ++i) {
      if (share[i] < strata_[i].reservoir.size())
        open_bytes += std::max<uint64_t>(1, strata_[i].bytes);
    }
    if (open_bytes == 0) break;
    const size_t round = left;
    std::vector<std::pair<double, size_t>> remainders;
    for (size_t i = 0; i < k; ++i) {
      const size_t room = strata_[i].reservoir.size() - share[i];
      if (room == 0) continue;
      const double want = static_cast<double>(round) *
                          static_cast<double>(std::max<uint64_t>(1, strata_[i].bytes)) /
                          static_cast<double>(open_bytes);
      const size_t whole = std::min<size_t>(room, static_cast<size_t>(std::floor(want)));
      share[i] += whole;
      left -= std::min(left, whole);
      if (share[i] < strata_[i].reservoir.size())
        remainders.emplace_back(want - std::floor(want), i);
    }
    std::sort(remainders.begin(), remainders.end(), std::greater<>());
    for (const auto& [frac, i] : remainders) {
      if (left == 0) break;
      ++share[i];
      --left;
    }
    if (left == round) break;  // nothing could take more
  }
  std::vector<Picked> out;
  for (size_t i = 0; i < k; ++i) {
    std::vector<storage::ObjectInfo>& r = strata_[i].reservoir;
    std::shuffle(r.begin(), r.end(), rng_);
    for (size_t j = 0; j < share[i]; ++j) out.push_back(Picked{.stratum = i, .object = r[j]});
  }
  return out;
}

}  // namespace ferry::estimate
