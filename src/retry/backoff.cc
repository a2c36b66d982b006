#include <algorithm>
#include <chrono>
#include <cstdint>

#include "retry/policy.h"

namespace ferry::retry {

std::chrono::milliseconds BackoffDelay(const Policy& policy, int attempt, uint64_t random_bits) {
  const int64_t max_ms = std::max<int64_t>(0, policy.max_delay.count());
  // Grow the ceiling step by step so large attempt numbers cannot overflow: once the ceiling
  // reaches max_delay it stays there.
  double ceiling = static_cast<double>(std::max<int64_t>(0, policy.initial_delay.count()));
  const double multiplier = std::max(1.0, policy.multiplier);
  for (int i = 1; i < attempt && ceiling < static_cast<double>(max_ms); ++i) ceiling *= multiplier;
  const uint64_t cap = static_cast<uint64_t>(std::min(ceiling, static_cast<double>(max_ms)));
  // Full jitter: uniform in [0, cap]. The modulo bias is at most cap / 2^64: negligible.
  return std::chrono::milliseconds(static_cast<int64_t>(random_bits % (cap + 1)));
}

}  // namespace ferry::retry
