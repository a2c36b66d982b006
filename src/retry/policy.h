// Retry policy and the pure backoff computation shared by every layer that retries.
#pragma once

#include <chrono>
#include <cstdint>

namespace ferry::retry {

struct Policy {
  int max_attempts = 8;  // total tries, including the first
  std::chrono::milliseconds initial_delay{100};
  std::chrono::milliseconds max_delay{10000};
  double multiplier = 2.0;
};

// Delay before retry number `attempt` (1 = the first retry): "full jitter" exponential
// backoff, uniform in [0, min(max_delay, initial_delay * multiplier^(attempt-1))].
// `random_bits` is any 64-bit random value (the caller owns randomness, so this is pure).
std::chrono::milliseconds BackoffDelay(const Policy& policy, int attempt, uint64_t random_bits);

}  // namespace ferry::retry
