// Generated test data, the same for the same seed: text that compresses about 4:1 and random
// bytes that do not compress (an archive stores them raw).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

namespace ferry::testing {

// `n` letters of a four-letter alphabet.
inline std::string Text(size_t n, int seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 16) {
    uint32_t bits = rng();
    for (size_t j = i; j < std::min(n, i + 16); ++j, bits >>= 2) {
      s[j] = static_cast<char>('a' + (bits & 3));
    }
  }
  return s;
}

// `n` random bytes.
inline std::string Random(size_t n, int seed) {
  std::mt19937 rng(static_cast<uint32_t>(seed));
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    const uint32_t bits = rng();
    for (size_t j = i; j < std::min(n, i + 4); ++j) s[j] = static_cast<char>(bits >> (8 * (j - i)));
  }
  return s;
}

}  // namespace ferry::testing
